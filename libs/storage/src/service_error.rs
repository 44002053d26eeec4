//! The one mapping from a service's failure to its gRPC status (issue 22): every service names
//! this type for its errors, so a cause answers the same code and shape in all four, and a
//! service's own `error.rs` holds only what is its own.

use rapport_errors::{Fault, Validation};
use tonic::Status;

use crate::StorageError;

/// Everything a call can fail with; mapped to a gRPC status in exactly one place
/// (DESIGN.md, "codes by cause").
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed: INVALID_ARGUMENT with a field violation per field.
    #[error(transparent)]
    Invalid(#[from] Validation),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    /// The request names something another service does not know (a customer profiles has
    /// never seen): NOT_FOUND, naming the field and the service that owns the record.
    #[error("{field}: {entity} {id} was not found")]
    UnknownReference {
        field: &'static str,
        entity: &'static str,
        id: String,
        owner: &'static str,
    },
    #[error("{0}")]
    AlreadyExists(String),
    /// Well-formed, but the state of the record does not allow it.
    #[error("{0}")]
    FailedPrecondition(String),
    /// Another Rapport service could not answer; the caller may retry.
    #[error("a service this call depends on is unavailable: {0}")]
    Dependency(String),
    #[error("storage failed")]
    Storage(#[from] StorageError),
    /// Stored data that does not parse: a bug or a hand edit, never the caller's fault.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<sqlx::Error> for ServiceError {
    fn from(error: sqlx::Error) -> Self {
        Self::Storage(error.into())
    }
}

impl From<ServiceError> for Status {
    fn from(error: ServiceError) -> Self {
        match error {
            ServiceError::Invalid(validation) => validation.into(),
            ServiceError::NotFound { .. } => Status::not_found(error.to_string()),
            ServiceError::UnknownReference {
                field,
                entity,
                ref id,
                owner,
            } => rapport_errors::unknown_reference(field, entity, id, owner),
            ServiceError::AlreadyExists(_) => Status::already_exists(error.to_string()),
            ServiceError::FailedPrecondition(_) => Status::failed_precondition(error.to_string()),
            ServiceError::Dependency(_) => Fault::Unavailable.status(&error),
            ServiceError::Storage(ref storage) => storage.fault().status(&error),
            ServiceError::Corrupt(_) => Fault::Bug.status(&error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn each_cause_has_its_code() {
        let invalid: Status =
            ServiceError::from(Validation::single("page.page_size", "must be at most 100")).into();
        assert_eq!(invalid.code(), Code::InvalidArgument);
        let missing: Status = ServiceError::NotFound {
            entity: "record",
            id: "x".into(),
        }
        .into();
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(missing.message(), "record x was not found");
        let unknown: Status = ServiceError::UnknownReference {
            field: "customer_id",
            entity: "customer",
            id: "c1".into(),
            owner: "profiles",
        }
        .into();
        assert_eq!(unknown.code(), Code::NotFound);
        assert_eq!(unknown.message(), "customer_id: customer c1 was not found");
        let exists: Status = ServiceError::AlreadyExists("code taken".into()).into();
        assert_eq!(exists.code(), Code::AlreadyExists);
        let state: Status = ServiceError::FailedPrecondition("plan is closed".into()).into();
        assert_eq!(state.code(), Code::FailedPrecondition);
        let dependency: Status = ServiceError::Dependency("profiles: down".into()).into();
        assert_eq!(dependency.code(), Code::Unavailable);
        let down: Status =
            ServiceError::Storage(StorageError::Unavailable(sqlx::Error::PoolTimedOut)).into();
        assert_eq!(down.code(), Code::Unavailable);
        let broken: Status =
            ServiceError::Storage(StorageError::Database(sqlx::Error::RowNotFound)).into();
        assert_eq!(broken.code(), Code::Internal);
        assert!(
            !broken.message().contains("row"),
            "internals stay in the log"
        );
        let corrupt: Status = ServiceError::Corrupt("bad json in plan p1".into()).into();
        assert_eq!(corrupt.code(), Code::Internal);
        assert!(
            !corrupt.message().contains("p1"),
            "internals stay in the log"
        );
    }
}
