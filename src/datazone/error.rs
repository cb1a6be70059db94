//! DataZone errors, classified the way the controller reacts to them.

use std::fmt;

/// How the controller treats an error (docs/datazone-semantics.md §8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorClass {
    /// Wrong input or permissions: fixed by a person, not by retrying soon.
    Terminal,
    /// Server or network trouble: retried with per-object backoff.
    Retryable,
    /// Rate exceeded: retried, and every caller to the same account and region slows down.
    Throttled,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DzError {
    pub class: ErrorClass,
    /// The service's error code (e.g. AccessDeniedException) or a short description.
    pub code: String,
    pub message: String,
    /// The operation that failed.
    pub operation: &'static str,
}

impl DzError {
    pub fn new(
        class: ErrorClass,
        operation: &'static str,
        code: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self { class, code: code.into(), message: message.into(), operation }
    }

    /// Classifies a service error by its code (and HTTP status when the code is unknown).
    pub fn from_code(operation: &'static str, code: &str, status: Option<u16>, message: &str) -> Self {
        let class = classify(code, status);
        Self::new(class, operation, code, message)
    }

    pub fn is_not_found(&self) -> bool {
        self.code == "ResourceNotFoundException"
    }

    /// Another data source of the project has this name: DataZone answers a ValidationException,
    /// not a conflict (docs/datazone-semantics.md §4).
    pub fn is_name_taken(&self) -> bool {
        self.code == "ValidationException" && self.message.contains("must be unique")
    }

    pub fn is_conflict(&self) -> bool {
        self.code == "ConflictException"
    }

    pub fn is_access_denied(&self) -> bool {
        matches!(self.code.as_str(), "AccessDeniedException" | "AccessDenied")
    }

    /// A CamelCase reason for conditions and Events.
    pub fn reason(&self) -> String {
        match self.code.as_str() {
            "AccessDeniedException" | "AccessDenied" => "AccessDenied".into(),
            "ValidationException" | "ValidationError" => "InvalidRequest".into(),
            "ResourceNotFoundException" => "NotFound".into(),
            "ServiceQuotaExceededException" => "QuotaExceeded".into(),
            "CredentialsUnavailable" => "CredentialsUnavailable".into(),
            "ThrottlingException" | "Throttling" | "TooManyRequestsException" => "Throttled".into(),
            _ => match self.class {
                ErrorClass::Terminal => "RequestRefused".into(),
                ErrorClass::Retryable => "ServiceUnavailable".into(),
                ErrorClass::Throttled => "Throttled".into(),
            },
        }
    }
}

impl fmt::Display for DzError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}: {}", self.operation, self.code, self.message)
    }
}

impl std::error::Error for DzError {}

/// Throttling codes as botocore's standard retry mode lists them, plus any 429.
pub fn classify(code: &str, status: Option<u16>) -> ErrorClass {
    match code {
        "ThrottlingException" | "Throttling" | "TooManyRequestsException" | "RequestLimitExceeded" => {
            ErrorClass::Throttled
        }
        "InternalServerException"
        | "ServiceUnavailableException"
        | "InternalFailure"
        | "ServiceUnavailable"
        | "RequestTimeout"
        | "ConflictException" => ErrorClass::Retryable,
        "AccessDeniedException"
        | "AccessDenied"
        | "ValidationException"
        | "ValidationError"
        | "UnauthorizedException"
        | "ResourceNotFoundException"
        | "ServiceQuotaExceededException"
        | "InvalidClientTokenId"
        | "UnrecognizedClientException"
        | "SignatureDoesNotMatch"
        | "InvalidSignatureException" => ErrorClass::Terminal,
        _ => match status {
            Some(429) => ErrorClass::Throttled,
            Some(s) if s >= 500 => ErrorClass::Retryable,
            Some(s) if (400..500).contains(&s) => ErrorClass::Terminal,
            // No response at all: a network problem.
            _ => ErrorClass::Retryable,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_table() {
        let cases = [
            ("ThrottlingException", Some(429), ErrorClass::Throttled),
            ("SomethingNew", Some(429), ErrorClass::Throttled),
            ("InternalServerException", Some(500), ErrorClass::Retryable),
            ("SomethingNew", Some(503), ErrorClass::Retryable),
            ("dispatch failure", None, ErrorClass::Retryable),
            ("AccessDeniedException", Some(403), ErrorClass::Terminal),
            ("AccessDenied", Some(403), ErrorClass::Terminal),
            ("ValidationException", Some(400), ErrorClass::Terminal),
            ("ServiceQuotaExceededException", Some(402), ErrorClass::Terminal),
            ("ConflictException", Some(409), ErrorClass::Retryable),
        ];
        for (code, status, want) in cases {
            assert_eq!(classify(code, status), want, "{code} {status:?}");
        }
    }

    #[test]
    fn reasons_are_camel_case() {
        let e = DzError::from_code("StartDataSourceRun", "ServiceQuotaExceededException", Some(402), "25 runs");
        assert_eq!(e.reason(), "QuotaExceeded");
        assert_eq!(DzError::from_code("X", "Weird", Some(500), "").reason(), "ServiceUnavailable");
    }

    #[test]
    fn a_taken_data_source_name_is_a_validation_error() {
        let taken = "DataSource name must be unique for a given project.";
        assert!(DzError::from_code("CreateDataSource", "ValidationException", Some(400), taken).is_name_taken());
        assert!(!DzError::from_code("CreateDataSource", "ValidationException", Some(400), "bad cron").is_name_taken());
        assert!(!DzError::from_code("CreateDataSource", "ConflictException", Some(409), taken).is_name_taken());
    }
}
