//! The machine formats (`--format junit | github | csv | html`) as a CI system, a spreadsheet or
//! a browser would take them: the binary runs on a temporary copy of a few samples (one tagged,
//! some untagged, one broken, and names with `,` `:` newline and `<script>`), and its output is
//! parsed back with quick-xml / the csv crate or checked line by line.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

use crate::common::{code, copy_as, noai_raw, tempdir};

const SCRIPT_NAME: &str = "<script>alert(1)</script>.mp3";
const ODD_NAME: &str = "odd,name:x\ny.mp3";

/// Root `a`: ok.mp3 (tagged), bare.mp3 (untagged), broken.mp3 (empty: error).
/// Root `b`: SCRIPT_NAME and ODD_NAME, both untagged (a `/` in a name makes a folder).
fn fixture() -> (tempfile::TempDir, PathBuf, PathBuf) {
    let t = tempdir();
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    for (from, to) in [
        ("tagged-no-ai-training.mp3", a.join("ok.mp3")),
        ("mp3-noid3.mp3", a.join("bare.mp3")),
        ("broken-empty.mp3", a.join("broken.mp3")),
        ("mp3-noid3.mp3", b.join(SCRIPT_NAME)),
        ("mp3-noid3.mp3", b.join(ODD_NAME)),
    ] {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        copy_as(t.path(), from, to);
    }
    (t, a, b)
}

/// `noai <args> <roots>`: the exit code and stdout.
fn noai_on(args: &[&str], roots: &[&Path]) -> (i32, String) {
    let mut all: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    all.extend(roots.iter().map(|r| r.as_os_str()));
    let out = noai_raw(&all);
    (code(&out), String::from_utf8(out.stdout).unwrap())
}

fn s(p: &Path) -> String {
    p.to_str().unwrap().to_string()
}

/// An element: name, attributes, children in order.
#[derive(Debug)]
struct Node {
    name: String,
    attrs: BTreeMap<String, String>,
    children: Vec<Node>,
}

fn node(e: &BytesStart) -> Node {
    let attrs = e
        .attributes()
        .map(|a| {
            let a = a.unwrap();
            let k = a.key.as_ref().to_string();
            (
                k,
                a.normalized_value(XmlVersion::Implicit1_0)
                    .unwrap()
                    .into_owned(),
            )
        })
        .collect();
    let name = e.name().as_ref().to_string();
    Node {
        name,
        attrs,
        children: Vec::new(),
    }
}

fn parse_xml(text: &str) -> Node {
    let mut r = quick_xml::Reader::from_str(text);
    let mut stack = vec![Node {
        name: "#document".into(),
        attrs: BTreeMap::new(),
        children: Vec::new(),
    }];
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Start(e) => stack.push(node(&e)),
            Event::Empty(e) => stack.last_mut().unwrap().children.push(node(&e)),
            Event::End(_) => {
                let n = stack.pop().unwrap();
                stack.last_mut().unwrap().children.push(n);
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(stack.len(), 1, "unclosed elements");
    stack.pop().unwrap().children.pop().unwrap()
}

fn need(n: &Node, attrs: &[&str]) {
    for a in attrs {
        assert!(
            n.attrs.contains_key(*a),
            "<{}> lacks {a}: {:?}",
            n.name,
            n.attrs
        );
    }
}

#[test]
fn junit_has_one_suite_per_root_and_a_case_per_file() {
    let (_t, a, b) = fixture();
    let (code, out) = noai_on(&["verify", "--format", "junit"], &[&a, &b]);
    assert_eq!(
        code, 2,
        "exit codes are those of the run: an error outranks findings"
    );
    let doc = parse_xml(&out);
    assert_eq!(doc.name, "testsuites");
    need(&doc, &["tests", "failures", "errors", "time"]);
    assert_eq!(
        (
            &doc.attrs["tests"],
            &doc.attrs["failures"],
            &doc.attrs["errors"]
        ),
        (&"5".to_string(), &"3".to_string(), &"1".to_string())
    );
    assert_eq!(doc.children.len(), 2);
    let mut cases = BTreeMap::new();
    for (suite, root, counts) in [
        (&doc.children[0], &a, ["3", "1", "1"]),
        (&doc.children[1], &b, ["2", "2", "0"]),
    ] {
        assert_eq!(suite.name, "testsuite");
        need(
            suite,
            &[
                "name",
                "tests",
                "failures",
                "errors",
                "skipped",
                "time",
                "timestamp",
            ],
        );
        assert_eq!(suite.attrs["name"], s(root));
        assert_eq!(suite.attrs["skipped"], "0");
        let got = ["tests", "failures", "errors"].map(|k| suite.attrs[k].as_str());
        assert_eq!(got, counts, "{:?}", suite.attrs);
        assert_eq!(
            suite.children.len(),
            suite.attrs["tests"].parse::<usize>().unwrap()
        );
        for case in &suite.children {
            assert_eq!(case.name, "testcase");
            need(case, &["name", "classname", "time"]);
            let kids: Vec<&str> = case.children.iter().map(|c| c.name.as_str()).collect();
            for k in &case.children {
                need(k, &["message", "type"]);
            }
            cases.insert(case.attrs["name"].clone(), (case, kids));
        }
    }
    let kinds = |p: PathBuf| cases[&s(&p)].1.clone();
    assert_eq!(kinds(a.join("ok.mp3")), Vec::<&str>::new());
    assert_eq!(kinds(a.join("bare.mp3")), ["failure"]);
    assert_eq!(kinds(a.join("broken.mp3")), ["error"]);
    assert_eq!(kinds(b.join(SCRIPT_NAME)), ["failure"]);
    assert_eq!(
        kinds(b.join(ODD_NAME)),
        ["failure"],
        "names round-trip exactly"
    );
    let bare = cases[&s(&a.join("bare.mp3"))].0;
    assert_eq!(bare.attrs["classname"], "mp3");
    assert_eq!(bare.children[0].attrs["type"], "untagged");
    let broken = cases[&s(&a.join("broken.mp3"))].0;
    assert_eq!(broken.attrs["classname"], "unknown");
    assert_eq!(
        broken.children[0].attrs["type"], "truncated",
        "an error's type is its code"
    );
}

#[test]
fn junit_of_a_passing_tree_has_no_failures() {
    let (_t, a, _) = fixture();
    let (code, out) = noai_on(&["verify", "--format", "junit"], &[&a.join("ok.mp3")]);
    assert_eq!(code, 0);
    let doc = parse_xml(&out);
    assert_eq!(doc.attrs["tests"], "1");
    assert_eq!(doc.attrs["failures"], "0");
    assert!(doc.children[0].children[0].children.is_empty());
}

#[test]
fn junit_of_a_files_from_list_is_one_suite_named_after_the_list() {
    let (t, a, _) = fixture();
    let list = t.path().join("list.txt");
    let names = [a.join("ok.mp3"), a.join("bare.mp3")].map(|p| s(&p));
    std::fs::write(&list, names.join("\n") + "\n").unwrap();
    let (code, out) = noai_on(
        &["verify", "--format", "junit", "--files-from", &s(&list)],
        &[],
    );
    assert_eq!(code, 1);
    let doc = parse_xml(&out);
    assert_eq!(doc.children.len(), 1);
    assert_eq!(doc.children[0].attrs["name"], s(&list));
    assert_eq!(doc.children[0].attrs["tests"], "2");
    assert_eq!(doc.children[0].attrs["failures"], "1");
}

#[test]
fn csv_parses_back_one_row_per_file() {
    let (_t, a, b) = fixture();
    let (code, out) = noai_on(&["verify", "--format", "csv"], &[&a, &b]);
    assert_eq!(code, 2);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header.join(","),
        "path,container,status,effective_policy,action,strategy,bytes_written,notes,error,error_code,c2pa"
    );
    let rows: BTreeMap<String, csv::StringRecord> = r
        .records()
        .map(|rec| {
            let rec = rec.unwrap();
            assert_eq!(rec.len(), 11);
            (rec[0].to_string(), rec)
        })
        .collect();
    assert_eq!(rows.len(), 5);
    let row = |p: PathBuf| rows[&s(&p)].clone();
    assert_eq!(&row(a.join("ok.mp3"))[2], "tagged");
    assert_eq!(&row(a.join("ok.mp3"))[3], "no-ai-training");
    assert_eq!(&row(a.join("bare.mp3"))[2], "untagged");
    assert_eq!(&row(a.join("broken.mp3"))[2], "error");
    assert!(!row(a.join("broken.mp3"))[8].is_empty());
    assert_eq!(&row(b.join(ODD_NAME))[1], "mp3");
}

#[test]
fn csv_of_a_dry_run_names_the_action() {
    let (_t, a, _) = fixture();
    let (code, out) = noai_on(
        &["tag", "--dry-run", "--format", "csv"],
        &[&a.join("bare.mp3")],
    );
    assert_eq!(code, 1);
    let mut r = csv::Reader::from_reader(out.as_bytes());
    let rec = r.records().next().unwrap().unwrap();
    assert_eq!(&rec[4], "would-write");
    assert!(["in-place", "rewrite"].contains(&&rec[5]));
}

#[test]
fn github_lines_are_escaped_workflow_commands() {
    let (_t, a, b) = fixture();
    let (code, out) = noai_on(&["verify", "--format", "github"], &[&a, &b]);
    assert_eq!(code, 2);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines.len(),
        5,
        "4 failing files + the notice, no line split: {out}"
    );
    for l in &lines[..4] {
        let rest = l.strip_prefix("::error ").expect(l);
        let (props, message) = rest.split_once("::").expect(l);
        assert!(!message.is_empty());
        let keys: Vec<&str> = props
            .split(',')
            .map(|kv| {
                let (k, v) = kv.split_once('=').expect(kv);
                assert!(
                    !v.contains(':') && !v.contains(',') && !v.contains('\n'),
                    "{v}"
                );
                k
            })
            .collect();
        assert_eq!(keys, ["file", "title"]);
    }
    let odd = s(&b.join(ODD_NAME))
        .replace('%', "%25")
        .replace('\n', "%0A")
        .replace(':', "%3A")
        .replace(',', "%2C");
    let odd_line = format!("::error file={odd},title=noai untagged::");
    assert!(lines.iter().any(|l| l.starts_with(&odd_line)), "{out}");
    let broken = format!(
        "::error file={},title=noai error::",
        s(&a.join("broken.mp3"))
    );
    assert!(lines.iter().any(|l| l.starts_with(&broken)), "{out}");
    assert!(
        !out.contains(&s(&a.join("ok.mp3"))),
        "passing files print nothing"
    );
    assert!(
        lines[4].starts_with("::notice title=noai verify::5 audio files"),
        "{}",
        lines[4]
    );
}

#[test]
fn html_is_self_contained_escaped_and_lists_untagged_files() {
    let (_t, a, b) = fixture();
    let (code, out) = noai_on(&["report", "--format", "html"], &[&a, &b]);
    assert_eq!(code, 2);
    assert!(out.starts_with("<!DOCTYPE html>"));
    for bad in [
        "src=", "href=", "url(", "@import", "<link", "<img", "<iframe",
    ] {
        assert!(
            !out.to_ascii_lowercase().contains(bad),
            "external reference {bad}"
        );
    }
    assert_eq!(
        out.matches("<script").count(),
        1,
        "only the inline sorting script"
    );
    assert!(!out.contains("alert(1)</script>"));
    assert!(out.contains("&lt;script&gt;alert(1)&lt;/script&gt;.mp3"));
    assert!(out.contains(&format!("{}</td><td>untagged", s(&a.join("bare.mp3")))));
    assert!(out.contains(&s(&a.join("broken.mp3"))));
    assert!(
        !out.contains(&s(&a.join("ok.mp3"))),
        "tagged files are not listed"
    );
    assert!(out.contains("Files not tagged (4)"));
    // The folder with the most untagged files (`a`: 2 of 3) comes before `b` (1 of 1).
    let (pa, pb) = (
        out.find(&format!(">{}</td>", s(&a))),
        out.find(&format!(">{}</td>", s(&b))),
    );
    assert!(pa.unwrap() < pb.unwrap());
    assert!(out.contains("title=\"2 of 3 not tagged\""));
}

#[test]
fn output_file_works_for_every_format() {
    let (t, a, b) = fixture();
    for (format, start) in [
        ("junit", "<?xml"),
        ("github", "::error"),
        ("csv", "path,"),
        ("html", "<!DOCTYPE html>"),
    ] {
        let file = t.path().join(format!("out.{format}"));
        let (code, out) = noai_on(
            &["verify", "--format", format, "-o", file.to_str().unwrap()],
            &[&a, &b],
        );
        assert_eq!(code, 2, "{format}");
        assert!(out.is_empty(), "{format}: nothing on stdout");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.starts_with(start), "{format}: {text}");
        assert!(text.ends_with('\n'), "{format}");
    }
}
