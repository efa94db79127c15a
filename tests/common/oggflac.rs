//! Ogg FLAC as mutagen reads it (oggflac.py): its Ogg page reader splits the header packets,
//! its Ogg FLAC reader gives the comments; what must survive a tag is everything but ours.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use super::tool_ok;

const DUMP: &str = include_str!("oggflac.py");

/// The dump of `path` (see oggflac.py).
pub fn dump(path: &Path) -> Value {
    let out = tool_ok(Command::new("python3").args(["-c", DUMP]).arg(path));
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("oggflac.py output {out:?}: {e}"))
}

/// The dump without our fields, the page layout and PADDING blocks (the count, the types and
/// the last-block flag checked to be consistent first): what a tag or strip must keep. An edit
/// may add a PADDING block after the comment block, which raises a known header count.
pub fn others(d: &Value) -> Value {
    let (count, packets) = (&d["header_count"], &d["header_packets"]);
    assert!(
        count == 0 || count == packets,
        "header count {count} of {packets}"
    );
    let last = packets.as_u64().unwrap() - 1;
    assert_eq!(
        d["last_flags"],
        serde_json::json!([last]),
        "last-block flag"
    );
    let mut d = d.clone();
    let o = d.as_object_mut().unwrap();
    for k in [
        "ours",
        "header_pages",
        "packets_per_page",
        "header_packets",
        "last_flags",
    ] {
        o.remove(k);
    }
    o["header_count"] = Value::Bool(count != 0);
    let types = o["block_types"].as_array().unwrap();
    o["block_types"] = types.iter().filter(|t| *t != 1).cloned().collect();
    d
}

/// Our fields as `KEY=value`.
pub fn ours(d: &Value) -> Vec<String> {
    d["ours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}={}", f[0].as_str().unwrap(), f[1].as_str().unwrap()))
        .collect()
}
