//! Unit tests of the WAV/AIFF chunk handling on synthetic files.

use super::*;
use crate::formats::testutil::{apply, source_of};
use crate::formats::{Edit, Plan};

fn wav(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut body = b"WAVE".to_vec();
    for (id, data) in chunks {
        body.extend_from_slice(*id);
        body.extend_from_slice(&(data.len() as u32).to_le_bytes());
        body.extend_from_slice(data);
        if data.len() % 2 == 1 {
            body.push(0);
        }
    }
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn set() -> Edit {
    Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "1".into())],
        ..Default::default()
    }
}

fn fields(bytes: &[u8]) -> Vec<crate::formats::RawField> {
    let src = source_of(bytes);
    carriers(&src).unwrap().remove(0).fields
}

#[test]
fn plain_wav_gets_a_new_chunk_and_a_correct_riff_size() {
    let old = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 101])]);
    let src = source_of(&old);
    let plan = plan(&src, &set()).unwrap().unwrap();
    // The chunk is appended (no audio moves): the root size field and the new tail.
    assert!(
        matches!(&plan, Plan::Patch { regions } if regions.len() == 2 && regions[0].offset == 4 && regions[1].offset == old.len() as u64),
        "{plan:?}"
    );
    let new = apply(&old, &plan);
    assert_eq!(
        u32::from_le_bytes(new[4..8].try_into().unwrap()) as usize + 8,
        new.len()
    );
    assert_eq!(fields(&new)[0].value, "1");
    let nsrc = source_of(&new);
    let hash = |s: &Source, b: &[u8]| {
        payload(s)
            .unwrap()
            .iter()
            .flat_map(|r| b[r.start as usize..r.end as usize].to_vec())
            .collect::<Vec<u8>>()
    };
    assert_eq!(
        hash(&src, &old),
        hash(&nsrc, &new),
        "audio chunks identical"
    );
    // The second edit fits in the padding left by the rewrite.
    let again = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "0".into())],
        ..Default::default()
    };
    assert!(
        super::plan(&nsrc, &again)
            .unwrap()
            .unwrap()
            .single()
            .is_some()
    );
}

#[test]
fn odd_data_chunk_without_pad_byte_gets_one() {
    let mut old = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 101])]);
    old.pop();
    let n = old.len() as u32 - 8;
    old[4..8].copy_from_slice(&n.to_le_bytes());
    let src = source_of(&old);
    let new = apply(&old, &plan(&src, &set()).unwrap().unwrap());
    assert_eq!(new[old.len()], 0, "pad byte inserted");
    assert_eq!(&new[old.len() + 1..old.len() + 5], b"id3 ");
    assert_eq!(fields(&new)[0].value, "1");
}

#[test]
fn existing_chunk_with_room_is_edited_in_place() {
    let tag = id3v2::new_tag(&Edit::default(), Some(600)).unwrap();
    let old = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 10]), (b"id3 ", &tag)]);
    let src = source_of(&old);
    let p = plan(&src, &set()).unwrap().unwrap();
    match p.single() {
        Some(r) => assert_eq!((r.offset as usize, r.bytes.len()), (old.len() - 600, 600)),
        None => panic!("{p:?}"),
    }
}

#[test]
fn truncated_and_duplicate_chunks_are_errors() {
    let old = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 100])]);
    let src = source_of(&old[..old.len() - 10]);
    assert!(plan(&src, &set()).is_err());
    let tag = id3v2::new_tag(&set(), Some(100)).unwrap();
    let two = wav(&[(b"data", &[7; 10]), (b"id3 ", &tag), (b"ID3 ", &tag)]);
    let src = source_of(&two);
    assert!(carriers(&src).is_err());
}

/// `edit` covering the XMP chunk too, as the engine plans it for a file with one link.
fn with_xmp(edit: Edit) -> Edit {
    Edit {
        xmp: true,
        layout: crate::formats::Layout::Restore,
        ..edit
    }
}

#[test]
fn xmp_chunk_is_appended_then_edited_in_place() {
    let old = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 10])]);
    let src = source_of(&old);
    let first = apply(&old, &plan(&src, &with_xmp(set())).unwrap().unwrap());
    let src = source_of(&first);
    let c = carriers(&src).unwrap();
    assert!(
        matches!(
            c[0].kind,
            CarrierKind::Xmp {
                place: "_PMX chunk"
            }
        ),
        "{c:?}"
    );
    assert_eq!(c[0].fields[0].value, "1");
    let again = Edit {
        remove: vec!["TDM-RESERVATION".into()],
        set: vec![("TDM-RESERVATION".into(), "0".into())],
        ..Default::default()
    };
    let p = plan(&src, &with_xmp(again)).unwrap().unwrap();
    assert!(
        matches!(&p, Plan::Patch { regions } if regions.iter().all(|r| r.offset + r.bytes.len() as u64 <= first.len() as u64)),
        "both chunks in place"
    );
    let second = apply(&first, &p);
    assert_eq!(second.len(), first.len());
    let c = carriers(&source_of(&second)).unwrap();
    assert!(c.iter().all(|c| {
        c.fields
            .iter()
            .any(|f| f.key == "TDM-RESERVATION" && f.value == "0")
    }));
}

#[test]
fn c2pa_chunk_is_reported() {
    let old = wav(&[
        (b"fmt ", &[1; 16]),
        (b"data", &[7; 10]),
        (b"C2PA", &[0; 12]),
    ]);
    let c = carriers(&source_of(&old)).unwrap();
    assert!(matches!(c[0].kind, CarrierKind::C2pa { .. }), "{c:?}");
}

#[test]
fn last_id3_chunk_grows_into_the_end_of_the_file() {
    let tag = id3v2::new_tag(&Edit::default(), Some(10)).unwrap();
    let old = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 10]), (b"id3 ", &tag)]);
    let src = source_of(&old);
    let plan = plan(&src, &set()).unwrap().unwrap();
    assert!(
        matches!(&plan, Plan::Patch { regions } if regions.iter().all(|r| r.offset < 12 || r.offset >= old.len() as u64 - 18)),
        "{plan:?}"
    );
    let new = apply(&old, &plan);
    assert!(new.len() > old.len());
    assert_eq!(
        &new[..old.len() - 18][12..],
        &old[12..old.len() - 18],
        "fmt and data untouched"
    );
    assert_eq!(
        u32::from_le_bytes(new[4..8].try_into().unwrap()) as usize + 8,
        new.len()
    );
    assert_eq!(fields(&new)[0].value, "1");
}

#[test]
fn unfinalized_wavs_are_refused_with_the_fix() {
    let fmt: (&[u8; 4], &[u8]) = (b"fmt ", &[1; 16]);
    // A recorder that never filled in the data size: 0, with the samples after it.
    let mut zero = wav(&[fmt, (b"data", &[])]);
    zero.extend_from_slice(&[7; 64]);
    let e = plan(&source_of(&zero), &set()).unwrap_err().to_string();
    assert!(e.contains("unfinalized or streamed WAV"), "{e}");
    assert!(e.contains("ffmpeg -i in.wav -c copy out.wav"), "{e}");
    // `ffmpeg ... -f wav pipe:`: every size is 0xFFFFFFFF.
    let mut piped = wav(&[fmt, (b"data", &[7; 64])]);
    piped[4..8].copy_from_slice(&[0xFF; 4]);
    let at = piped.len() - 64 - 4;
    piped[at..at + 4].copy_from_slice(&[0xFF; 4]);
    let e = plan(&source_of(&piped), &set()).unwrap_err().to_string();
    assert!(e.contains("unfinalized or streamed WAV"), "{e}");
    // Only the data size unknown (the RIFF size was fixed up).
    let mut data_only = wav(&[fmt, (b"data", &[7; 64])]);
    data_only[at..at + 4].copy_from_slice(&[0xFF; 4]);
    let e = plan(&source_of(&data_only), &set())
        .unwrap_err()
        .to_string();
    assert!(e.contains("the audio chunk size is unknown"), "{e}");
    // An empty data chunk at the very end is a finished (silent) file and still tagged.
    let empty = wav(&[fmt, (b"data", &[])]);
    assert!(plan(&source_of(&empty), &set()).unwrap().is_some());
}

#[test]
fn bytes_after_the_tag_in_an_id3_chunk_must_be_zeros() {
    let mut data = id3v2::new_tag(&Edit::default(), Some(100)).unwrap();
    data.extend_from_slice(&[0; 20]);
    let zeros = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 10]), (b"id3 ", &data)]);
    assert!(plan(&source_of(&zeros), &set()).unwrap().is_some());
    data.extend_from_slice(b"junk");
    let junk = wav(&[(b"fmt ", &[1; 16]), (b"data", &[7; 10]), (b"id3 ", &data)]);
    let err = plan(&source_of(&junk), &set()).unwrap_err().to_string();
    assert!(err.contains("at byte 120 of the chunk"), "{err}");
}
