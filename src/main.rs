use std::io::{Read, Write};
use std::process::ExitCode;

use clap::Parser;
use datazone_operator::cli::{Cli, Command, ImportPayloadArgs};
use datazone_operator::{crdgen, payload, plan, run, telemetry};

/// Exit status for input the user must fix (the same status clap uses for bad flags).
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Crdgen(args) => {
            crdgen_command(args.out_dir.as_deref(), args.chart_dir.as_deref(), args.api_reference.as_deref())
        }
        Command::ImportPayload(args) => import_payload_command(&args),
        Command::Plan(args) => {
            telemetry::init(datazone_operator::cli::LogFormat::Text);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(error) => return fail(1, &format!("cannot start the async runtime: {error}")),
            };
            match runtime.block_on(plan::plan(args)) {
                Ok(planned) => {
                    print(&planned.report);
                    ExitCode::from(planned.exit)
                }
                Err(error) => fail(1, &error),
            }
        }
        Command::Run(args) => {
            telemetry::init(args.log_format);
            let runtime = match tokio::runtime::Runtime::new() {
                Ok(runtime) => runtime,
                Err(error) => return fail(1, &format!("cannot start the async runtime: {error}")),
            };
            match runtime.block_on(run::run(args)) {
                Ok(()) => ExitCode::SUCCESS,
                Err(error) => {
                    tracing::error!(%error, "operator stopped");
                    fail(1, &error.to_string())
                }
            }
        }
    }
}

fn crdgen_command(
    out_dir: Option<&std::path::Path>,
    chart_dir: Option<&std::path::Path>,
    api_reference: Option<&std::path::Path>,
) -> ExitCode {
    let report = |paths: Vec<std::path::PathBuf>| {
        for path in paths {
            eprintln!("wrote {}", path.display());
        }
    };
    let result = match (out_dir, chart_dir, api_reference) {
        (None, None, None) => crdgen::render_all().map(|yaml| print(&yaml)),
        (dir, chart, reference) => dir
            .map(|d| crdgen::write_files(d).map(report))
            .transpose()
            .and_then(|_| chart.map(|c| crdgen::write_chart_templates(c).map(report)).transpose())
            .and_then(|_| reference.map(|r| crdgen::write_api_reference(r).map(|p| report(vec![p]))).transpose())
            .map(|_| ()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(1, &error.to_string()),
    }
}

fn import_payload_command(args: &ImportPayloadArgs) -> ExitCode {
    let text = match read_input(&args.input) {
        Ok(text) => text,
        Err(error) => return fail(EXIT_BAD_INPUT, &format!("cannot read {}: {error}", args.input)),
    };
    let parsed = match payload::parse_payload(&text) {
        Ok(parsed) => parsed,
        Err(errors) => return fail(EXIT_BAD_INPUT, &format!("invalid payload {}:\n{errors}", args.input)),
    };
    let options = payload::ImportOptions {
        connection: args.connection.clone(),
        connection_kind: args.connection_kind.into(),
        project: args.project.clone(),
        credentials_secret_arn: args.credentials_secret_arn.clone(),
        namespace: args.namespace.clone(),
        deletion_policy: args.deletion_policy.into(),
        data_product: args.data_product,
    };
    let mut products = payload::import(&parsed, &options);
    let comments = if args.discover {
        match discover(args, &mut products) {
            Ok(comments) => comments,
            Err(error) => return fail(1, &error),
        }
    } else {
        vec![None; products.len()]
    };
    let commented: Vec<_> = products.into_iter().zip(comments).collect();
    match payload::render_commented(&commented) {
        Ok(yaml) => {
            print(&yaml);
            ExitCode::SUCCESS
        }
        Err(error) => fail(EXIT_BAD_INPUT, &error.to_string()),
    }
}

/// `--discover`: looks up each dataset's existing data source (read-only), writes the adoptions,
/// says on stderr which dataset got what, and answers the comments to print above the manifests.
fn discover(
    args: &ImportPayloadArgs,
    products: &mut [datazone_operator::crd::RedshiftDataProduct],
) -> Result<Vec<Option<String>>, String> {
    use payload::discover::{self, Found, Reach};
    let reach = Reach {
        region: args.region.clone().unwrap_or_default(),
        domain: args.domain.clone().unwrap_or_default(),
        role_arn: args.role_arn.clone().unwrap_or_default(),
        external_id: args.external_id.clone(),
    };
    telemetry::init(datazone_operator::cli::LogFormat::Text);
    let runtime = tokio::runtime::Runtime::new().map_err(|e| format!("cannot start the async runtime: {e}"))?;
    let found = runtime.block_on(discover::discover(&reach, &args.project, products))?;
    let mut comments = Vec::new();
    for (product, found) in products.iter_mut().zip(&found) {
        let name = product.metadata.name.clone().unwrap_or_default();
        match found {
            Found::Nothing => eprintln!("{name}: no data source to adopt; the operator will create one"),
            Found::One { id, name: ds } => eprintln!("{name}: adopts data source {id} ({ds})"),
            Found::Several(all) | Found::Related(all) => {
                eprintln!("{name}: {} candidate data sources, none adopted; see the comment", all.len())
            }
        }
        comments.push(discover::apply(product, found));
    }
    Ok(comments)
}

fn read_input(input: &str) -> std::io::Result<String> {
    if input == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(input)
    }
}

fn print(text: &str) {
    // A closed stdout (`| head`) is not worth a panic.
    let _ = std::io::stdout().write_all(text.as_bytes());
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
