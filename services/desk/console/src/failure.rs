//! What a refused call means for the page that made it: INVALID_ARGUMENT's field violations
//! (google.rpc.BadRequest in `grpc-status-details-bin`) beside the inputs they are about,
//! PERMISSION_DENIED at the action with the permission named, anything else as a banner. The
//! form is always rendered again with what the agent typed.

use std::collections::BTreeMap;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// Which form input a request field came from: request paths ("amount", "income_expenditure.
/// income[2].monthly_amount") to input names. A violation goes to the input of the longest path
/// that is a prefix of its field at a `.` or `[` boundary; none = the form as a whole.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldMap {
    paths: Vec<(String, String)>,
}

impl FieldMap {
    pub fn new() -> Self {
        Self::default()
    }

    /// Inputs named as their request path (the usual case).
    pub fn same(names: &[&str]) -> Self {
        let mut map = Self::new();
        for name in names {
            map.add(*name, *name);
        }
        map
    }

    pub fn add(&mut self, path: impl Into<String>, input: impl Into<String>) -> &mut Self {
        self.paths.push((path.into(), input.into()));
        self
    }

    pub fn input_for(&self, field: &str) -> Option<&str> {
        self.paths
            .iter()
            .filter(|(path, _)| {
                field == path
                    || field
                        .strip_prefix(path.as_str())
                        .is_some_and(|rest| rest.starts_with('.') || rest.starts_with('['))
            })
            .max_by_key(|(path, _)| path.len())
            .map(|(_, input)| input.as_str())
    }
}

/// A refused call, ready to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// INVALID_ARGUMENT (or the console's own check of an input): sentences per input, and
    /// those about no input of the form.
    Invalid {
        fields: BTreeMap<String, Vec<String>>,
        general: Vec<String>,
    },
    /// PERMISSION_DENIED: the permission the suite named, when it did.
    Denied {
        permission: Option<String>,
        message: String,
    },
    /// UNAUTHENTICATED: the agent must sign in (again).
    SignIn { message: String },
    /// Anything else: a banner with the code in words and the suite's message.
    Other { code: Code, message: String },
}

impl Failure {
    /// One input's problem, found by the console before calling.
    pub fn field(input: &str, sentence: impl Into<String>) -> Self {
        let mut fields = BTreeMap::new();
        fields.insert(input.to_owned(), vec![sentence.into()]);
        Self::Invalid {
            fields,
            general: Vec::new(),
        }
    }

    /// Adds an input's problem to an `Invalid` (turning anything else into one).
    pub fn merge_field(self, input: &str, sentence: impl Into<String>) -> Self {
        match self {
            Self::Invalid {
                mut fields,
                general,
            } => {
                fields
                    .entry(input.to_owned())
                    .or_default()
                    .push(sentence.into());
                Self::Invalid { fields, general }
            }
            _ => Self::field(input, sentence),
        }
    }

    pub fn from_status(status: &Status, map: &FieldMap) -> Self {
        match status.code() {
            Code::InvalidArgument => {
                let mut fields: BTreeMap<String, Vec<String>> = BTreeMap::new();
                let mut general = Vec::new();
                let violations = status
                    .get_details_bad_request()
                    .map(|bad| bad.field_violations)
                    .unwrap_or_default();
                for violation in &violations {
                    let sentence = sentence(&violation.description);
                    match map.input_for(&violation.field) {
                        Some(input) => fields.entry(input.to_owned()).or_default().push(sentence),
                        None => general.push(sentence),
                    }
                }
                if violations.is_empty() {
                    general.push(status.message().to_owned());
                }
                Self::Invalid { fields, general }
            }
            Code::PermissionDenied => Self::Denied {
                permission: permission_named(status.message()),
                message: status.message().to_owned(),
            },
            Code::Unauthenticated => Self::SignIn {
                message: status.message().to_owned(),
            },
            code => Self::Other {
                code,
                message: status.message().to_owned(),
            },
        }
    }

    pub fn errors_for(&self, input: &str) -> &[String] {
        match self {
            Self::Invalid { fields, .. } => fields.get(input).map_or(&[], Vec::as_slice),
            _ => &[],
        }
    }

    /// The HTTP status of the page that shows it.
    pub fn http_status(&self) -> http::StatusCode {
        match self {
            Self::Invalid { .. } => http::StatusCode::UNPROCESSABLE_ENTITY,
            Self::Denied { .. } => http::StatusCode::FORBIDDEN,
            Self::SignIn { .. } => http::StatusCode::UNAUTHORIZED,
            Self::Other { code, .. } => match code {
                Code::NotFound => http::StatusCode::NOT_FOUND,
                Code::FailedPrecondition | Code::AlreadyExists | Code::Aborted => {
                    http::StatusCode::CONFLICT
                }
                Code::Unavailable | Code::DeadlineExceeded | Code::ResourceExhausted => {
                    http::StatusCode::SERVICE_UNAVAILABLE
                }
                _ => http::StatusCode::BAD_GATEWAY,
            },
        }
    }
}

/// "must not be in the past" → "Must not be in the past.": shown beside its input, so the
/// field path is not repeated.
fn sentence(description: &str) -> String {
    let description = description.trim();
    let mut text = description.to_owned();
    if let Some(first) = text.get(..1) {
        text = format!("{}{}", first.to_uppercase(), &text[1..]);
    }
    if !text.ends_with('.') {
        text.push('.');
    }
    text
}

/// "missing permission plans.accept (roles held: auditor)" → "plans.accept".
fn permission_named(message: &str) -> Option<String> {
    let rest = message.split("permission ").nth(1)?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        .collect();
    (!name.is_empty()).then_some(name)
}

/// A gRPC code as the agent reads it.
pub(crate) fn code_in_words(code: Code) -> &'static str {
    match code {
        Code::NotFound => "Not found",
        Code::AlreadyExists => "Already exists",
        Code::FailedPrecondition => "Not possible now",
        Code::Unavailable => "The service is unavailable right now; try again in a moment",
        Code::DeadlineExceeded => "The service did not answer in time; try again",
        Code::ResourceExhausted => "The service is busy; try again shortly",
        Code::Aborted => "A conflicting change happened; try again",
        _ => "Something went wrong",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic_types::{ErrorDetails, FieldViolation};

    fn invalid(violations: &[(&str, &str)]) -> Status {
        let details = ErrorDetails::with_bad_request(
            violations
                .iter()
                .map(|(field, description)| FieldViolation::new(*field, *description))
                .collect::<Vec<_>>(),
        );
        Status::with_error_details(Code::InvalidArgument, "invalid request", details)
    }

    #[test]
    fn field_violations_land_beside_the_inputs_they_are_about() {
        let mut map = FieldMap::same(&["amount", "promised_date", "note"]);
        map.add("income_expenditure.income[2]", "income.PENSION");
        let status = invalid(&[
            ("amount.minor_units", "must be above 0"),
            ("promised_date", "must not be in the past"),
            (
                "income_expenditure.income[2].monthly_amount",
                "must not be negative",
            ),
            ("recorded_by.id", "must not be blank"),
        ]);
        let failure = Failure::from_status(&status, &map);
        assert_eq!(failure.errors_for("amount"), ["Must be above 0."]);
        assert_eq!(
            failure.errors_for("promised_date"),
            ["Must not be in the past."]
        );
        assert_eq!(
            failure.errors_for("income.PENSION"),
            ["Must not be negative."]
        );
        assert_eq!(failure.errors_for("note"), [] as [String; 0]);
        let Failure::Invalid { general, .. } = failure else {
            panic!("an invalid argument stays one");
        };
        assert_eq!(general, ["Must not be blank."]);
    }

    #[test]
    fn a_prefix_counts_only_at_a_field_boundary() {
        let map = FieldMap::same(&["note", "notes_extra"]);
        assert_eq!(map.input_for("notes_extra"), Some("notes_extra"));
        assert_eq!(map.input_for("note"), Some("note"));
        assert_eq!(map.input_for("notebook"), None);
        assert_eq!(map.input_for("note.text"), Some("note"));
    }

    #[test]
    fn permission_denied_names_the_permission() {
        let status =
            Status::permission_denied("missing permission plans.accept (roles held: auditor)");
        assert_eq!(
            Failure::from_status(&status, &FieldMap::new()),
            Failure::Denied {
                permission: Some("plans.accept".to_owned()),
                message: "missing permission plans.accept (roles held: auditor)".to_owned(),
            }
        );
    }

    #[test]
    fn an_invalid_argument_without_details_keeps_its_message() {
        let failure = Failure::from_status(
            &Status::invalid_argument("at least one criterion is required"),
            &FieldMap::new(),
        );
        assert_eq!(
            failure,
            Failure::Invalid {
                fields: BTreeMap::new(),
                general: vec!["at least one criterion is required".to_owned()],
            }
        );
    }
}
