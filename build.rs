//! Build script: `noai --version` names the git commit it was built from when the crate is built
//! from its own git checkout (`0.1.0 (1a2b3c4)`), and just the version otherwise — a crates
//! tarball or a copy without `.git`, or a machine without git, still builds.

use std::path::Path;
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default();
    println!("cargo:rerun-if-changed=build.rs");
    // Only our own checkout: a tarball unpacked inside some other repository must not borrow
    // that repository's commit.
    let own = git(&["rev-parse", "--show-toplevel"])
        .is_some_and(|top| same_dir(Path::new(&top), Path::new(&manifest_dir)));
    let commit = own
        .then(|| git(&["rev-parse", "--short", "HEAD"]))
        .flatten();
    match commit {
        Some(c) => println!("cargo:rustc-env=NOAI_VERSION={version} ({c})"),
        None => println!("cargo:rustc-env=NOAI_VERSION={version}"),
    }
    if own {
        // Rebuild the version when HEAD moves: HEAD itself (a checkout) and the branch it names
        // (a commit), loose or packed.
        let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
        watched.extend(git(&["symbolic-ref", "-q", "HEAD"]));
        for name in watched {
            if let Some(p) = git(&["rev-parse", "--git-path", &name])
                && Path::new(&p).exists()
            {
                println!("cargo:rerun-if-changed={p}");
            }
        }
    }
}

/// The trimmed output of a successful `git` command, `None` otherwise (no git, not a repo…).
fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let text = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !text.is_empty()).then_some(text)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}
