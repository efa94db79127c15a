//! Unit tests of `proof.rs`: the item comparison, the shifted reader, lofty past a hidden head,
//! and a missing ID3v2 tag compared as an empty one.

use super::*;

fn it(name: &str, v: &str) -> Item {
    Item {
        name: name.into(),
        value: v.into(),
    }
}

#[test]
fn compare_names_the_first_difference() {
    let a = [it("x", "1"), it("y", "2")];
    assert!(compare(&a, &a).is_ok());
    let changed = compare(&a, &[it("x", "1"), it("y", "3")]).unwrap_err();
    assert_eq!(
        changed.to_string(),
        "internal check: the write would change the y; not written"
    );
    let dropped = compare(&a, &a[1..]).unwrap_err();
    assert!(
        dropped.to_string().contains("would drop or move the x"),
        "{dropped}"
    );
    let added = compare(&a[..1], &a).unwrap_err();
    assert!(added.to_string().contains("would add the y"), "{added}");
}

#[test]
fn a_shifted_reader_hides_the_head() {
    let mut inner = std::io::Cursor::new(b"HEADbody".to_vec());
    let mut r = Shifted::new(&mut inner, 4).unwrap();
    let mut s = String::new();
    r.read_to_string(&mut s).unwrap();
    assert_eq!(s, "body");
    assert_eq!(r.seek(SeekFrom::End(-2)).unwrap(), 2);
    assert_eq!(r.seek(SeekFrom::Start(1)).unwrap(), 1);
    assert!(r.seek(SeekFrom::Current(-3)).is_err());
}

#[test]
fn lofty_still_sees_the_id3v1_tag_past_the_hidden_head() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sample-audio/mp3-v23-pad.mp3");
    let f = File::open(path).unwrap();
    let mut view = Overlay::plain(&f, f.metadata().unwrap().len());
    let tag = raw::head_tag(&mut view).unwrap().unwrap();
    assert!(raw::has_tail_tags(&mut view).unwrap());
    let mut again = Overlay::plain(&f, f.metadata().unwrap().len());
    let mut old = Shifted::new(&mut view, tag.len() as u64).unwrap();
    let mut new = Shifted::new(&mut again, tag.len() as u64).unwrap();
    // (Its year field is not 4 digits: lofty reads it in its lenient mode, both alike.)
    let (was, now) = lofty_items(Container::Mpeg, &mut old, &mut new, &Edit::default()).unwrap();
    let names: Vec<&str> = was.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(names, ["ID3v1 tag"]);
    assert_eq!(was, now);
}

#[test]
fn a_missing_tag_compares_as_an_empty_one() {
    let edit = Edit::default();
    id3v2::cross_check(raw::EMPTY_TAG, raw::EMPTY_TAG, &edit).unwrap();
}
