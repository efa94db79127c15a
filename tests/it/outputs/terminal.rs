//! The human output cannot be steered by a file's bytes: a tag whose key or value holds escape
//! sequences, a bell or a carriage return (written by mutagen, not by us) is shown by `show` with
//! those characters as `\u{…}`, never raw, so a file cannot retitle the terminal, clear it or
//! overwrite the line that states its status. JSON keeps them, escaped by JSON's rules.

use crate::common;

use std::process::Command;

use common::*;

/// Control characters a terminal acts on.
const ACTIVE: [char; 4] = ['\x1b', '\x07', '\r', '\u{9b}'];

#[test]
fn show_escapes_control_characters_in_keys_and_values() {
    let d = tempdir();
    let f = copy_sample(d.path(), "mp3-noid3.mp3");
    let script = "import sys\nfrom mutagen.id3 import ID3, TXXX\nt = ID3()\n\
                  t.add(TXXX(encoding=3, desc='evil\\x1b]0;pwned\\x07', text=['fine\\rtagged']))\n\
                  t.save(sys.argv[1])\n";
    let out = tool(Command::new("python3").args(["-c", script, p(&f)]));
    assert!(out.status.success(), "mutagen: {out:?}");
    let dump = mutagen(&f).to_string();
    assert!(
        dump.contains("pwned"),
        "mutagen did not write the frame: {dump}"
    );

    let show = noai(&["show", p(&f)]).expect(1);
    assert!(!show.stdout.contains(ACTIVE), "{:?}", show.stdout);
    assert!(
        show.stdout
            .contains("evil\\u{1b}]0;pwned\\u{7} = fine\\u{d}tagged"),
        "{}",
        show.stdout
    );
    let json = noai(&["show", p(&f), "--format", "json"]).expect(1);
    assert!(
        json.stdout.contains("evil\\u001b]0;pwned\\u0007"),
        "{}",
        json.stdout
    );
}
