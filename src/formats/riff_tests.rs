//! Unit tests of the WAV/AIFF chunk handling on synthetic files.

use super::*;
use crate::formats::testutil::{apply, source_of};

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
    assert!(matches!(plan, Plan::Rewrite { .. }));
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
    };
    assert!(matches!(
        super::plan(&nsrc, &again).unwrap().unwrap(),
        Plan::InPlace { .. }
    ));
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
    match plan(&src, &set()).unwrap().unwrap() {
        Plan::InPlace { offset, bytes } => {
            assert_eq!((offset as usize, bytes.len()), (old.len() - 600, 600))
        }
        p => panic!("{p:?}"),
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
