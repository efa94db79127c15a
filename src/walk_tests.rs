//! Unit tests of the walk: order, filters, skips, refused roots and leftovers.
use super::*;

fn opts(root: &Path, hidden: bool, follow: bool, excludes: &[&str]) -> WalkOptions {
    let mut b = globset::GlobSetBuilder::new();
    for g in excludes {
        b.add(globset::Glob::new(g).unwrap());
    }
    WalkOptions {
        roots: Roots::Paths(vec![root.to_path_buf()]),
        excludes: b.build().unwrap(),
        hidden,
        follow_symlinks: follow,
    }
}

fn names(w: &[Found]) -> Vec<String> {
    w.iter()
        .map(|f| match f {
            Found::Candidate(p) => format!("+{}", p.file_name().unwrap().to_string_lossy()),
            Found::Skipped(p, s) => {
                format!("-{}:{s:?}", p.file_name().unwrap().to_string_lossy())
            }
            Found::Error(p, _) => format!("!{}", p.display()),
        })
        .collect()
}

#[test]
fn sorted_filtered_and_symlinks_not_followed() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    for f in [
        "b.MP3",
        "a.flac",
        "cover.jpg",
        ".hidden.mp3",
        "sub/c.Opus",
        "demo/x.mp3",
    ] {
        std::fs::create_dir_all(r.join(f).parent().unwrap()).unwrap();
        std::fs::write(r.join(f), b"x").unwrap();
    }
    std::os::unix::fs::symlink(r.join("a.flac"), r.join("link.flac")).unwrap();
    std::fs::write(r.join(".a.flac.noai-journal"), b"").unwrap();
    let mut walker = walk(&opts(r, false, false, &["demo"]));
    let w: Vec<Found> = walker.by_ref().collect();
    assert_eq!(
        names(&w),
        [
            "+a.flac",
            "+b.MP3",
            "-cover.jpg:NotAudio",
            "-link.flac:Symlink",
            "+c.Opus"
        ]
    );
    assert_eq!(walker.leftovers(), vec![r.join(".a.flac.noai-journal")]);
    let w: Vec<Found> = walk(&opts(r, true, true, &[])).collect();
    assert!(names(&w).contains(&"+.hidden.mp3".to_string()));
    assert!(
        !names(&w).contains(&"+link.flac".to_string()),
        "same file once when following"
    );
}

/// Named explicitly, a file that is not audio (or a link, or a FIFO) is an error naming it;
/// the same files inside a walked folder are skipped.
#[test]
fn explicit_paths_that_cannot_be_processed_are_errors() {
    let d = tempfile::tempdir().unwrap();
    let r = d.path();
    std::fs::write(r.join("song.mid"), b"x").unwrap();
    std::fs::write(r.join("a.flac"), b"x").unwrap();
    std::os::unix::fs::symlink(r.join("a.flac"), r.join("link.flac")).unwrap();
    std::fs::create_dir(r.join("dir")).unwrap();
    std::os::unix::fs::symlink(r.join("dir"), r.join("linked-dir")).unwrap();
    for (name, why) in [
        ("song.mid", "not a supported audio file"),
        ("link.flac", "-L"),
        ("linked-dir", "-L"),
    ] {
        let w: Vec<Found> = walk(&opts(&r.join(name), false, false, &[])).collect();
        match &w[..] {
            [Found::Error(p, e)] => {
                assert_eq!(p, &r.join(name));
                assert!(e.message().contains(why), "{e}");
                assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
            }
            other => panic!("{name}: {other:?}"),
        }
    }
    let w: Vec<Found> = walk(&opts(&r.join("link.flac"), false, true, &[])).collect();
    assert_eq!(names(&w), ["+link.flac"], "followed with -L");
    let w: Vec<Found> = walk(&opts(r, false, false, &[])).collect();
    assert_eq!(
        names(&w),
        [
            "+a.flac",
            "-link.flac:Symlink",
            "-linked-dir:NotAudio",
            "-song.mid:NotAudio"
        ]
    );
}
