//! C2PA manifests (issue 17, SPEC §6): find a file's manifest store, have the reference SDK
//! (`c2pa` crate, pure-Rust crypto, no network) validate it, and read the active manifest's
//! training-mining assertion, whose values we check ourselves (the SDK does not). The engine
//! calls `inspect` once per file that holds a store; the policy joins the result with the tags.

mod entries;
mod locate;
mod read;

use std::fs::File;

use crate::model::{Container, Scan, SignState, Signed};

pub use entries::parse_assertion;
pub use locate::{mime, store_place};

/// What decides `trusted`: the PEM certificates of the trust anchors the user gave
/// (`--trust-anchors FILE.pem`, `trust-anchors` in noai.toml). Without anchors a good
/// signature is `valid`, never `trusted`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustConfig {
    pub anchors_pem: Option<String>,
}

/// The manifest store of an opened file, validated, or `None` when the file has none. A store
/// that is present but cannot be read comes back `invalid` with the reason, never as `None`.
pub fn inspect(file: &File, scan: &Scan, trust: &TrustConfig) -> Option<Signed> {
    let place = locate::store_place(&scan.carriers)?;
    let Some(mime) = locate::mime(scan.container) else {
        return Some(unreadable(
            place,
            format!("the SDK has no C2PA binding for {}", scan.container.name()),
        ));
    };
    let _one_big_file = big_file_turn(file);
    // A hostile store that makes the SDK panic is unreadable, so `signature-broken`, like any
    // other store the SDK cannot read; never "unsigned", never the end of the run.
    let read = std::panic::catch_unwind(|| read::validate(file, mime, place, trust));
    let read = read.unwrap_or_else(|_| Err("the C2PA SDK failed on this manifest store".into()));
    Some(read.unwrap_or_else(|e| unreadable(place, e)))
}

/// True when the container can carry a manifest store the SDK reads.
pub fn supported(container: Container) -> bool {
    locate::mime(container).is_some()
}

/// Files from this size on are validated one at a time.
const BIG_FILE: u64 = 64 << 20;

/// The SDK holds up to about the whole file (up to ~512 MiB) in memory while it checks the hash
/// (measured: 344 MiB RSS for a 330 MiB signed WAV), so big signed files take turns: the
/// memory of a run stays near one big file's, whatever `--threads` is.
fn big_file_turn(file: &File) -> Option<std::sync::MutexGuard<'static, ()>> {
    static TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let big = file.metadata().is_ok_and(|m| m.len() >= BIG_FILE);
    big.then(|| TURN.lock().unwrap_or_else(|p| p.into_inner()))
}

fn unreadable(place: &'static str, why: String) -> Signed {
    Signed {
        error: Some(why),
        ..Signed::bare(place, SignState::Invalid)
    }
}
