//! What must be refused or reported, never panic: chained, multiplexed and trailing data, audio on
//! the last header page, corrupt or truncated pages, hostile sizes, random damage.

use super::*;

fn plan_err(bytes: &[u8]) -> String {
    with(bytes, |s| plan(s, &tag_edit()))
        .unwrap_err()
        .to_string()
}

#[test]
fn chained_multiplexed_and_trailing_data_are_refused() {
    let one = opus_file(&["A=b"], 0);
    let mut chained = one.clone();
    chained.extend(raw_page(FLAG_BOS, 0, 99, 0, lace(19), &opus_id()));
    assert!(plan_err(&chained).contains("chained"));
    assert!(with(&chained, payload).is_err());
    assert!(
        with(&chained, carriers).is_ok(),
        "reading stays cheap and does not walk the audio"
    );

    let mut muxed = one.clone();
    let at = muxed.len() - pages_of(&one).last().map_or(0, |p| p.0.end() - p.0.offset) as usize;
    muxed.splice(at..at, raw_page(0, 5, 99, 3, lace(10), &[0; 10]));
    assert!(plan_err(&muxed).contains("multiplexed"));

    let mut trailing = one.clone();
    trailing.extend_from_slice(b"TAG");
    trailing.resize(trailing.len() + 125, b' ');
    assert!(plan_err(&trailing).contains("128 bytes after the last Ogg page"));

    let tags = opus_tags(&["A=b"], 600);
    let mut early_eos = raw_page(FLAG_BOS, 0, SERIAL, 0, lace(19), &opus_id());
    let lacing = lace(tags.len());
    early_eos.extend(raw_page(
        FLAG_EOS,
        NO_GRANULE,
        SERIAL,
        1,
        lacing[..2].to_vec(),
        &tags[..510],
    ));
    early_eos.extend(raw_page(
        FLAG_CONTINUED,
        0,
        SERIAL,
        2,
        lacing[2..].to_vec(),
        &tags[510..],
    ));
    let e = with(&early_eos, carriers).unwrap_err().to_string();
    assert!(e.contains("inside its headers"), "{e}");

    let mut after_eos = one.clone();
    after_eos.extend(raw_page(0, 9999, SERIAL, 5, lace(3), &[1, 2, 3]));
    assert!(plan_err(&after_eos).contains("end of the stream"));
}

#[test]
fn audio_on_the_last_header_page_is_refused() {
    let tags = opus_tags(&["A=b"], 0);
    let mut out = raw_page(FLAG_BOS, 0, SERIAL, 0, lace(19), &opus_id());
    let mut lacing = lace(tags.len());
    lacing.push(5);
    out.extend(raw_page(
        0,
        960,
        SERIAL,
        1,
        lacing,
        &[tags.as_slice(), &[0; 5]].concat(),
    ));
    assert!(with(&out, carriers).is_ok());
    assert!(plan_err(&out).contains("also carries audio"));
}

#[test]
fn corrupt_headers_are_errors() {
    let good = opus_file(&["A=b"], 0);
    let mut not_bos = good.clone();
    not_bos[5] = 0;
    let crc = PageHeader {
        flags: 0,
        crc: 0,
        ..with(&not_bos, |s| page::read_header(s, 0)).unwrap()
    };
    let crc = crc.compute_crc(&not_bos[28..47]).to_le_bytes();
    not_bos[22..26].copy_from_slice(&crc);
    assert!(
        with(&not_bos, carriers)
            .unwrap_err()
            .to_string()
            .contains("start of a stream")
    );

    let mut bad_crc = good.clone();
    bad_crc[60] ^= 0x40;
    assert!(
        with(&bad_crc, carriers)
            .unwrap_err()
            .to_string()
            .contains("checksum")
    );

    for cut in [10, 40, 50, 70, good.len() - 5] {
        assert!(
            with(&good[..cut], |s| plan(s, &tag_edit())).is_err(),
            "cut at {cut}"
        );
    }
    assert!(with(&good[..70], carriers).is_err());
    // A page claiming 255 segments of 255 bytes in a short file.
    let mut hostile = good[..47].to_vec();
    hostile.extend(
        raw_page(0, 0, SERIAL, 1, vec![255; 255], &[])
            .iter()
            .take(27 + 255),
    );
    assert!(
        with(&hostile, carriers)
            .unwrap_err()
            .to_string()
            .contains("truncated")
    );
}

#[test]
fn copy_pages_refuses_corrupt_or_partial_pages() {
    let good = opus_file(&["A=b"], 0);
    let start = pages_of(&good)[2].0.offset;
    let len = good.len() as u64 - start;
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&good).unwrap();
    let e = copy_pages(&file, start, len - 1, 1, &mut Vec::new()).unwrap_err();
    assert!(e.to_string().contains("past the end"), "{e}");
    let e = copy_pages(&file, start, len, -100, &mut Vec::new()).unwrap_err();
    assert!(e.to_string().contains("sequence number"), "{e}");
    let mut bad = good.clone();
    bad[start as usize + 30] ^= 1;
    let mut file = tempfile::tempfile().unwrap();
    file.write_all(&bad).unwrap();
    let e = copy_pages(&file, start, len, 1, &mut Vec::new()).unwrap_err();
    assert!(e.to_string().contains("checksum"), "{e}");
}

#[test]
fn random_damage_never_panics() {
    let files = [
        opus_file(&["TITLE=a"], 300),
        stream(
            &vorbis_id(),
            &[&vorbis_comment(&["T=1"]), &vorbis_setup(700)],
            3,
            &[40, 600],
        ),
    ];
    damage_never_panics(&files, 0x9e37_79b9_7f4a_7c15);
}
