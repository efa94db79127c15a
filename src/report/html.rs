//! `--format html`: one self-contained page for `report` (and `verify`): the counts by status and
//! container, one row per folder with a bar of its tagged and not-tagged files (most untagged
//! first), and a table of the files that are not tagged, sorted by a click on a column header.
//! CSS and the small sorting script are inline, the page loads nothing (its Content Security
//! Policy forbids it), and every piece of text is escaped by quick-xml's `escape` (`&`, `<`,
//! `>` and both quotes), so it is safe in element content and quoted attributes alike. Paths are shown as
//! in the human output: control characters and bytes that are not UTF-8 as `\u{…}` / `\xNN`.
//! Memory: a count per folder and one row per file that is not tagged (docs/formats.md).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use quick_xml::escape::escape;

use super::{Renderer, paths, wording};
use crate::config::{Config, Job};
use crate::outcome::{FileReport, Summary};
use crate::policy::Status;

pub struct Html {
    out: Box<dyn Write>,
    job: Job,
    roots: Vec<PathBuf>,
    /// Per folder: (not tagged, total).
    folders: BTreeMap<PathBuf, (usize, usize)>,
    /// Files that are not tagged: path, status, container, policy, notes (not yet escaped).
    rows: Vec<[String; 5]>,
}

impl Html {
    pub fn new(cfg: &Config, out: Box<dyn Write>) -> Html {
        Html {
            out,
            job: cfg.job.clone(),
            roots: cfg.walk.roots.sources(),
            folders: BTreeMap::new(),
            rows: Vec::new(),
        }
    }
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}\
h1{margin:0 0 .2em}.meta{color:#666}table{border-collapse:collapse;margin:.5em 0 1.5em}\
th,td{border-bottom:1px solid #ddd;padding:.25em .6em;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right}th{background:#f4f4f4}table.sortable th{cursor:pointer}\
th[data-dir=asc]::after{content:' \\25B2'}th[data-dir=desc]::after{content:' \\25BC'}\
.bar{display:flex;width:16em;height:.9em;background:#eee}.bad{background:#d9534f}\
.ok{background:#5cb85c}td.p{font-family:ui-monospace,monospace;word-break:break-all}";

const SCRIPT: &str = "document.querySelectorAll('table.sortable th').forEach(function(th,i){\
th.addEventListener('click',function(){var t=th.closest('table').tBodies[0],\
asc=th.dataset.dir!=='asc',num=th.classList.contains('n');\
th.parentNode.querySelectorAll('th').forEach(function(h){delete h.dataset.dir});\
th.dataset.dir=asc?'asc':'desc';var rows=Array.prototype.slice.call(t.rows);\
rows.sort(function(a,b){var x=a.cells[i].textContent,y=b.cells[i].textContent,\
c=num?parseFloat(x)-parseFloat(y):x.localeCompare(y);return asc?c:-c});\
rows.forEach(function(r){t.appendChild(r)})})});";

impl Renderer for Html {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        let dir = r.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let e = self.folders.entry(dir).or_default();
        e.1 += 1;
        if r.status != Status::Tagged {
            e.0 += 1;
            let notes = match &r.error {
                Some(err) => err.clone(),
                None => r.notes.join("; "),
            };
            self.rows.push([
                paths::display(&r.path),
                r.status.name().to_string(),
                r.container.map_or("", |c| c.name()).to_string(),
                r.effective_policy.map_or(String::new(), |p| p.to_string()),
                notes,
            ]);
        }
        Ok(())
    }

    fn finish(&mut self, s: &Summary) -> std::io::Result<()> {
        let page = self.page(s);
        self.out.write_all(page.as_bytes())?;
        self.out.flush()
    }
}

impl Html {
    fn page(&self, s: &Summary) -> String {
        let roots: Vec<String> = self.roots.iter().map(|r| paths::display(r)).collect();
        let roots = escape(roots.join(", "));
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>noai {job}: {roots}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
             <h1>noai {job}</h1>\n<p class=\"meta\">{roots} &middot; generated {time} UTC by \
             noai {version}</p>\n<p>{summary}</p>\n",
            job = self.job.name(),
            time = super::clock::utc_now_plain().replace('T', " "),
            version = env!("CARGO_PKG_VERSION"),
            summary = escape(wording::summary_line(&self.job, s)),
        );
        for (title, counts) in [
            ("By status", &s.by_status),
            ("By container", &s.by_container),
        ] {
            let _ = write!(h, "<h2>{title}</h2>\n<table>\n");
            for (k, v) in counts {
                let _ = writeln!(
                    h,
                    "<tr><td>{}</td><td class=\"n\">{v}</td></tr>",
                    escape(*k)
                );
            }
            h.push_str("</table>\n");
        }
        self.folders_table(&mut h);
        self.files_table(&mut h);
        let _ = write!(h, "<script>{SCRIPT}</script>\n</body>\n</html>\n");
        h
    }

    /// Folders with a bar each, most untagged first (then by path).
    fn folders_table(&self, h: &mut String) {
        let mut folders: Vec<_> = self.folders.iter().collect();
        folders.sort_by(|a, b| b.1.0.cmp(&a.1.0).then_with(|| a.0.cmp(b.0)));
        let _ = write!(
            h,
            "<h2>Folders ({})</h2>\n<table class=\"sortable\">\n<thead><tr><th>folder</th>\
             <th class=\"n\">not tagged</th><th class=\"n\">tagged</th><th class=\"n\">total</th>\
             <th>tagged / not tagged</th></tr></thead>\n<tbody>\n",
            folders.len()
        );
        for (dir, &(bad, total)) in folders {
            let bad_pct = if total == 0 {
                0.0
            } else {
                bad as f64 * 100.0 / total as f64
            };
            let _ = writeln!(
                h,
                "<tr><td class=\"p\">{}</td><td class=\"n\">{bad}</td><td class=\"n\">{}</td>\
                 <td class=\"n\">{total}</td><td><div class=\"bar\" title=\"{bad} of {total} not \
                 tagged\"><span class=\"ok\" style=\"width:{:.1}%\"></span><span class=\"bad\" \
                 style=\"width:{bad_pct:.1}%\"></span></div></td></tr>",
                escape(paths::display(dir)),
                total - bad,
                100.0 - bad_pct,
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }

    /// The files that are not tagged, sortable by any column.
    fn files_table(&self, h: &mut String) {
        let _ = write!(
            h,
            "<h2>Files not tagged ({})</h2>\n<table class=\"sortable\" id=\"files\">\n<thead><tr>\
             <th>path</th><th>status</th><th>container</th><th>policy</th><th>notes</th></tr>\
             </thead>\n<tbody>\n",
            self.rows.len()
        );
        for row in &self.rows {
            let cells: Vec<_> = row.iter().map(escape).collect();
            let _ = writeln!(
                h,
                "<tr><td class=\"p\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                cells[0], cells[1], cells[2], cells[3], cells[4]
            );
        }
        h.push_str("</tbody>\n</table>\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name, note or root with markup and both kinds of quotes in it stays text, in the title
    /// and in every table cell.
    #[test]
    fn page_escapes_every_text() {
        let evil = r#"<script>alert('x' & "y")</script>"#;
        let mut html = Html {
            out: Box::new(std::io::sink()),
            job: Job::Report,
            roots: vec![PathBuf::from(evil)],
            folders: BTreeMap::new(),
            rows: Vec::new(),
        };
        let mut r = FileReport::error(
            PathBuf::from(format!("{evil}/a.mp3")),
            None,
            crate::bad!("{evil}"),
        );
        r.status = Status::Untagged;
        html.file(&r).unwrap();
        let page = html.page(&Summary::default());
        let escaped = "&lt;script&gt;alert(&apos;x&apos; &amp; &quot;y&quot;)&lt;/script&gt;";
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains(&format!("<title>noai report: {escaped}</title>")));
        assert!(page.contains(&format!("<td class=\"p\">{escaped}/a.mp3</td>")));
        assert!(page.contains(&format!("<td class=\"p\">{escaped}</td>")));
        assert!(page.contains(&format!("<td>{escaped}</td></tr>")));
        assert_eq!(page.matches("<script>").count(), 1);
    }
}
