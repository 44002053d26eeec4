use rapport_errors::{Fault, Validation};
use rapport_storage::StorageError;
use tonic::Status;

/// Everything a plans call can fail with; mapped to a gRPC status in exactly one place.
#[derive(Debug, thiserror::Error)]
pub enum PlansError {
    #[error(transparent)]
    Invalid(#[from] Validation),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    /// The request names something another service does not know: a customer profiles has
    /// never seen. NOT_FOUND, naming the field.
    #[error("{field}: {entity} {id} was not found")]
    UnknownReference {
        field: &'static str,
        entity: &'static str,
        id: String,
    },
    #[error("{0}")]
    AlreadyExists(String),
    /// Well-formed, but the state of the account, case or plan does not allow it.
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

impl From<rapport_storage::sqlx::Error> for PlansError {
    fn from(error: rapport_storage::sqlx::Error) -> Self {
        Self::Storage(error.into())
    }
}

impl From<PlansError> for Status {
    fn from(error: PlansError) -> Self {
        match error {
            PlansError::Invalid(validation) => validation.into(),
            PlansError::NotFound { .. } => Status::not_found(error.to_string()),
            PlansError::UnknownReference {
                field,
                entity,
                ref id,
            } => rapport_errors::unknown_reference(field, entity, id, "profiles"),
            PlansError::AlreadyExists(_) => Status::already_exists(error.to_string()),
            PlansError::FailedPrecondition(_) => Status::failed_precondition(error.to_string()),
            PlansError::Dependency(_) => Fault::Unavailable.status(&error),
            PlansError::Storage(ref storage) => storage.fault().status(&error),
            PlansError::Corrupt(_) => Fault::Bug.status(&error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn each_error_has_its_code() {
        let invalid: Status =
            PlansError::from(Validation::single("page.page_size", "must be at most 100")).into();
        assert_eq!(invalid.code(), Code::InvalidArgument);
        let missing: Status = PlansError::NotFound {
            entity: "record",
            id: "x".into(),
        }
        .into();
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(missing.message(), "record x was not found");
        let down: Status = PlansError::Storage(StorageError::Unavailable(
            rapport_storage::sqlx::Error::PoolTimedOut,
        ))
        .into();
        assert_eq!(down.code(), Code::Unavailable);
        let broken: Status = PlansError::Storage(StorageError::Database(
            rapport_storage::sqlx::Error::RowNotFound,
        ))
        .into();
        assert_eq!(broken.code(), Code::Internal);
        assert!(
            !broken.message().contains("row"),
            "internals stay in the log"
        );
    }
}
