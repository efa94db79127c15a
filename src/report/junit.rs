//! `--format junit`: JUnit XML as GitLab, Jenkins and the GitHub test reporters ingest it. One
//! `<testsuite>` per PATH given on the command line (a file belongs to the first root that is a
//! prefix of its path), one `<testcase>` per file: a finding gets a `<failure>`, an error an
//! `<error>`, a passing file nothing. A suite states its counts before its test cases, so the
//! cases are held (name, container and, for failures, the message) and written in `finish`;
//! that is the one format whose memory grows with the number of files. Text goes through
//! quick-xml's writer, so it is escaped; what XML 1.0 cannot carry at all (control characters,
//! bytes that are not UTF-8) becomes U+FFFD, and a name that lost anything that way carries its
//! bytes as `path_hex=…` in the test case's `<system-out>` (docs/formats.md).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesText, Event};

use super::{Renderer, paths, wording};
use crate::config::{Config, Roots};
use crate::outcome::{FileReport, Summary};
use crate::policy::Status;

pub struct Junit {
    out: Option<Box<dyn Write>>,
    started: Instant,
    /// Seconds from the start to the previous file.
    last: f64,
    timestamp: String,
    suites: Vec<Suite>,
    /// The name of the suite for files under no root (`--files-from`: the list).
    other: PathBuf,
}

struct Suite {
    root: PathBuf,
    /// The catch-all suite: holds the files under none of the roots.
    other: bool,
    cases: Vec<Case>,
    /// Seconds spent on this suite's files: the time from the file before each to it.
    time: f64,
}

struct Case {
    name: String,
    classname: &'static str,
    path_hex: Option<String>,
    /// `None` for a passing file.
    fail: Option<Fail>,
}

/// A `<failure>` (a finding) or an `<error>`, its text already fit for XML.
struct Fail {
    element: &'static str,
    kind: &'static str,
    message: String,
    body: String,
}

impl Fail {
    /// The body is the notes, else the message again.
    fn new(
        element: &'static str,
        kind: &'static str,
        message: String,
        body: Option<String>,
    ) -> Fail {
        let body = body.unwrap_or_else(|| message.clone());
        Fail {
            element,
            kind,
            message,
            body,
        }
    }
}

impl Suite {
    fn new(root: PathBuf, other: bool) -> Suite {
        Suite {
            root,
            other,
            cases: Vec::new(),
            time: 0.0,
        }
    }

    /// How many of the cases have a child `element` (`failure` or `error`).
    fn count(&self, element: &str) -> usize {
        let has = |c: &&Case| c.fail.as_ref().is_some_and(|f| f.element == element);
        self.cases.iter().filter(has).count()
    }
}

impl Junit {
    pub fn new(cfg: &Config, out: Box<dyn Write>) -> Junit {
        let (suites, other) = match &cfg.walk.roots {
            // `--files-from`: one suite, named after the list.
            Roots::List { from, .. } => (Vec::new(), from.clone()),
            Roots::Paths(roots) => (
                roots.iter().map(|r| Suite::new(r.clone(), false)).collect(),
                PathBuf::from("other"),
            ),
        };
        Junit {
            out: Some(out),
            started: Instant::now(),
            last: 0.0,
            timestamp: super::clock::utc_now_plain(),
            suites,
            other,
        }
    }

    /// The suite of the first root that is a prefix of `path`, else the catch-all one.
    fn suite_for(&mut self, path: &Path) -> &mut Suite {
        let found = (self.suites.iter())
            .position(|s| !s.other && path.starts_with(&s.root))
            .or_else(|| self.suites.iter().position(|s| s.other));
        let i = match found {
            Some(i) => i,
            None => {
                self.suites.push(Suite::new(self.other.clone(), true));
                self.suites.len() - 1
            }
        };
        &mut self.suites[i]
    }
}

impl Renderer for Junit {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        let (name, path_hex) = paths::text(&r.path);
        let fail = if r.status == Status::Error {
            let message = paths::plain(r.error.as_deref().unwrap_or("error")).into_owned();
            // `type` is the error's stable code (`corrupt`, `busy`, …).
            let kind = r.error_code.map_or("error", |k| k.code());
            Some(Fail::new("error", kind, message, None))
        } else if r.is_finding() {
            let message = paths::plain(&wording::failure_message(r)).into_owned();
            let notes = (!r.notes.is_empty()).then(|| paths::plain(&r.notes.join("\n")).into());
            Some(Fail::new("failure", r.status.name(), message, notes))
        } else {
            None
        };
        let now = self.started.elapsed().as_secs_f64();
        let since = now - std::mem::replace(&mut self.last, now);
        let suite = self.suite_for(&r.path);
        suite.time += since;
        suite.cases.push(Case {
            name,
            classname: r.container.map_or("unknown", |c| c.name()),
            path_hex,
            fail,
        });
        Ok(())
    }

    fn finish(&mut self, _: &Summary) -> std::io::Result<()> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let mut w = Writer::new_with_indent(out, b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        let secs = |t: f64| format!("{t:.3}");
        let total = self.started.elapsed().as_secs_f64();
        let (tests, failures, errors) = self.suites.iter().fold((0, 0, 0), |a, s| {
            (
                a.0 + s.cases.len(),
                a.1 + s.count("failure"),
                a.2 + s.count("error"),
            )
        });
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
    let name = paths::text(&suite.root).0;
    w.create_element("testsuite")
        .with_attributes([
            ("name", name.as_str()),
            ("id", id.to_string().as_str()),
            ("package", "noai"),
            ("timestamp", timestamp),
            ("tests", suite.cases.len().to_string().as_str()),
            ("failures", suite.count("failure").to_string().as_str()),
            ("errors", suite.count("error").to_string().as_str()),
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
    if case.fail.is_none() && case.path_hex.is_none() {
        el.write_empty()?;
        return Ok(());
    }
    el.write_inner_content(|w| {
        if let Some(f) = &case.fail {
            w.create_element(f.element)
                .with_attributes([("message", f.message.as_str()), ("type", f.kind)])
                .write_text_content(BytesText::new(&f.body))?;
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

    #[test]
    fn attributes_and_text_are_escaped() {
        let mut w = Writer::new(Vec::new());
        let case = Case {
            name: "<a&b\"'>\n.mp3".into(),
            classname: "mp3",
            path_hex: None,
            fail: Some(Fail::new("error", "error", "x < y & z".into(), None)),
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
