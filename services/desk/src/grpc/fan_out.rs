//! Asking one of the four within the overview's budget, as the caller.
//!
//! Every call carries the caller's `authorization` (so each service enforces its own roles and
//! writes its own audit entry naming the caller), a `grpc-timeout` of what remains of the budget
//! (so the service stops working on an answer nobody will read), and runs under a local timeout
//! of the same length (so a service that accepts and never answers costs the budget, no more).
//! `UNAVAILABLE` is retried with a short backoff while the budget allows (DESIGN.md: calls
//! between services retry on `UNAVAILABLE`); every other failure becomes the section's state.

use std::future::Future;
use std::time::Duration;

use rapport_proto::desk::v1 as pb;
use tokio::time::Instant;
use tonic::metadata::{AsciiMetadataValue, MetadataMap};
use tonic::{Code, Status};

use super::sections;

/// The service that owns a section, as its state names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    Profiles,
    Plans,
    Referrals,
    Loyalty,
}

impl Owner {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::Profiles => "profiles",
            Self::Plans => "plans",
            Self::Referrals => "referrals",
            Self::Loyalty => "loyalty",
        }
    }
}

/// The overview's deadline. Every call gets what remains of it, so calls chained after another
/// (may-we-call-now after the accounts) share the one budget rather than adding their own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Budget {
    deadline: Instant,
    /// The whole of it, for the words of a timeout ("did not answer within 150 ms").
    length: Duration,
}

impl Budget {
    pub(crate) fn starting_now(length: Duration) -> Self {
        Self {
            deadline: Instant::now() + length,
            length,
        }
    }

    /// The configured budget, or less when the caller's own deadline (`grpc-timeout`) ends
    /// sooner: then a tenth of what the caller allows is kept back to put the answer together
    /// and send it, so the caller gets the sections that did answer rather than
    /// DEADLINE_EXCEEDED.
    pub(crate) fn for_call(configured: Duration, metadata: &MetadataMap) -> Self {
        let callers = metadata
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(grpc_timeout);
        match callers {
            Some(allowed) if allowed - allowed / 10 < configured => {
                Self::starting_now(allowed - allowed / 10)
            }
            _ => Self::starting_now(configured),
        }
    }

    pub(crate) fn remaining(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    /// The first `1/parts` of the budget: what the customer lookup may take, so a slow profiles
    /// still leaves the rest to the others.
    pub(crate) fn first_part(&self, parts: u32) -> Self {
        let length = self.length / parts.max(1);
        Self {
            deadline: (Instant::now() + length).min(self.deadline),
            length,
        }
    }

    pub(crate) fn millis(&self) -> u128 {
        self.length.as_millis()
    }
}

/// A `grpc-timeout` header's value (PROTOCOL-HTTP2: at most 8 digits and a unit).
fn grpc_timeout(text: &str) -> Option<Duration> {
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(value.checked_mul(3600)?),
        "M" => Duration::from_secs(value.checked_mul(60)?),
        "S" => Duration::from_secs(value),
        "m" => Duration::from_millis(value),
        "u" => Duration::from_micros(value),
        "n" => Duration::from_nanos(value),
        _ => return None,
    })
}

/// How a call came back: its answer, or the state its section takes instead.
pub(crate) type Answer<T> = Result<T, pb::SectionState>;

/// The caller's credentials as they arrived, passed on unchanged.
#[derive(Debug, Clone, Default)]
pub(crate) struct AsCaller {
    authorization: Option<AsciiMetadataValue>,
}

impl AsCaller {
    pub(crate) fn from_metadata(metadata: &MetadataMap) -> Self {
        Self {
            authorization: metadata.get("authorization").cloned(),
        }
    }

    fn request<T>(&self, message: T, timeout: Duration) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        if let Some(authorization) = &self.authorization {
            let mut value = authorization.clone();
            value.set_sensitive(true);
            request.metadata_mut().insert("authorization", value);
        }
        request.set_timeout(timeout);
        request
    }
}

/// Backoff before retrying an `UNAVAILABLE` answer; doubled each time.
const FIRST_BACKOFF: Duration = Duration::from_millis(10);

/// Why a call gave no answer.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Nothing came back within the budget.
    Late,
    /// The service answered with an error.
    Answered(Status),
}

/// Sends `message` to `owner` through `call` within `budget`, as the caller; a failure becomes
/// the state of the section the answer was for.
pub(crate) async fn ask<M, T, F, Fut>(
    owner: Owner,
    budget: Budget,
    caller: &AsCaller,
    message: M,
    call: F,
) -> Answer<T>
where
    M: Clone,
    F: FnMut(tonic::Request<M>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    send(owner, budget, caller, message, call)
        .await
        .map_err(|failure| match failure {
            Failure::Late => sections::late(owner, budget),
            Failure::Answered(status) => sections::refused(owner, budget, &status),
        })
}

/// As [`ask`], with the failure itself (the customer lookup tells NOT_FOUND apart).
pub(crate) async fn send<M, T, F, Fut>(
    owner: Owner,
    budget: Budget,
    caller: &AsCaller,
    message: M,
    mut call: F,
) -> Result<T, Failure>
where
    M: Clone,
    F: FnMut(tonic::Request<M>) -> Fut,
    Fut: Future<Output = Result<tonic::Response<T>, Status>>,
{
    let mut backoff = FIRST_BACKOFF;
    let mut attempt = 1;
    loop {
        let remaining = budget.remaining();
        if remaining.is_zero() {
            return Err(Failure::Late);
        }
        let answer =
            tokio::time::timeout(remaining, call(caller.request(message.clone(), remaining))).await;
        match answer {
            Err(_elapsed) => return Err(Failure::Late),
            Ok(Ok(response)) => return Ok(response.into_inner()),
            Ok(Err(status))
                if status.code() == Code::Unavailable
                    && attempt < rapport_clients::TRIES
                    && budget.remaining() > backoff * 2 =>
            {
                tracing::debug!(service = owner.as_str(), attempt, "unavailable; retrying");
                tokio::time::sleep(backoff).await;
                backoff *= 2;
                attempt += 1;
            }
            Ok(Err(status)) => return Err(Failure::Answered(status)),
        }
    }
}

/// A call of `method` on a clone of `client`, for [`ask`] and [`send`].
macro_rules! rpc {
    ($client:expr, $method:ident) => {
        |request| {
            let mut client = $client.clone();
            async move { client.$method(request).await }
        }
    };
}
pub(crate) use rpc;

#[cfg(test)]
mod tests {
    use super::*;

    fn metadata(timeout: &str) -> MetadataMap {
        let mut metadata = MetadataMap::new();
        metadata.insert("grpc-timeout", timeout.parse().expect("ascii"));
        metadata
    }

    #[test]
    fn grpc_timeouts_parse_in_every_unit_and_nonsense_is_ignored() {
        assert_eq!(grpc_timeout("100m"), Some(Duration::from_millis(100)));
        assert_eq!(grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout("5000u"), Some(Duration::from_millis(5)));
        for nonsense in ["", "m", "12", "123456789m", "1x", "-1m"] {
            assert_eq!(grpc_timeout(nonsense), None, "{nonsense:?}");
        }
    }

    #[test]
    fn a_caller_in_a_hurry_shortens_the_budget_and_never_lengthens_it() {
        let configured = Duration::from_millis(150);
        let hurried = Budget::for_call(configured, &metadata("100m"));
        assert_eq!(hurried.length, Duration::from_millis(90));
        let patient = Budget::for_call(configured, &metadata("10S"));
        assert_eq!(patient.length, configured);
        let silent = Budget::for_call(configured, &MetadataMap::new());
        assert_eq!(silent.length, configured);
    }
}
