//! Unit tests of `cross_check`: it names the frame an edit would change, refuses a tag our walk
//! cannot account for, and never lets the XMP packet go.

use super::tests::{edit, edited_in_place, tag_with};
use super::*;
use crate::error::ErrorKind;

/// The message of a refusal; a failed check is `refused` at its source, not only through
/// `in_check`.
fn refusal<T: std::fmt::Debug>(r: Result<T>) -> String {
    let e = r.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Refused, "{e}");
    e.into_message()
}

#[test]
fn cross_check_names_the_frame_that_would_change() {
    let old = tag_with(id3::Version::Id3v24, &[("MOOD", "calm")], 512);
    let e = edit(&[("TDM-RESERVATION", "1")]);
    let new = edited_in_place(&old, &e);
    cross_check(&old, &new, &e).unwrap();
    // Change the title's text in the new tag: the check must name TIT2.
    let at = new.windows(4).position(|w| w == b"TIT2").unwrap();
    let mut changed = new.clone();
    changed[at + 12] ^= 0x20;
    let err = refusal(cross_check(&old, &changed, &e));
    assert!(err.contains("TIT2"), "{err}");
    // Drop the MOOD TXXX (not ours) from the new tag: the check must refuse.
    let tag = parse(&new).unwrap();
    let mood = tag
        .spans
        .iter()
        .find(|s| tag.user_text(s).is_ok_and(|f| f.key == "MOOD"))
        .unwrap();
    let mut body = tag.frames.clone();
    body.drain(mood.clone());
    let dropped = assemble(4, 0, &body, Some(new.len())).unwrap();
    refusal(cross_check(&old, &dropped, &e));
    // An old tag we cannot account for is refused.
    let mut junk = old.clone();
    let end = junk.len() - 1;
    junk[end] = 1;
    let err = refusal(cross_check(&junk, &new, &e));
    assert!(err.contains("not fully understood"), "{err}");
}

#[test]
fn cross_check_of_a_new_tag_and_of_a_dropped_xmp_packet() {
    let e = edit(&[("TDM-RESERVATION", "1")]);
    let fresh = carry::new_tag_carrying(&e, true, &[]).unwrap();
    cross_check(&[], &fresh, &e).unwrap();
    let old = tag_with(id3::Version::Id3v23, &[], 512);
    assert!(parse(&old).unwrap().xmp().unwrap().is_some());
    let tag = parse(&old).unwrap();
    let mut body = Vec::new();
    for s in tag.spans.iter().filter(|s| !tag.is_xmp(s)) {
        body.extend_from_slice(&tag.frames[s.clone()]);
    }
    body.extend(frame::encode_user_text(
        frame::Style {
            major: 3,
            unsync: false,
            sizes: Sizes::Plain,
        },
        "TDM-RESERVATION",
        "1",
    ));
    let no_xmp = assemble(3, 0, &body, Some(old.len())).unwrap();
    let err = refusal(cross_check(&old, &no_xmp, &e));
    assert!(err.contains("XMP"), "{err}");
}

#[test]
fn precheck_runs_the_cross_check_only_for_a_dry_run() {
    let mut e = edit(&[("TDM-RESERVATION", "1")]);
    let old = assemble(4, 0, &[], Some(64)).unwrap();
    let new = carry::new_tag_carrying(&e, false, &[]).unwrap();
    let mut junk = old.clone();
    let end = junk.len() - 1;
    junk[end] = 1;
    // A written plan is proven by the write layer: planning does not check it again.
    assert!(!e.precheck);
    precheck(&junk, &new, &e).unwrap();
    // A dry run's plan is never proven, so planning checks it and reports the refusal.
    e.precheck = true;
    let err = refusal(precheck(&junk, &new, &e));
    assert!(err.contains("not fully understood"), "{err}");
}
