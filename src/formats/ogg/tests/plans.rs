//! Plans on synthetic streams: Opus in place within padding, rewrites with and without page-count
//! changes, Vorbis framing and Speex extra headers; each plan is applied and the result re-read.

use super::*;

#[test]
fn opus_grows_and_shrinks_in_place_within_padding() {
    let orig = opus_file(&["TITLE=song", "ARTIST=me"], 512);
    let (plan, tagged) = edit_and_check(&orig, &tag_edit());
    assert!(plan.single().is_some_and(|r| r.offset == 47), "{plan:?}");
    assert_eq!(tagged.len(), orig.len());
    let f = fields(&tagged);
    assert_eq!(f[..2], ["TITLE=song", "ARTIST=me"]);
    assert!(f.contains(&"TDM-RESERVATION=1".to_string()));
    let (plan, stripped) = edit_and_check(&tagged, &strip_edit());
    assert!(plan.single().is_some());
    assert_eq!(
        stripped, orig,
        "padding zeroed, so the strip restores the original bytes"
    );
    assert_eq!(with(&stripped, |s| plan_none(s, &strip_edit())), None);
}

fn plan_none(src: &Source, edit: &Edit) -> Option<Plan> {
    plan(src, edit).unwrap()
}

#[test]
fn opus_fits_in_place_exactly_when_the_padding_is_big_enough() {
    let dm = "DATAMINING=http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";
    let need = opus_tags(&["TITLE=x", "TDM-RESERVATION=1", dm], 0).len(); // packet after the edit
    for pad in 0..700 {
        let orig = opus_file(&["TITLE=x"], pad);
        let (plan, out) = edit_and_check(&orig, &tag_edit());
        let old_len = 8 + block(&["TITLE=x"]).len() + pad;
        match plan {
            Plan::Patch { ref regions } if regions.len() == 1 => {
                assert!(old_len >= need, "pad {pad}")
            }
            Plan::Patch { .. } | Plan::Cut { .. } => panic!("Ogg plans one region or a rewrite"),
            Plan::Rewrite { ref parts } => {
                assert!(old_len < need, "pad {pad}");
                let opus = with(&out, |s| Headers::read(s, true)).unwrap();
                assert!(
                    opus.packets[1].len() >= need + REWRITE_PADDING,
                    "rewrite leaves padding"
                );
                assert_eq!(parts[0], Part::Copy { offset: 0, len: 47 });
            }
        }
        assert!(fields(&out).contains(&"TDM-RESERVATION=1".to_string()));
    }
}

#[test]
fn opus_binary_tail_is_kept_and_not_used_as_padding() {
    let mut tags = opus_tags(&["A=b"], 0);
    tags.extend_from_slice(&[1, 2, 3, 4]); // LSB of the first byte set: data to preserve
    let orig = stream(&opus_id(), &[&tags], 255, &[50]);
    let (plan, out) = edit_and_check(&orig, &tag_edit());
    assert!(matches!(plan, Plan::Rewrite { .. }));
    let h = with(&out, |s| Headers::read(s, true)).unwrap();
    assert!(h.packets[1].ends_with(&[1, 2, 3, 4]));
}

#[test]
fn vorbis_rewrite_renumbers_audio_pages_when_the_page_count_changes() {
    let big = format!("COMMENT={}", "x".repeat(3000));
    let orig = stream(
        &vorbis_id(),
        &[&vorbis_comment(&["TITLE=t", &big]), &vorbis_setup(4000)],
        16,
        &[200, 5000, 70],
    );
    let (plan, out) = edit_and_check(&orig, &tag_edit());
    let Plan::Rewrite { parts } = &plan else {
        panic!("{plan:?}")
    };
    assert!(
        matches!(parts[2], Part::OggPages { seq_delta, .. } if seq_delta < 0),
        "{parts:?}"
    );
    let f = fields(&out);
    assert_eq!(f[..2], ["TITLE=t".to_string(), big]);
    let h = with(&out, |s| Headers::read(s, true)).unwrap();
    let tail = &h.packets[1][h.packets[1].len() - REWRITE_PADDING - 1..];
    assert!(
        tail[0] == 1 && tail[1..].iter().all(|&b| b == 0),
        "the framing bit, then the rewrite's padding"
    );
}

#[test]
fn vorbis_grow_that_needs_a_second_header_page_shifts_sequence_numbers_up() {
    // Setup: 201 segments; comment: 54 segments with 20 bytes to spare -> exactly one full page.
    let setup = vorbis_setup(255 * 200 + 10 - 7);
    let filler = 54 * 255 - 20 - vorbis_comment(&["F="]).len();
    let entry = format!("F={}", "f".repeat(filler));
    let comment = vorbis_comment(&[&entry]);
    assert_eq!(page::layout(&[comment.len(), setup.len()]).1, 1);
    let orig = stream(&vorbis_id(), &[&comment, &setup], 255, &[10, 20]);
    let (plan, _) = edit_and_check(&orig, &tag_edit());
    let Plan::Rewrite { parts } = &plan else {
        panic!("{plan:?}")
    };
    assert!(
        matches!(parts[2], Part::OggPages { seq_delta: 1, .. }),
        "{parts:?}"
    );
}

#[test]
fn same_length_vorbis_change_is_in_place_and_unchanged_is_none() {
    let orig = stream(
        &vorbis_id(),
        &[&vorbis_comment(&["TDM-RESERVATION=0"]), &vorbis_setup(100)],
        255,
        &[10],
    );
    let edit = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "1".into())],
        ..Default::default()
    };
    let (plan, out) = edit_and_check(&orig, &edit);
    assert!(plan.single().is_some());
    assert_eq!(with(&out, |s| plan_none(s, &edit)), None);
}

#[test]
fn speex_extra_headers_are_kept() {
    let mut id = speex_id();
    id[68] = 1; // one extra header packet
    let extra = vec![0xabu8; 600];
    let orig = stream(&id, &[&block(&["X=y"]), &extra], 255, &[30, 30]);
    assert_eq!(fields(&orig), ["X=y"]);
    let (plan, out) = edit_and_check(&orig, &tag_edit());
    assert!(matches!(plan, Plan::Rewrite { .. }));
    assert_eq!(
        with(&out, |s| Headers::read(s, true)).unwrap().packets[2],
        extra
    );
    id[68] = 200;
    let hostile = stream(&id, &[&block(&["X=y"])], 255, &[30]);
    assert!(with(&hostile, carriers).is_err());
}

#[test]
fn one_walk_gives_the_plan_and_the_payload() {
    // In place (padding fits) and rewrite (no padding): both find the payload on the same walk.
    for pad in [512, 0] {
        let orig = opus_file(&["TITLE=song"], pad);
        with(&orig, |s| {
            let planned = Ogg.plan_with_payload(s, &tag_edit()).unwrap().unwrap();
            assert_eq!(
                Some(planned.plan),
                plan(s, &tag_edit()).unwrap(),
                "pad {pad}"
            );
            assert_eq!(planned.payload, payload(s).unwrap(), "pad {pad}");
            assert!(!planned.payload.is_empty(), "pad {pad}");
        });
    }
}
