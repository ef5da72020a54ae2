//! The `scrollback` binary: the command line, and the full-screen browser
//! when no subcommand is given (and the `tui` feature is built).

fn main() -> std::process::ExitCode {
    #[cfg(feature = "tui")]
    let browse: Option<scrollback::cli::Browse> = Some(scrollback::tui::run);
    #[cfg(not(feature = "tui"))]
    let browse: Option<scrollback::cli::Browse> = None;
    scrollback::cli::main(browse)
}
