//! `s3://bucket/prefix`: which bucket, and the raw key prefix. The prefix is a string prefix,
//! not a folder (`s3://b/cat/a` takes `cat/abc.mp3` too), as S3's own listing means it.

use std::path::Path;

/// The scheme every remote path starts with.
pub const SCHEME: &str = "s3://";

/// A bucket and a key prefix (possibly empty: the whole bucket).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub bucket: String,
    pub prefix: String,
}

/// True for a path naming an object or prefix in storage rather than a local file.
pub fn is_remote(path: &Path) -> bool {
    path.as_os_str()
        .as_encoded_bytes()
        .starts_with(SCHEME.as_bytes())
}

impl Location {
    /// Parses `s3://bucket[/prefix]`; an error says what is wrong with it.
    pub fn parse(path: &Path) -> Result<Location, String> {
        let text = path
            .to_str()
            .ok_or_else(|| "an s3:// path must be valid UTF-8".to_string())?;
        let rest = text
            .strip_prefix(SCHEME)
            .ok_or_else(|| format!("not an {SCHEME} path"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let valid = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c);
        if bucket.is_empty() || !bucket.chars().all(valid) {
            return Err(format!(
                "{text}: {bucket:?} is not a bucket name (s3://BUCKET/PREFIX)"
            ));
        }
        Ok(Location {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The path a report shows for the object `key` of this bucket.
    pub fn path_of(&self, key: &str) -> std::path::PathBuf {
        format!("{SCHEME}{}/{key}", self.bucket).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_and_raw_prefix() {
        let l = Location::parse(Path::new("s3://music/cat/a")).unwrap();
        assert_eq!((l.bucket.as_str(), l.prefix.as_str()), ("music", "cat/a"));
        let l = Location::parse(Path::new("s3://music")).unwrap();
        assert_eq!(l.prefix, "");
        let l = Location::parse(Path::new("s3://music/")).unwrap();
        assert_eq!(l.prefix, "", "a trailing slash alone is the whole bucket");
        assert_eq!(l.path_of("a b/ü.mp3"), Path::new("s3://music/a b/ü.mp3"));
        assert!(Location::parse(Path::new("s3:///x")).is_err());
        assert!(Location::parse(Path::new("s3://Bad Bucket/x")).is_err());
        assert!(is_remote(Path::new("s3://b")) && !is_remote(Path::new("./s3:/b")));
    }
}
