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

/// NOT_FOUND for a request field that names something its owner does not know (a customer that
/// profiles has never seen), with the field in the message and a `ResourceInfo` detail saying
/// what, which and whose.
pub fn unknown_reference(field: &str, entity: &str, id: &str, owner: &str) -> Status {
    let mut details = ErrorDetails::new();
    details.set_resource_info(entity, id, owner, format!("named by {field}"));
    Status::with_error_details(
        Code::NotFound,
        format!("{field}: {entity} {id} was not found"),
        details,
    )
}

/// Why a call failed when it was not the caller's fault: the one mapping from cause to gRPC code
/// (DESIGN.md, "codes by cause"; the README's table for client developers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Busy or unreachable: a lock held past the busy timeout, no free connection, the database
    /// or a service this call needs is down. `UNAVAILABLE`: safe to retry with backoff.
    Unavailable,
    /// Out of room: the disk or the database is full. `RESOURCE_EXHAUSTED`: nothing was written;
    /// retrying helps only once an operator has made room.
    Exhausted,
    /// Stored data is damaged. `DATA_LOSS`: an operator must restore it; retrying cannot help.
    Damaged,
    /// A bug or a broken invariant of ours. `INTERNAL`.
    Bug,
}

impl Fault {
    /// The status the caller gets: the code of the cause and what to do about it. The whole cause
    /// chain goes to the log, never to the caller.
    pub fn status(self, error: &(dyn Error + 'static)) -> Status {
        let (code, message) = match self {
            Self::Unavailable => (
                Code::Unavailable,
                "storage or a service this call needs is busy or unavailable; nothing was changed, retry with backoff",
            ),
            Self::Exhausted => (
                Code::ResourceExhausted,
                "storage is full; nothing was changed, retry once an operator has made room",
            ),
            Self::Damaged => (
                Code::DataLoss,
                "stored data is damaged; nothing was changed, an operator must restore it",
            ),
            Self::Bug => (Code::Internal, "internal error"),
        };
        if self == Self::Bug {
            tracing::error!(error = %chain(error), code = ?code, "request failed");
        } else {
            tracing::warn!(error = %chain(error), code = ?code, "request failed");
        }
        Status::new(code, message)
    }
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
    fn each_fault_has_its_code_and_keeps_internals_out_of_the_message() {
        for (fault, code) in [
            (Fault::Unavailable, Code::Unavailable),
            (Fault::Exhausted, Code::ResourceExhausted),
            (Fault::Damaged, Code::DataLoss),
            (Fault::Bug, Code::Internal),
        ] {
            let status = fault.status(&Outer(Inner));
            assert_eq!(status.code(), code);
            assert!(!status.message().contains("db.internal"));
        }
        assert!(
            Fault::Unavailable
                .status(&Outer(Inner))
                .message()
                .contains("retry")
        );
        assert_eq!(
            chain(&Outer(Inner)),
            "storage failed: connection refused to db.internal:5432"
        );
    }
}
