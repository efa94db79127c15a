//! `--format junit`: JUnit XML as GitLab, Jenkins and the GitHub test reporters ingest it. One
//! `<testsuite>` per PATH given on the command line (a file belongs to the first root that is a
//! prefix of its path), one `<testcase>` per file: a finding gets a `<failure>`, an error an
//! `<error>`, a passing file nothing. A suite states its counts before its test cases, so the
//! cases are held (name, container and, for failures, the message) and written in `finish`;
//! that is the one format whose memory grows with the number of files. Text goes through
//! quick-xml's writer, so it is escaped; characters XML 1.0 cannot carry at all (control
//! characters) become U+FFFD, and a name that lost anything that way (or is not valid UTF-8)
//! carries its bytes as `path_hex=…` in the test case's `<system-out>` (docs/formats.md).

use std::borrow::Cow;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{FileReport, Renderer, Summary, human, paths};
use crate::config::Config;
use crate::policy::Status;

pub struct Junit {
    out: Option<Box<dyn Write>>,
    started: Instant,
    /// Seconds from the start to the previous file.
    last: f64,
    timestamp: String,
    suites: Vec<Suite>,
}

struct Suite {
    root: PathBuf,
    cases: Vec<Case>,
    failures: usize,
    errors: usize,
    /// Seconds spent on this suite's files: the time from the file before each to it.
    time: f64,
}

struct Case {
    name: String,
    classname: &'static str,
    path_hex: Option<String>,
    outcome: Outcome,
}

enum Outcome {
    Pass,
    Failure {
        status: &'static str,
        message: String,
        notes: String,
    },
    Error(String),
}

impl Junit {
    pub fn new(cfg: &Config, out: Box<dyn Write>) -> Junit {
        let suite = |root: &PathBuf| Suite {
            root: root.clone(),
            cases: Vec::new(),
            failures: 0,
            errors: 0,
            time: 0.0,
        };
        Junit {
            out: Some(out),
            started: Instant::now(),
            last: 0.0,
            timestamp: super::html::utc_now(),
            suites: cfg.output.roots.iter().map(suite).collect(),
        }
    }

    /// The suite of the first root that is a prefix of `path` (a new one if none is).
    fn suite_for(&mut self, path: &Path) -> &mut Suite {
        let i = match self.suites.iter().position(|s| path.starts_with(&s.root)) {
            Some(i) => i,
            None => {
                self.suites.push(Suite {
                    root: path.to_path_buf(),
                    cases: Vec::new(),
                    failures: 0,
                    errors: 0,
                    time: 0.0,
                });
                self.suites.len() - 1
            }
        };
        &mut self.suites[i]
    }
}

/// The text of `s` that XML 1.0 can carry: control characters other than tab, newline and
/// carriage return become U+FFFD (quick-xml escapes `<>&'"`, and `\r\n\t` in attributes).
pub(super) fn xml_text(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && !matches!(c, '\t' | '\n' | '\r') || c == '\u{fffe}';
    if s.chars().any(bad) {
        Cow::Owned(
            s.chars()
                .map(|c| if bad(c) { '\u{fffd}' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// The path as test case name, and its bytes in hex when the name cannot show them exactly.
fn case_name(p: &Path) -> (String, Option<String>) {
    let lossy = p.to_string_lossy();
    let name = xml_text(&lossy);
    let exact = matches!((&lossy, &name), (Cow::Borrowed(_), Cow::Borrowed(_)));
    let hex = (!exact).then(|| paths::hex_bytes(p));
    (name.into_owned(), hex)
}

impl Renderer for Junit {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        let (name, path_hex) = case_name(&r.path);
        let outcome = if r.status == Status::Error {
            Outcome::Error(r.error.clone().unwrap_or_else(|| "error".into()))
        } else if r.is_finding() {
            let detail = human::detail(r);
            Outcome::Failure {
                status: r.status.name(),
                message: if detail.is_empty() {
                    r.status.name().to_string()
                } else {
                    detail
                },
                notes: r.notes.join("\n"),
            }
        } else {
            Outcome::Pass
        };
        let now = self.started.elapsed().as_secs_f64();
        let since = now - std::mem::replace(&mut self.last, now);
        let suite = self.suite_for(&r.path);
        suite.time += since;
        match outcome {
            Outcome::Pass => {}
            Outcome::Failure { .. } => suite.failures += 1,
            Outcome::Error(_) => suite.errors += 1,
        }
        suite.cases.push(Case {
            name,
            classname: r.container.map_or("unknown", |c| c.name()),
            path_hex,
            outcome,
        });
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> std::io::Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let mut w = Writer::new_with_indent(out, b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let secs = |t: f64| format!("{t:.3}");
        let total = self.started.elapsed().as_secs_f64();
        let (tests, failures, errors) = self.suites.iter().fold((0, 0, 0), |a, s| {
            (a.0 + s.cases.len(), a.1 + s.failures, a.2 + s.errors)
        });
        debug_assert_eq!(tests, s.files);
        w.create_element("testsuites")
            .with_attributes([
                ("name", "noai"),
                ("tests", tests.to_string().as_str()),
                ("failures", failures.to_string().as_str()),
                ("errors", errors.to_string().as_str()),
                ("skipped", "0"),
                ("time", secs(total).as_str()),
            ])
            .write_inner_content(|w| {
                for (id, suite) in self.suites.iter().enumerate() {
                    write_suite(w, id, suite, &self.timestamp)?;
                }
                Ok(())
            })?;
        let mut out = w.into_inner();
        writeln!(out)?;
        out.flush()
    }
}

fn write_suite<W: Write>(
    w: &mut Writer<W>,
    id: usize,
    suite: &Suite,
    timestamp: &str,
) -> std::io::Result<()> {
    let name = xml_text(&suite.root.to_string_lossy()).into_owned();
    w.create_element("testsuite")
        .with_attributes([
            ("name", name.as_str()),
            ("id", id.to_string().as_str()),
            ("package", "noai"),
            ("timestamp", timestamp),
            ("tests", suite.cases.len().to_string().as_str()),
            ("failures", suite.failures.to_string().as_str()),
            ("errors", suite.errors.to_string().as_str()),
            ("skipped", "0"),
            ("time", format!("{:.3}", suite.time).as_str()),
        ])
        .write_inner_content(|w| {
            for case in &suite.cases {
                write_case(w, case)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn write_case<W: Write>(w: &mut Writer<W>, case: &Case) -> std::io::Result<()> {
    let el = w.create_element("testcase").with_attributes([
        ("classname", case.classname),
        ("name", case.name.as_str()),
        ("time", "0"),
    ]);
    if matches!(case.outcome, Outcome::Pass) && case.path_hex.is_none() {
        el.write_empty()?;
        return Ok(());
    }
    el.write_inner_content(|w| {
        match &case.outcome {
            Outcome::Pass => {}
            Outcome::Failure {
                status,
                message,
                notes,
            } => {
                let message = xml_text(message);
                w.create_element("failure")
                    .with_attributes([("message", message.as_ref()), ("type", *status)])
                    .write_text_content(BytesText::new(&xml_text(notes)))?;
            }
            Outcome::Error(msg) => {
                let msg = xml_text(msg);
                w.create_element("error")
                    .with_attributes([("message", msg.as_ref()), ("type", "error")])
                    .write_text_content(BytesText::new(&msg))?;
            }
        }
        if let Some(hex) = &case.path_hex {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&format!("path_hex={hex}")))?;
        }
        Ok(())
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    #[test]
    fn control_characters_are_replaced_and_flagged() {
        assert_eq!(xml_text("a<b>&\"'\t\n"), "a<b>&\"'\t\n");
        assert_eq!(xml_text("a\x1b[0m\x00"), "a\u{fffd}[0m\u{fffd}");
        assert_eq!(case_name(Path::new("ok/a.mp3")), ("ok/a.mp3".into(), None));
        let (name, hex) = case_name(Path::new(OsStr::from_bytes(b"\xe9\x07.mp3")));
        assert_eq!(name, "\u{fffd}\u{fffd}.mp3");
        assert_eq!(hex.as_deref(), Some("e9072e6d7033"));
    }

    #[test]
    fn attributes_and_text_are_escaped() {
        let mut w = Writer::new(Vec::new());
        let case = Case {
            name: "<a&b\"'>\n.mp3".into(),
            classname: "mp3",
            path_hex: None,
            outcome: Outcome::Error("x < y & z".into()),
        };
        write_case(&mut w, &case).unwrap();
        let xml = String::from_utf8(w.into_inner()).unwrap();
        assert!(
            xml.contains("name=\"&lt;a&amp;b&quot;&apos;&gt;&#10;.mp3\""),
            "{xml}"
        );
        assert!(xml.contains(">x &lt; y &amp; z</error>"), "{xml}");
    }
}
