//! The command line around the jobs: noai.toml, `--files-from`, evidence logs, progress,
//! completions, help, `--version` and man pages.

mod cli_features;
mod reference;
