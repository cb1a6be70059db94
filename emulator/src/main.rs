use clap::Parser;

/// Amazon DataZone, STS and Redshift Data API emulator speaking the real wire protocols.
#[derive(Parser)]
#[command(name = "datazone-emulator", version)]
struct Cli {}

fn main() -> std::process::ExitCode {
    Cli::parse();
    eprintln!("datazone-emulator: the emulator is not implemented in this version");
    std::process::ExitCode::FAILURE
}
