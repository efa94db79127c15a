//! The container contract (`formats::ContainerFormat`, registry `formats::family`) on every
//! readable sample, for a tag and a strip edit, with and without the XMP packet, restoring the
//! layout or keeping it: the plan that comes with its payload (one walk) is the plan `plan` makes
//! and the payload `payload` names; `strategy()` agrees with the plan; positioned writes stay
//! off the audio; and the edited copy (the plan carried out in memory, on a temp copy) has the
//! same audio packets for ffmpeg and our fields for mutagen (ffprobe for RF64 and Matroska), all
//! independent of our parser.

use std::fs::File;
use std::path::Path;

use noai::formats::{self, Container, Edit, Layout, Plan, Source, family, sniff};
use noai::model::Strategy;

use crate::common::planning::carry_out;

/// The samples every edit must plan (the `broken-*` ones are refused by design).
fn samples() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(crate::common::SAMPLES)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains('.') && !n.starts_with("broken-"))
        .filter(|n| !n.ends_with(".md") && !n.ends_with(".txt"))
        .collect();
    names.sort();
    assert!(names.len() >= 25, "samples missing: {names:?}");
    names
}

const DMI: &str = "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-AIMLTRAINING";

fn edits() -> Vec<(&'static str, Edit)> {
    let keys: Vec<String> = [
        "TDM-RESERVATION",
        "DATAMINING",
        "TDM-POLICY",
        "OTHERCONSTRAINTS",
    ]
    .iter()
    .map(|k| k.to_string())
    .collect();
    let set = vec![
        ("TDM-RESERVATION".to_string(), "1".to_string()),
        ("DATAMINING".to_string(), DMI.to_string()),
    ];
    let edit = |set: &Vec<(String, String)>, xmp, layout| Edit {
        remove: keys.clone(),
        set: set.clone(),
        xmp,
        layout,
        ..Default::default()
    };
    vec![
        ("tag", edit(&set, true, Layout::Restore)),
        ("tag --no-xmp", edit(&set, false, Layout::Keep)),
        ("strip", edit(&Vec::new(), true, Layout::Restore)),
        ("strip (hard links)", edit(&Vec::new(), true, Layout::Keep)),
    ]
}

/// The plan for `edit` through the registry, checked against the contract; `None` when the
/// edit changes nothing.
fn checked_plan(src: &Source, container: Container, edit: &Edit, what: &str) -> Option<Plan> {
    let fam = family(container);
    let planned = fam.plan_with_payload(src, edit).unwrap();
    let plan = fam.plan(src, edit).unwrap();
    assert_eq!(planned.as_ref().map(|p| &p.plan), plan.as_ref(), "{what}");
    let plan = plan?;
    let payload = fam.payload(src).unwrap();
    assert_eq!(
        planned.unwrap().payload,
        payload,
        "{what}: one walk, same payload"
    );
    assert_eq!(
        formats::plan(src, container, edit).unwrap().as_ref(),
        Some(&plan)
    );
    match &plan {
        Plan::Patch { regions } | Plan::Cut { regions, .. } => {
            assert_eq!(plan.strategy(), Strategy::InPlace, "{what}");
            if let Some(len) = plan.cut() {
                assert!(len < src.len(), "{what}: a cut that does not shorten");
                assert!(
                    payload.iter().all(|p| p.end <= len),
                    "{what}: a cut into the audio"
                );
            }
            for w in regions.windows(2) {
                assert!(
                    w[0].offset + w[0].bytes.len() as u64 <= w[1].offset,
                    "{what}"
                );
            }
            for r in regions {
                let end = r.offset + r.bytes.len() as u64;
                assert!(r.offset <= src.len(), "{what}: a write past the end");
                assert!(
                    payload.iter().all(|p| end <= p.start || r.offset >= p.end),
                    "{what}: a write at {}..{end} touches the audio",
                    r.offset
                );
            }
        }
        Plan::Rewrite { .. } => assert_eq!(plan.strategy(), Strategy::Rewrite, "{what}"),
    }
    Some(plan)
}

/// Our fields as a reader we did not write shows them: mutagen (TXXX, Vorbis comment, MP4
/// freeform, APEv2, ASF, DSD's ID3), or ffprobe for RF64 and Matroska, which mutagen does not
/// read.
fn mutagen_ours(path: &Path) -> Vec<(String, String)> {
    let head = crate::common::bytes(path)[..4].to_vec();
    if head == b"RF64" || head == b"BW64" || head == [0x1A, 0x45, 0xDF, 0xA3] {
        let p = crate::common::readers::ffprobe(path);
        return p
            .format
            .into_iter()
            .chain(p.streams)
            .filter(|(k, _)| crate::common::readers::KEYS.contains(&k.as_str()))
            .collect();
    }
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), String::from);
    crate::common::mutagen(path)["ours"]
        .as_array()
        .expect("mutagen_dump.py: no `ours`")
        .iter()
        .map(|f| (text(&f[0]), text(&f[1])))
        .collect()
}

#[test]
fn every_family_keeps_the_contract_on_every_sample() {
    let dir = crate::common::tempdir();
    let mut planned = 0;
    for name in samples() {
        let path = crate::common::copy_sample(dir.path(), &name);
        let f = File::open(&path).unwrap();
        let src = Source::new(&f, f.metadata().unwrap().len());
        let container = sniff::container(&src).unwrap();
        let scan = formats::scan(&src, container).unwrap();
        assert_eq!(scan.carriers, family(container).carriers(&src).unwrap());
        let md5 = crate::common::audio_md5(&path);
        for (i, (label, edit)) in edits().into_iter().enumerate() {
            let what = format!("{name}, {label}");
            let Some(plan) = checked_plan(&src, container, &edit, &what) else {
                continue;
            };
            planned += 1;
            let out = dir.path().join(format!("{i}-{name}"));
            carry_out(&path, &plan, &out);
            assert_eq!(crate::common::audio_md5(&out), md5, "{what}: audio changed");
            let ours = mutagen_ours(&out);
            let reservation = ours.iter().find(|(k, _)| k == "TDM-RESERVATION");
            match edit.set.is_empty() {
                false => assert_eq!(reservation.map(|r| r.1.as_str()), Some("1"), "{what}"),
                true => assert_eq!(reservation, None, "{what}: {ours:?}"),
            }
        }
    }
    assert!(planned >= 60, "only {planned} plans made");
}
