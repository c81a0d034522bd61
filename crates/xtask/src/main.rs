//! Project automation: `cargo xtask <command>`.
//!
//! - `cargo xtask test`: the one command that runs every test (what `.ci/run` calls).
//! - `cargo xtask conformance scorm-cts`: the ADL SCORM 2004 4th Edition LMS test suite.

mod cts;
mod test_all;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match args.as_slice() {
        ["test", rest @ ..] => test_all::run(rest),
        ["conformance", "scorm-cts", rest @ ..] => cts::run(rest),
        _ => {
            eprintln!(
                "usage:\n  cargo xtask test                      run every test (what .ci/run calls)\n  cargo xtask conformance scorm-cts     run the ADL SCORM 2004 CTS through the run-time and sequencer"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("xtask: {error:#}");
            ExitCode::FAILURE
        }
    }
}
