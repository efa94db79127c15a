//! `report --untagged-only`: bare paths, one per line (escaped for the terminal) or, with `-0`,
//! raw and NUL-separated so `xargs -0 noai tag` gets every name exactly, however odd.

use std::io::Write;
use std::os::unix::ffi::OsStrExt;

use super::{Renderer, paths};
use crate::config::Config;
use crate::outcome::{FileReport, Summary};

pub struct PathList {
    out: Box<dyn Write>,
    null: bool,
}

impl PathList {
    pub fn new(cfg: &Config, out: Box<dyn Write>) -> PathList {
        PathList {
            out,
            null: cfg.output.null,
        }
    }
}

impl Renderer for PathList {
    fn file(&mut self, r: &FileReport) -> std::io::Result<()> {
        if self.null {
            self.out.write_all(r.path.as_os_str().as_bytes())?;
            self.out.write_all(b"\0")
        } else {
            writeln!(self.out, "{}", paths::display(&r.path))
        }
    }

    fn finish(&mut self, _: &Summary) -> std::io::Result<()> {
        self.out.flush()
    }
}
