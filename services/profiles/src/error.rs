use rapport_errors::{Fault, Validation};
use rapport_storage::StorageError;
use tonic::Status;

/// Everything a profiles call can fail with; mapped to a gRPC status in exactly one place.
#[derive(Debug, thiserror::Error)]
pub enum ProfilesError {
    #[error(transparent)]
    Invalid(#[from] Validation),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    #[error("{0}")]
    AlreadyExists(String),
    /// The request is well-formed but the customer's state does not allow it.
    #[error("{0}")]
    FailedPrecondition(String),
    #[error("storage failed")]
    Storage(#[from] StorageError),
    /// Stored data that does not parse: a bug or a hand edit, never the caller's fault.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

impl From<rapport_storage::sqlx::Error> for ProfilesError {
    fn from(error: rapport_storage::sqlx::Error) -> Self {
        Self::Storage(error.into())
    }
}

impl From<ProfilesError> for Status {
    fn from(error: ProfilesError) -> Self {
        match error {
            ProfilesError::Invalid(validation) => validation.into(),
            ProfilesError::NotFound { .. } => Status::not_found(error.to_string()),
            ProfilesError::AlreadyExists(_) => Status::already_exists(error.to_string()),
            ProfilesError::FailedPrecondition(_) => Status::failed_precondition(error.to_string()),
            ProfilesError::Storage(ref storage) => storage.fault().status(&error),
            ProfilesError::Corrupt(_) => Fault::Bug.status(&error),
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
            ProfilesError::from(Validation::single("page.page_size", "must be at most 100")).into();
        assert_eq!(invalid.code(), Code::InvalidArgument);
        let missing: Status = ProfilesError::NotFound {
            entity: "record",
            id: "x".into(),
        }
        .into();
        assert_eq!(missing.code(), Code::NotFound);
        assert_eq!(missing.message(), "record x was not found");
        let down: Status = ProfilesError::Storage(StorageError::Unavailable(
            rapport_storage::sqlx::Error::PoolTimedOut,
        ))
        .into();
        assert_eq!(down.code(), Code::Unavailable);
        let broken: Status = ProfilesError::Storage(StorageError::Database(
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
