use rapport_errors::{Fault, Validation};
use rapport_storage::StorageError;
use tonic::Status;

/// Everything a loyalty call can fail with; mapped to a gRPC status in exactly one place.
#[derive(Debug, thiserror::Error)]
pub enum LoyaltyError {
    #[error(transparent)]
    Invalid(#[from] Validation),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    /// Well-formed, but the state of the follow-up or customer does not allow it.
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

impl From<rapport_storage::sqlx::Error> for LoyaltyError {
    fn from(error: rapport_storage::sqlx::Error) -> Self {
        Self::Storage(error.into())
    }
}

impl From<rapport_clients::ClientError> for LoyaltyError {
    fn from(error: rapport_clients::ClientError) -> Self {
        match error {
            rapport_clients::ClientError::NotFound(id) => Self::NotFound {
                entity: "customer",
                id,
            },
            other => Self::Dependency(other.to_string()),
        }
    }
}

impl From<LoyaltyError> for Status {
    fn from(error: LoyaltyError) -> Self {
        match error {
            LoyaltyError::Invalid(validation) => validation.into(),
            LoyaltyError::NotFound { .. } => Status::not_found(error.to_string()),
            LoyaltyError::FailedPrecondition(_) => Status::failed_precondition(error.to_string()),
            LoyaltyError::Dependency(_) => Fault::Unavailable.status(&error),
            LoyaltyError::Storage(ref storage) => storage.fault().status(&error),
            LoyaltyError::Corrupt(_) => Fault::Bug.status(&error),
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
            LoyaltyError::from(Validation::single("page.page_size", "must be at most 100")).into();
        assert_eq!(invalid.code(), Code::InvalidArgument);
        let missing: Status = LoyaltyError::NotFound {
            entity: "record",
            id: "x".into(),
        }
        .into();
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(missing.message(), "record x was not found");
        let down: Status = LoyaltyError::Storage(StorageError::Unavailable(
            rapport_storage::sqlx::Error::PoolTimedOut,
        ))
        .into();
        assert_eq!(down.code(), Code::Unavailable);
        let broken: Status = LoyaltyError::Storage(StorageError::Database(
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
