//! Padding in the comment packet: Vorbis (after the framing byte) and Speex take zeros as
//! padding the way mutagen writes it, any other tail is kept exactly, and a rewrite asked for
//! `extra` bytes of padding moves the unchanged audio pages by exactly that much more (so the
//! write layer can clone them block by block).

use super::*;

/// A Vorbis file as a plain encoder writes it: one comment, no padding, comment and setup
/// on one page.
fn plain_vorbis() -> Vec<u8> {
    stream(
        &vorbis_id(),
        &[&vorbis_comment(&["TITLE=t"]), &vorbis_setup(3000)],
        255,
        &[200, 5000, 70],
    )
}

/// The bytes after the comments of a Vorbis or Speex comment packet (framing, padding).
fn tail_of(bytes: &[u8]) -> Vec<u8> {
    let h = with(bytes, |s| Headers::read(s, true)).unwrap();
    let packet = &h.packets[1];
    let magic = if packet.starts_with(b"\x03vorbis") {
        7
    } else {
        0
    };
    let (_, used) = Comments::decode(&packet[magic..]).unwrap();
    packet[magic + used..].to_vec()
}

#[test]
fn vorbis_rewrite_pads_after_the_framing_byte_and_the_next_edit_is_in_place() {
    let orig = plain_vorbis();
    let (plan, tagged) = edit_and_check(&orig, &tag_edit());
    let Plan::Rewrite { parts } = &plan else {
        panic!("{plan:?}")
    };
    assert!(
        matches!(parts.last(), Some(Part::Copy { .. })),
        "one header page before and after: the audio pages are copied, not renumbered: {parts:?}"
    );
    let tail = tail_of(&tagged);
    assert_eq!(tail.len(), 1 + REWRITE_PADDING);
    assert!(
        tail[0] == 1 && tail[1..].iter().all(|&b| b == 0),
        "{tail:?}"
    );
    // The strip shrinks the comments and grows the padding: same pages, in place.
    let (plan, stripped) = edit_and_check(&tagged, &strip_edit());
    assert!(plan.single().is_some(), "{plan:?}");
    assert_eq!(stripped.len(), tagged.len());
    assert_eq!(fields(&stripped), ["TITLE=t"]);
    assert_eq!(tail_of(&stripped)[0], 1, "the framing byte stays first");
}

#[test]
fn a_vorbis_tail_that_is_not_zeros_after_the_framing_byte_is_kept() {
    for extra in [&[1u8, 0, 0, 5][..], &[3], &[1, 0xff]] {
        let mut comment = vorbis_comment(&["TITLE=t"]);
        comment.pop();
        comment.extend_from_slice(extra);
        let orig = stream(&vorbis_id(), &[&comment, &vorbis_setup(100)], 255, &[50]);
        let (plan, out) = edit_and_check(&orig, &tag_edit());
        assert!(matches!(plan, Plan::Rewrite { .. }), "{extra:?}");
        assert_eq!(tail_of(&out), extra, "kept exactly");
    }
}

#[test]
fn speex_zeros_are_padding_and_other_tails_are_kept() {
    let mut padded = block(&["X=y"]);
    padded.resize(padded.len() + 600, 0);
    let orig = stream(&speex_id(), &[&padded], 255, &[30, 30]);
    let (plan, out) = edit_and_check(&orig, &tag_edit());
    assert!(
        plan.single().is_some(),
        "grows into its zeros in place: {plan:?}"
    );
    assert_eq!(out.len(), orig.len());
    let mut odd = block(&["X=y"]);
    odd.extend_from_slice(&[0, 9]);
    let orig = stream(&speex_id(), &[&odd], 255, &[30, 30]);
    let (_, out) = edit_and_check(&orig, &tag_edit());
    assert_eq!(tail_of(&out), [0, 9]);
}

#[test]
fn extra_padding_moves_the_audio_by_exactly_that_much_more() {
    let files = [
        ("vorbis", plain_vorbis()),
        ("opus", opus_file(&["TITLE=song"], 0)),
        (
            "speex",
            stream(&speex_id(), &[&block(&["X=y"])], 255, &[30, 30]),
        ),
    ];
    for (name, orig) in files {
        let base = with(&orig, |s| plan(s, &tag_edit())).unwrap().unwrap();
        let (at, copied) = audio_at(&base);
        assert!(copied, "{name}");
        let mut exact = 0;
        for extra in (-4095..=4096i32).step_by(14) {
            let edit = Edit {
                extra_padding: extra,
                ..tag_edit()
            };
            let (plan, out) = edit_and_check(&orig, &edit);
            let (moved, copied) = audio_at(&plan);
            assert!(copied, "{name} {extra}");
            // A length the lacing skips falls back to the plain rewrite, never to a wrong one.
            if moved == at.checked_add_signed(extra.into()).unwrap() {
                exact += 1;
            } else {
                assert_eq!(moved, at, "{name} {extra}");
            }
            assert!(fields(&out).contains(&"TDM-RESERVATION=1".to_string()));
        }
        assert!(exact >= 580, "{name}: only {exact} of 586 lengths reached");
    }
}

#[test]
fn a_rewrite_keeps_the_page_count_with_less_padding_where_the_last_page_is_nearly_full() {
    // Comment and setup on two pages, the second with 20 segments to spare (about 5 KB): the
    // full 8 KiB of padding would need a third page and renumber every audio page.
    let setup = vorbis_setup(3000);
    let filler = 255 * 255 + 255 * 235 - 7 - setup.len() - vorbis_comment(&["F="]).len();
    let entry = format!("F={}", "f".repeat(filler));
    let comment = vorbis_comment(&[&entry]);
    assert_eq!(page::layout(&[comment.len(), setup.len()]).1, 2);
    let orig = stream(&vorbis_id(), &[&comment, &setup], 255, &[10, 20]);
    let (plan, out) = edit_and_check(&orig, &tag_edit());
    let (at, copied) = audio_at(&plan);
    assert!(copied, "the audio pages are not renumbered: {plan:?}");
    let pad = tail_of(&out).len() - 1;
    assert!((4000..REWRITE_PADDING).contains(&pad), "{pad}");
    // Asked for less padding, the audio moves back by exactly that much; asked for more than
    // the page holds, the plan stays as it was.
    for (extra, moved) in [(-1000i32, at - 1000), (3000, at)] {
        let edit = Edit {
            extra_padding: extra,
            ..tag_edit()
        };
        let (plan, _) = edit_and_check(&orig, &edit);
        assert_eq!(audio_at(&plan), (moved, true), "{extra}");
    }
}
