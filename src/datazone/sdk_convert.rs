//! Between the AWS SDK's types and the operator's own, for every file that talks through the SDK
//! (the data source calls, the catalog calls, the sessions): its errors as a classified
//! [`DzError`], and metadata forms.

use aws_sdk_datazone::config::http::HttpResponse;
use aws_sdk_datazone::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_datazone::types as dz;

use super::catalog::Form;
use super::{DzError, ErrorClass};

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
