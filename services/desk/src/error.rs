//! What an overview can fail with as a whole: a malformed request (INVALID_ARGUMENT naming the
//! field) or a customer profiles does not know (NOT_FOUND). Everything else a service answers
//! stays in its section. The causes and codes are shared by every service
//! ([`rapport_storage::ServiceError`], one mapping, tested there).

pub type DeskError = rapport_storage::ServiceError;
