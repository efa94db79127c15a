//! The C2PA reference SDK from Python (c2pa-python, through c2pa_sign.py): signing a copy of a
//! sample as another tool would, and the reference reader's verdict on a file, with the test
//! certificates of `common::c2pa`. noai's own reader never vouches for a file these tests judge.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

pub use super::c2pa::Certs;
use super::{text, tool};

const DRIVER: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/common/c2pa_sign.py");

fn driver(args: &[&str]) -> String {
    let out = tool(Command::new("python3").arg(DRIVER).args(args));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("No module named 'c2pa'"),
        "c2pa-python is required by this test: install it with scripts/test (pip install c2pa-python)"
    );
    assert!(
        out.status.success(),
        "c2pa_sign.py {args:?} failed: {}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A root CA and a leaf (and the variants tests/sign.rs needs), in `dir/certs`.
pub fn certs(dir: &Path) -> Certs {
    let d = dir.join("certs");
    std::fs::create_dir_all(&d).unwrap();
    super::c2pa::certs(&d)
}

/// Signs `src` into `dst` with a training-mining assertion (`entries` as JSON, default every
/// `cawg` key notAllowed; `label` default `cawg.training-mining`), Edit intent.
pub fn sign(src: &Path, dst: &Path, c: &Certs, entries: Option<&str>, label: Option<&str>) {
    let mut args = vec![
        "sign",
        src.to_str().unwrap(),
        dst.to_str().unwrap(),
        c.leaf.to_str().unwrap(),
        c.key.to_str().unwrap(),
    ];
    if let Some(e) = entries {
        args.extend(["--entries", e]);
    }
    if let Some(l) = label {
        args.extend(["--label", l]);
    }
    driver(&args);
}

/// The reference reader's view of the active manifest: `{"state": "Valid"|"Trusted"|"Invalid"|
/// null, "codes": [...], "assertions": {label: data}, "manifests": N, "entries": the
/// cawg.training-mining map, "ingredients": N, "first_action", "generator"}`.
pub fn reference(path: &Path, anchors: Option<&Path>) -> Value {
    let mut args = vec!["read", path.to_str().unwrap()];
    if let Some(a) = anchors {
        args.extend(["--anchors", a.to_str().unwrap()]);
    }
    serde_json::from_str(&driver(&args)).expect("c2pa_sign.py read: not JSON")
}

/// Signs `src` into `dst` as another tool (generator `othertool`, entries
/// `cawg.ai_training: allowed`).
pub fn sign_with_other_tool(src: &Path, dst: &Path, c: &Certs) {
    let entries = r#"{"cawg.ai_training": {"use": "allowed"}}"#;
    let (src, dst) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let (leaf, key) = (c.leaf.to_str().unwrap(), c.key.to_str().unwrap());
    driver(&[
        "sign",
        src,
        dst,
        leaf,
        key,
        "--entries",
        entries,
        "--generator",
        "othertool",
    ]);
}

/// Sets the title with mutagen (a tag edit the manifest's hash covers).
pub fn mutagen_set_title(path: &Path, title: &str) {
    let script = "import sys, mutagen\n\
        from mutagen.id3 import TIT2\n\
        p, t = sys.argv[1], sys.argv[2]\n\
        f = mutagen.File(p)\n\
        if p.endswith('.m4a'):\n    f['\\xa9nam'] = [t]\n\
        elif p.endswith('.flac'):\n    f['title'] = [t]\n\
        else:\n    f.tags is None and f.add_tags()\n    f.tags.add(TIT2(encoding=3, text=[t]))\n\
        f.save()\n";
    let out = tool(
        Command::new("python3")
            .args(["-c", script])
            .arg(path)
            .arg(title),
    );
    assert!(out.status.success(), "mutagen edit failed: {}", text(&out));
}
