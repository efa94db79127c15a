//! The reference a user installs: `noai --version` names the commit of a git checkout, and
//! `noai man` prints (or `--out DIR` writes) man pages generated from the same clap definitions
//! as `--help`, so every command and option is in them.

use crate::common;

use std::path::Path;
use std::process::Command;

use common::*;

/// What build.rs sees: the short commit when the crate is its own git checkout.
fn expected_commit() -> Option<String> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let git = |args: &[&str]| {
        let out = Command::new("git")
            .current_dir(dir)
            .args(args)
            .output()
            .ok()?;
        let t = String::from_utf8(out.stdout).ok()?.trim().to_string();
        (out.status.success() && !t.is_empty()).then_some(t)
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let same = Path::new(&top).canonicalize().ok()? == Path::new(dir).canonicalize().ok()?;
    if same {
        git(&["rev-parse", "--short", "HEAD"])
    } else {
        None
    }
}

#[test]
fn version_names_the_commit() {
    let r = noai(&["--version"]).expect(0);
    let want = match expected_commit() {
        Some(c) => format!("noai {} ({c})\n", env!("CARGO_PKG_VERSION")),
        None => format!("noai {}\n", env!("CARGO_PKG_VERSION")),
    };
    assert_eq!(r.stdout, want);
}

#[test]
fn man_page_covers_every_command_and_option() {
    let page = noai(&["man"]).expect(0).stdout;
    assert!(page.contains(".TH noai 1"), "{page}");
    for cmd in [
        "tag",
        "verify",
        "report",
        "show",
        "strip",
        "site",
        "completions",
        "man",
    ] {
        assert!(
            page.contains(&format!("noai\\-{cmd}(1)")),
            "no {cmd}:\n{page}"
        );
    }
    let d = tempdir();
    let out = d.path().join("man1");
    noai(&["man", "--out", p(&out)]).expect(0);
    let verify = std::fs::read_to_string(out.join("noai-verify.1")).expect("noai-verify.1");
    for opt in [
        "allow\\-empty",
        "all\\-fields",
        "files\\-from",
        "policy\\-url",
    ] {
        assert!(
            verify.contains(opt),
            "noai-verify.1 lacks --{opt}:\n{verify}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(out.join("noai.1")).unwrap(),
        page,
        "the printed page is the installed one"
    );
}
