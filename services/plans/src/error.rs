use rapport_errors::{Validation, opaque};
use rapport_storage::StorageError;
use tonic::{Code, Status};

/// Everything a plans call can fail with; mapped to a gRPC status in exactly one place.
#[derive(Debug, thiserror::Error)]
pub enum PlansError {
    #[error(transparent)]
    Invalid(#[from] Validation),
    #[error("{entity} {id} was not found")]
    NotFound { entity: &'static str, id: String },
    #[error("storage failed")]
    Storage(#[from] StorageError),
}

impl From<PlansError> for Status {
    fn from(error: PlansError) -> Self {
        match error {
            PlansError::Invalid(validation) => validation.into(),
            PlansError::NotFound { .. } => Status::not_found(error.to_string()),
            PlansError::Storage(ref storage) if storage.is_unavailable() => {
                opaque(Code::Unavailable, &error)
            }
            PlansError::Storage(_) => opaque(Code::Internal, &error),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
