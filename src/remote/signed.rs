//! C2PA manifests in objects. The SDK checks a manifest's hash over the whole stream it signed,
//! so an object whose scan found a manifest store is read whole, into an unnamed temporary file
//! (`O_TMPFILE`: nothing is left behind, even after a kill), and judged as a local file is.
//! Only signed objects cost a whole download; every other object stays at its head and tail reads.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;

use crate::bad;
use crate::c2pa::{self, TrustConfig};
use crate::error::FileError;
use crate::formats::Source;
use crate::model::{Scan, Signed};

/// One range request at a time of at most this size.
const CHUNK: u64 = 8 << 20;

/// The object's manifest as `verify` judges it, or `None` when the scan found no store.
pub fn inspect(
    src: &Source,
    scan: &Scan,
    trust: &TrustConfig,
) -> Result<Option<Signed>, FileError> {
    if c2pa::store_place(&scan.carriers).is_none() {
        return Ok(None);
    }
    let file = download(src)?;
    Ok(c2pa::inspect(&file, scan, trust))
}

/// The whole object in an unnamed temporary file.
fn download(src: &Source) -> Result<File, FileError> {
    let temp = |e: std::io::Error| {
        bad!(
            IoWrite,
            "cannot keep a temporary copy to check its C2PA manifest in {}: {e}",
            std::env::temp_dir().display()
        )
    };
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(std::env::temp_dir())
        .map_err(temp)?;
    let mut at = 0;
    while at < src.len() {
        let n = CHUNK.min(src.len() - at);
        file.write_all(&src.read(at, n, "the object")?)
            .map_err(temp)?;
        at += n;
    }
    Ok(file)
}
