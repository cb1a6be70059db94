//! `kubectl-datazone`: the `kubectl datazone` plugin (put it on the PATH; kubectl finds it by its
//! name). Exit status: 0 done, 1 an error; `plan` as `datazone-operator plan` (0 no changes, 2
//! changes, 1 an error).

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use datazone_operator::kubectl::{self, PluginCli, PluginCommand};

fn main() -> ExitCode {
    let cli = PluginCli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start the async runtime: {error}")),
    };
    let done = runtime.block_on(async {
        match cli.command {
            PluginCommand::Status(args) => kubectl::status(args).await.map(|text| (text, 0)),
            PluginCommand::Why(args) => kubectl::why(args).await.map(|text| (text, 0)),
            PluginCommand::Rerun(args) => kubectl::rerun(args).await.map(|text| (text, 0)),
            PluginCommand::Plan(args) => {
                datazone_operator::telemetry::init(datazone_operator::cli::LogFormat::Text);
                datazone_operator::plan::plan(args).await.map(|planned| (planned.report, planned.exit))
            }
        }
    });
    match done {
        Ok((text, code)) => {
            // A closed stdout (`| head`) is not worth a panic.
            let _ = std::io::stdout().write_all(text.as_bytes());
            ExitCode::from(code)
        }
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(1)
}
