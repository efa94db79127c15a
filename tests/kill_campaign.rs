//! The short kill campaign, in every test run: `scripts/kill-campaign --quick` SIGKILLs
//! `noai tag` 25 times at random moments (and right after the first syncfs) over a generated
//! library, and checks every file is either untouched or fully tagged with its audio unchanged
//! (mutagen and ffmpeg, independently), and that the next run recovers everything. The full
//! campaign (500+ kills) is `scripts/kill-campaign`; its last results are in the README.

use std::path::Path;
use std::process::Command;

#[test]
fn quick_kill_campaign_damages_nothing() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("python3")
        .arg(root.join("scripts/kill-campaign"))
        .args(["--quick", "--noai", env!("CARGO_BIN_EXE_noai")])
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
