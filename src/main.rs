//! The `noai` binary: parse arguments, run, map the outcome to an exit code (0 pass, 1
//! findings, 2 errors, 130 interrupted). A closed pipe (`noai report | head`) is a normal end, not an error.

use clap::Parser;

fn main() {
    noai::heap::tune();
    let cli = noai::cli::Cli::parse();
    let code = match noai::run(cli) {
        Ok(status) => status as i32,
        Err(e) if is_broken_pipe(&e) => 0,
        Err(e) => {
            eprintln!("noai: error: {e:#}");
            2
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
