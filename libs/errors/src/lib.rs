//! Errors at the gRPC edge.
//!
//! Each service has its own domain error enum (`thiserror`) and exactly one
//! `From<ServiceError> for tonic::Status`. This crate holds what those mappings share:
//! [`Validation`], which collects every field violation of a request so the caller learns all of
//! them at once, and the helpers that build a `Status` without leaking internals.

use std::error::Error;
use std::fmt;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// One field that failed validation: which field (dotted path, as in the request) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldViolation {
    pub field: String,
    pub description: String,
}

/// Every field violation found in one request.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
pub struct Validation {
    violations: Vec<FieldViolation>,
}

impl Validation {
    pub fn new() -> Self {
        Self::default()
    }

    /// A validation failure with one violation.
    pub fn single(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut validation = Self::new();
        validation.add(field, description);
        validation
    }

    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.violations.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Records the error of a field's `parse()` and returns the parsed value if there was none,
    /// so a converter can check every field before giving up.
    pub fn field<T, E: fmt::Display>(&mut self, field: &str, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                self.add(field, error.to_string());
                None
            }
        }
    }

    pub fn violations(&self) -> &[FieldViolation] {
        &self.violations
    }

    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    /// `Ok(())` when nothing was violated.
    pub fn finish(self) -> Result<(), Self> {
        if self.is_empty() { Ok(()) } else { Err(self) }
    }
}

impl fmt::Display for Validation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("invalid request: ")?;
        for (index, violation) in self.violations.iter().enumerate() {
            if index > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", violation.field, violation.description)?;
        }
        Ok(())
    }
}

impl From<Validation> for Status {
    fn from(validation: Validation) -> Self {
        let mut details = ErrorDetails::new();
        for violation in &validation.violations {
            details.add_bad_request_violation(&violation.field, &violation.description);
        }
        Status::with_error_details(Code::InvalidArgument, validation.to_string(), details)
    }
}

/// An error the caller cannot act on: the whole cause chain goes to the log (never to the
/// caller), and the caller gets a generic message of the given code.
pub fn opaque(code: Code, error: &(dyn Error + 'static)) -> Status {
    tracing::error!(error = %chain(error), code = ?code, "request failed");
    let message = match code {
        Code::Unavailable => "a dependency is unavailable; retry with backoff",
        Code::DeadlineExceeded => "the request ran out of time",
        _ => "internal error",
    };
    Status::new(code, message)
}

/// Why stored JSON did not parse, by kind and position only. serde_json's own message quotes the
/// offending value ("invalid type: string \"Flat 7, …\""), and stored JSON holds addresses,
/// income and expenditure lines and vulnerability notes; this text goes to the log.
pub fn stored_json_error(error: &serde_json::Error) -> String {
    let kind = match error.classify() {
        serde_json::error::Category::Io => "could not be read",
        serde_json::error::Category::Syntax => "is not valid JSON",
        serde_json::error::Category::Data => "does not have the expected shape",
        serde_json::error::Category::Eof => "ends too early",
    };
    format!("{kind} (line {}, column {})", error.line(), error.column())
}

/// The error and its sources, outermost first, joined with ": ".
pub fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_becomes_invalid_argument_with_every_field_violation() {
        let mut validation = Validation::new();
        validation.add("customer.email", "is not an email address");
        let _: Option<u8> = validation.field("page_size", "x".parse::<u8>());
        let status = Status::from(validation.clone());

        assert_eq!(status.code(), Code::InvalidArgument);
        assert!(
            status
                .message()
                .contains("customer.email: is not an email address")
        );
        let details = status.get_error_details();
        let bad_request = details.bad_request().expect("BadRequest detail attached");
        let fields: Vec<_> = bad_request
            .field_violations
            .iter()
            .map(|v| v.field.as_str())
            .collect();
        assert_eq!(fields, ["customer.email", "page_size"]);
    }

    #[test]
    fn finish_is_ok_only_without_violations() {
        assert!(Validation::new().finish().is_ok());
        assert!(Validation::single("x", "bad").finish().is_err());
    }

    #[test]
    fn stored_json_errors_say_where_without_quoting_the_value() {
        let error = serde_json::from_str::<Vec<u32>>(r#"[1, "Zénobie Quilliam"]"#)
            .expect_err("a string is not a number");
        assert!(
            error.to_string().contains("Zénobie"),
            "serde_json quotes it"
        );
        let text = stored_json_error(&error);
        assert_eq!(text, "does not have the expected shape (line 1, column 23)");
    }

    #[derive(Debug, thiserror::Error)]
    #[error("connection refused to db.internal:5432")]
    struct Inner;

    #[derive(Debug, thiserror::Error)]
    #[error("storage failed")]
    struct Outer(#[source] Inner);

    #[test]
    fn opaque_keeps_internals_out_of_the_message() {
        let status = opaque(Code::Unavailable, &Outer(Inner));
        assert_eq!(status.code(), Code::Unavailable);
        assert!(!status.message().contains("db.internal"));
        assert_eq!(
            chain(&Outer(Inner)),
            "storage failed: connection refused to db.internal:5432"
        );
    }
}
