//! `noai.toml`: a repository states its policy once, and `tag` and `verify` (locally and in CI)
//! use exactly that. Found in the first root or its nearest ancestor, or given with `--config`.
//! Unknown keys and bad values are errors that name the key and the file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Deserialize;

use crate::policy::Policy;

pub const FILE_NAME: &str = "noai.toml";

/// The settings a config file may hold; every field is optional and flags override it.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct FileConfig {
    pub policy: Option<String>,
    pub policy_url: Option<String>,
    pub constraints: Option<String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    pub hidden: Option<bool>,
    /// `verify`/`report` accept finding no audio file (`--allow-empty`).
    pub allow_empty: Option<bool>,
    /// PEM trust anchors for C2PA manifests (`--trust-anchors`), relative to this file.
    pub trust_anchors: Option<PathBuf>,
    /// `[s3]`: where objects are read from (`s3://` paths); `AWS_*` variables override it.
    pub s3: Option<S3Table>,
    /// `[sign]`: the credentials of `tag --sign`.
    pub sign: Option<SignTable>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

/// The `[s3]` table. Keys and secrets are not settings of a file that may be committed: they
/// come from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` only.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct S3Table {
    /// `AWS_ENDPOINT_URL`: an S3-compatible server (path-style addressing is always used).
    pub endpoint_url: Option<String>,
    /// `AWS_REGION`.
    pub region: Option<String>,
    /// `AWS_ALLOW_HTTP`: accept an `http://` endpoint.
    pub allow_http: Option<bool>,
    /// Extra attempts after a failed request (default 2).
    pub retries: Option<u32>,
    /// Seconds before a request is given up (default 30).
    pub timeout_secs: Option<u64>,
}

/// The `[sign]` table: paths relative to the config file's folder; `always = true` signs on
/// every `tag` without `--sign`.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SignTable {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub tsa: Option<String>,
    pub always: Option<bool>,
}

impl FileConfig {
    /// The policy named in the file, checked.
    pub fn policy(&self) -> Result<Option<Policy>> {
        let Some(name) = &self.policy else {
            return Ok(None);
        };
        match Policy::ALL.into_iter().find(|p| p.name() == name) {
            Some(p) => Ok(Some(p)),
            None => bail!(
                "{}: `policy = {name:?}` is not one of {}",
                self.source_name(),
                Policy::ALL.map(|p| p.name()).join(", ")
            ),
        }
    }

    pub fn source_name(&self) -> String {
        self.source
            .as_ref()
            .map_or_else(|| FILE_NAME.to_string(), |p| p.display().to_string())
    }
}

/// Loads `explicit`, or else the nearest `noai.toml` at or above `start`; none found is fine.
pub fn load(explicit: Option<&Path>, start: &Path) -> Result<FileConfig> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => find(start),
    };
    let Some(path) = path else {
        return Ok(FileConfig::default());
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    parse(&text, &path)
}

pub fn parse(text: &str, path: &Path) -> Result<FileConfig> {
    let mut cfg: FileConfig = toml::from_str(text)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), e.to_string().trim()))?;
    cfg.source = Some(path.to_path_buf());
    cfg.policy()?;
    Ok(cfg)
}

fn find(start: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(start).ok()?;
    let mut dir = if start.is_dir() {
        Some(start.as_path())
    } else {
        start.parent()
    };
    while let Some(d) = dir {
        let candidate = d.join(FILE_NAME);
        if candidate.is_file() {
            return Some(candidate);
        }
        dir = d.parent();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_known_keys() {
        let c = parse("policy = \"license\"\npolicy-url = \"https://a.example/p\"\nexclude = [\"demos/**\"]\nhidden = true\nallow-empty = true\n", Path::new("x/noai.toml")).unwrap();
        assert_eq!(c.policy().unwrap(), Some(Policy::License));
        assert_eq!(c.exclude, ["demos/**"]);
        assert_eq!(c.hidden, Some(true));
        assert_eq!(c.allow_empty, Some(true));
    }

    #[test]
    fn unknown_keys_and_bad_values_name_key_and_file() {
        let e = parse("polcy = \"no-tdm\"\n", Path::new("repo/noai.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("repo/noai.toml") && e.contains("polcy"), "{e}");
        let e = parse("policy = \"no-ai\"\n", Path::new("repo/noai.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("repo/noai.toml") && e.contains("policy"), "{e}");
        let e = parse("hidden = \"yes\"\n", Path::new("repo/noai.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("hidden"), "{e}");
    }

    #[test]
    fn s3_table_and_its_unknown_keys() {
        let c = parse(
            "[s3]\nendpoint-url = \"http://127.0.0.1:9000\"\nregion = \"eu-west-1\"\nallow-http = true\nretries = 1\ntimeout-secs = 5\n",
            Path::new("noai.toml"),
        )
        .unwrap();
        let t = c.s3.unwrap();
        assert_eq!(t.endpoint_url.as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(
            (t.allow_http, t.retries, t.timeout_secs),
            (Some(true), Some(1), Some(5))
        );
        let e = parse("[s3]\nsecret-access-key = \"x\"\n", Path::new("noai.toml"))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("secret-access-key"),
            "keys are never read from the file: {e}"
        );
    }

    #[test]
    fn sign_table_and_its_unknown_keys() {
        let c = parse(
            "[sign]\ncert = \"k/chain.pem\"\nkey = \"k/signer.key\"\nalways = true\n",
            Path::new("noai.toml"),
        )
        .unwrap();
        let t = c.sign.unwrap();
        assert_eq!(t.cert.as_deref(), Some(Path::new("k/chain.pem")));
        assert_eq!(t.always, Some(true));
        let e = parse("[sign]\nprivate-key = \"x\"\n", Path::new("noai.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("private-key"), "{e}");
    }

    #[test]
    fn found_in_an_ancestor() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("a/b")).unwrap();
        std::fs::write(d.path().join(FILE_NAME), "policy = \"no-tdm\"\n").unwrap();
        let c = load(None, &d.path().join("a/b")).unwrap();
        assert_eq!(c.policy().unwrap(), Some(Policy::NoTdm));
    }
}
