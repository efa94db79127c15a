//! `noai man`: the manual pages, generated from the clap definitions (so they never drift from
//! `--help`). Printed to standard output (`noai man | man -l -`), or written with `--out DIR` as
//! `noai.1` plus one `noai-<command>.1` per subcommand, ready for a `man1` folder.

use std::io::Write;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManArgs};

pub fn run(args: &ManArgs) -> Result<()> {
    let cmd = Cli::command();
    match &args.out {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            clap_mangen::generate_to(cmd, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))
        }
        None => {
            // Built as `generate_to` builds it, so the printed page is the installed one.
            let mut cmd = cmd.disable_help_subcommand(true);
            cmd.build();
            let mut out = std::io::stdout().lock();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            out.flush()?;
            Ok(())
        }
    }
}
