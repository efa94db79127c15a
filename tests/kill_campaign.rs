//! The short kill campaigns, in every test run: `scripts/kill-campaign --quick` SIGKILLs
//! `noai tag` 25 times at random moments (and right after the first syncfs) over a generated
//! library, and checks every file is either untouched or fully tagged with its audio unchanged
//! (mutagen and ffmpeg, independently), and that the next run recovers everything. The second
//! campaign kills `noai tag --sign` over the containers C2PA binds (and one it does not): after
//! each recovery every MP3, FLAC, WAV and MP4 must carry a manifest the C2PA SDK validates. The
//! full campaign (500+ kills) is `scripts/kill-campaign`; its last results are in the README.
//! As root, two more run on loop-mounted XFS (reflink) and btrfs images (`--xfs`, `--btrfs`),
//! where rewrites clone the original's extents and the clones are proven by the block maps.

use std::path::Path;
use std::process::Command;

/// Runs `scripts/kill-campaign --quick` with `extra` and asserts it found no damage.
fn campaign(extra: &[&str]) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/kill-campaign"))
        .args(["--quick", "--noai", env!("CARGO_BIN_EXE_noai")])
        .args(extra)
        .output()
        .expect("python3 is required (scripts/test installs the test tools)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "kill campaign failed:\n{text}");
    assert!(text.contains("no file damaged"), "{text}");
}

#[test]
fn quick_kill_campaign_damages_nothing() {
    campaign(&[]);
}

#[test]
fn quick_kill_campaign_of_sign_runs_damages_nothing_and_leaves_every_file_signed() {
    // One track of each MP3, FLAC, WAV and M4A layout, and an Ogg Vorbis (signing not available).
    campaign(&["--sign", "--variants", "mp3,flac,wav,m4a,ogg-vorbis"]);
}

/// The campaign on a loop-mounted image of a file system whose rewrites clone (`--xfs`,
/// `--btrfs`), as root.
fn campaign_on(test: &str, fs: &str) {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("{test}: not run: needs root (loop device, mount); CI runs as root");
        return;
    }
    campaign(&[fs]);
}

#[test]
fn quick_kill_campaign_on_an_xfs_reflink_image_damages_nothing() {
    campaign_on(
        "quick_kill_campaign_on_an_xfs_reflink_image_damages_nothing",
        "--xfs",
    );
}

#[test]
fn quick_kill_campaign_on_a_btrfs_image_damages_nothing() {
    campaign_on(
        "quick_kill_campaign_on_a_btrfs_image_damages_nothing",
        "--btrfs",
    );
}
