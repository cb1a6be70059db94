//! Errors as each protocol puts them on the wire, so SDKs parse them into their typed errors.

use std::fmt;

/// An AWS error: its code (the modelled exception name), HTTP status and message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwsError {
    pub code: &'static str,
    pub status: u16,
    pub message: String,
}

impl AwsError {
    pub fn new(code: &'static str, status: u16, message: impl Into<String>) -> Self {
        Self { code, status, message: message.into() }
    }
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new("ValidationException", 400, message)
    }
    pub fn access_denied(operation: &str) -> Self {
        // The text DataZone answers for non-members and unknown domains (docs/datazone-semantics.md §1).
        Self::new("AccessDeniedException", 403, format!("User is not permitted to perform operation: {operation}"))
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new("ResourceNotFoundException", 404, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new("ConflictException", 409, message)
    }
    pub fn quota(message: impl Into<String>) -> Self {
        Self::new("ServiceQuotaExceededException", 402, message)
    }
    pub fn throttling() -> Self {
        Self::new("ThrottlingException", 429, "Rate exceeded")
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new("InternalServerException", 500, message)
    }
    /// A named error injected through the control API, with the status DataZone uses for it.
    pub fn named(code: &str) -> Option<Self> {
        let (code, status): (&'static str, u16) = match code {
            "ThrottlingException" => ("ThrottlingException", 429),
            "InternalServerException" => ("InternalServerException", 500),
            "ServiceUnavailableException" => ("ServiceUnavailableException", 503),
            "AccessDeniedException" => ("AccessDeniedException", 403),
            "ValidationException" => ("ValidationException", 400),
            "ConflictException" => ("ConflictException", 409),
            "ResourceNotFoundException" => ("ResourceNotFoundException", 404),
            "ServiceQuotaExceededException" => ("ServiceQuotaExceededException", 402),
            _ => return None,
        };
        Some(Self::new(code, status, format!("{code} injected by the emulator")))
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): {}", self.code, self.status, self.message)
    }
}

pub type AwsResult<T> = Result<T, AwsError>;
