//! Between the AWS SDK's types and the operator's own, for every file that talks through the SDK
//! (the data source calls, the catalog calls, the sessions): its errors as a classified
//! [`DzError`], and metadata forms.

use std::collections::BTreeSet;

use aws_sdk_datazone::primitives::{DateTime, DateTimeFormat};
use aws_sdk_datazone::types as dz;

use super::catalog::Form;
use super::{ConnectionInfo, DzError, ErrorClass, Lineage, RunInfo, RunStatus, SchemaFilter, SourceConfig, Storage};
use aws_sdk_datazone::config::http::HttpResponse;
use aws_sdk_datazone::error::{ProvideErrorMetadata, SdkError};

/// Turns any SDK error into a classified [`DzError`].
pub(super) fn sdk_error<E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static>(
    operation: &'static str,
    e: SdkError<E, HttpResponse>,
) -> DzError {
    let status = e.raw_response().map(|r| r.status().as_u16());
    match e.as_service_error() {
        Some(service) => DzError::from_code(
            operation,
            service.code().unwrap_or("Unknown"),
            status,
            service.message().unwrap_or_default(),
        ),
        None => {
            // What went wrong, cause by cause (the request never left when the operator's own
            // credentials could not be had: IRSA refused, no Pod Identity association, …).
            let causes = causes(&e);
            if matches!(e, SdkError::DispatchFailure(_))
                && causes.iter().any(|c| c.to_lowercase().contains("credential"))
            {
                let message = format!("the operator's own AWS credentials could not be had: {}", causes.join(": "));
                return DzError::new(ErrorClass::Terminal, operation, "CredentialsUnavailable", message);
            }
            let message = match &e {
                SdkError::DispatchFailure(_) => format!("request not delivered: {}", causes.join(": ")),
                SdkError::TimeoutError(_) => "request timed out".into(),
                SdkError::ResponseError(_) => "unreadable response".into(),
                other => format!("{other:?}"),
            };
            // A credentials failure (e.g. the role cannot be assumed) is not retried soon.
            let class = if message.contains("AccessDenied") || message.contains("credentials") {
                ErrorClass::Terminal
            } else {
                ErrorClass::Retryable
            };
            DzError::new(class, operation, "RequestFailed", message)
        }
    }
}

/// The messages of an error's sources, outermost first, each once.
fn causes(e: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !text.is_empty() && !out.iter().any(|o| o.contains(&text)) {
            out.push(text);
        }
        next = cause.source();
    }
    if out.is_empty() {
        out.push(e.to_string());
    }
    out
}

/// A form as `FormInput` (content is the JSON string DataZone wants).
fn form_input(f: &Form) -> Option<dz::FormInput> {
    dz::FormInput::builder()
        .form_name(&f.name)
        .type_identifier(&f.type_identifier)
        .set_type_revision(f.type_revision.clone())
        .content(&f.content)
        .build()
        .ok()
}

pub(super) fn form_of(f: &dz::FormOutput) -> Form {
    Form {
        name: f.form_name().to_string(),
        type_identifier: f.type_name().unwrap_or_default().to_string(),
        type_revision: f.type_revision().map(str::to_string),
        content: f.content().unwrap_or_default().to_string(),
    }
}

pub(super) fn forms_input(forms: &[Form]) -> Vec<dz::FormInput> {
    forms.iter().filter_map(form_input).collect()
}

/// A request the SDK refused to build (a required member missing): the operator's own mistake.
pub(super) fn build_error(operation: &'static str, e: impl std::fmt::Display) -> DzError {
    DzError::new(ErrorClass::Terminal, operation, "InvalidRequest", e.to_string())
}

/// A SearchListings filter: `attribute` equals `value`.
pub(super) fn filter(attribute: &str, value: &str) -> Result<dz::FilterClause, DzError> {
    let f = dz::Filter::builder().attribute(attribute).value(value).build();
    f.map(dz::FilterClause::Filter).map_err(|e| build_error("SearchListings", e))
}

/// An ID the model marks optional but every real answer carries; without it the answer is unusable.
pub(super) fn required_id(operation: &'static str, id: Option<&str>) -> Result<String, DzError> {
    id.filter(|id| !id.is_empty())
        .map(str::to_string)
        .ok_or_else(|| DzError::new(ErrorClass::Retryable, operation, "MissingId", "the answer names no ID"))
}

/// A status the model marks optional; an answer without one is shown as such, not guessed.
pub(super) fn status_or_none<T>(word: Option<&str>, parse: fn(&str) -> T) -> T {
    parse(word.unwrap_or("(no status)"))
}

pub(super) fn time(t: Option<&DateTime>) -> Option<String> {
    t.and_then(|t| t.fmt(DateTimeFormat::DateTime).ok())
}

pub(super) fn redshift_input(config: &SourceConfig) -> dz::DataSourceConfigurationInput {
    let filters = config
        .filters
        .iter()
        .map(|f| {
            let expressions = f
                .includes
                .iter()
                .filter_map(|e| {
                    dz::FilterExpression::builder().r#type(dz::FilterExpressionType::Include).expression(e).build().ok()
                })
                .collect();
            dz::RelationalFilterConfiguration::builder()
                .database_name(&config.database)
                .schema_name(&f.schema)
                .set_filter_expressions(Some(expressions))
                .build()
        })
        .filter_map(Result::ok)
        .collect();
    let storage = match &config.storage {
        Storage::Cluster(n) => dz::RedshiftStorage::RedshiftClusterSource(
            dz::RedshiftClusterStorage::builder().cluster_name(n).build().expect("cluster name set"),
        ),
        Storage::Workgroup(n) => dz::RedshiftStorage::RedshiftServerlessSource(
            dz::RedshiftServerlessStorage::builder().workgroup_name(n).build().expect("workgroup name set"),
        ),
    };
    let mut run = dz::RedshiftRunConfigurationInput::builder()
        .set_relational_filter_configurations(Some(filters))
        .redshift_storage(storage);
    if let Ok(credentials) =
        dz::RedshiftCredentialConfiguration::builder().secret_manager_arn(&config.secret_arn).build()
    {
        run = run.redshift_credential_configuration(credentials);
    }
    dz::DataSourceConfigurationInput::RedshiftRunConfiguration(run.build().expect("relational filters set"))
}

pub(super) fn schedule(config: &SourceConfig) -> Option<dz::ScheduleConfiguration> {
    config.schedule.as_ref().map(|(cron, tz)| {
        dz::ScheduleConfiguration::builder().schedule(cron).set_timezone(tz.as_deref().map(dz::Timezone::from)).build()
    })
}

pub(super) fn recommendation(config: &SourceConfig) -> dz::RecommendationConfiguration {
    dz::RecommendationConfiguration::builder().enable_business_name_generation(config.business_name_generation).build()
}

/// Reads a data source's Redshift configuration back into the operator's terms.
pub(super) fn source_config(
    out: &aws_sdk_datazone::operation::get_data_source::GetDataSourceOutput,
) -> Option<SourceConfig> {
    let dz::DataSourceConfigurationOutput::RedshiftRunConfiguration(run) = out.configuration()? else { return None };
    let storage = match run.redshift_storage()? {
        dz::RedshiftStorage::RedshiftClusterSource(c) => Storage::Cluster(c.cluster_name().to_string()),
        dz::RedshiftStorage::RedshiftServerlessSource(w) => Storage::Workgroup(w.workgroup_name().to_string()),
        _ => return None,
    };
    let relational = run.relational_filter_configurations();
    let database = relational.first().map(|f| f.database_name().to_string()).unwrap_or_default();
    let filters = relational
        .iter()
        .map(|f| SchemaFilter {
            schema: f.schema_name().unwrap_or_default().to_string(),
            includes: f
                .filter_expressions()
                .iter()
                .filter(|e| e.r#type() == &dz::FilterExpressionType::Include)
                .map(|e| e.expression().to_string())
                .collect::<BTreeSet<_>>(),
        })
        .collect();
    Some(SourceConfig {
        storage,
        database,
        secret_arn: run
            .redshift_credential_configuration()
            .map(|c| c.secret_manager_arn().to_string())
            .unwrap_or_default(),
        filters,
        publish_on_import: out.publish_on_import().unwrap_or(false),
        business_name_generation: out
            .recommendation()
            .and_then(|r| r.enable_business_name_generation())
            .unwrap_or(false),
        schedule: out
            .schedule()
            .and_then(|s| s.schedule().map(|c| (c.to_string(), s.timezone().map(|t| t.as_str().to_string())))),
        asset_forms: out.asset_forms_output().iter().map(form_of).collect(),
    })
}

pub(super) fn run_info(
    id: &str,
    status: &dz::DataSourceRunStatus,
    started: Option<&DateTime>,
    stopped: Option<&DateTime>,
    stats: Option<&dz::RunStatisticsForAssets>,
    error: Option<&dz::DataSourceErrorMessage>,
) -> RunInfo {
    let n = |v: Option<i32>| i64::from(v.unwrap_or(0));
    RunInfo {
        id: id.to_string(),
        status: RunStatus::parse(status.as_str()),
        started_at: time(started),
        stopped_at: time(stopped),
        added: n(stats.and_then(|s| s.added())),
        updated: n(stats.and_then(|s| s.updated())),
        unchanged: n(stats.and_then(|s| s.unchanged())),
        skipped: n(stats.and_then(|s| s.skipped())),
        failed: n(stats.and_then(|s| s.failed())),
        error: error.map(run_error),
    }
}

/// A run's error as status shows it, the same whether read from the run or from its data source.
pub(super) fn run_error(e: &aws_sdk_datazone::types::DataSourceErrorMessage) -> String {
    format!("{}: {}", e.error_type().as_str(), error_detail(e))
}

pub(super) fn error_detail(e: &aws_sdk_datazone::types::DataSourceErrorMessage) -> String {
    e.error_detail().unwrap_or_default().to_string()
}

pub(super) fn lineage_input(lineage: &Lineage) -> dz::RedshiftLineageSyncConfigurationInput {
    let schedule = lineage.schedule.as_ref().map(|s| dz::LineageSyncSchedule::builder().schedule(s).build());
    dz::RedshiftLineageSyncConfigurationInput::builder().enabled(lineage.enabled).set_schedule(schedule).build()
}

/// A Redshift connection's answer in the operator's terms.
pub(super) fn connection_info(
    id: &str,
    name: &str,
    description: Option<&str>,
    props: Option<&dz::ConnectionPropertiesOutput>,
) -> ConnectionInfo {
    let redshift = match props {
        Some(dz::ConnectionPropertiesOutput::RedshiftProperties(r)) => Some(r),
        _ => None,
    };
    ConnectionInfo {
        id: id.to_string(),
        name: name.to_string(),
        description: description.map(str::to_string),
        status: redshift.and_then(|r| r.status()).map(|s| s.as_str().to_string()),
        secret_arn: match redshift.and_then(|r| r.credentials()) {
            Some(dz::RedshiftCredentials::SecretArn(arn)) => Some(arn.clone()),
            _ => None,
        },
        lineage: redshift.and_then(|r| r.lineage_sync()).map(|l| Lineage {
            enabled: l.enabled().unwrap_or(false),
            schedule: l.schedule().and_then(|s| s.schedule()).map(str::to_string),
        }),
    }
}
