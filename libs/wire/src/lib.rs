//! The shared part of every service's gRPC edge: `rapport.common.v1` types and scalar fields
//! checked into domain values. Every check names the field it failed on (the request's own
//! path) and records it in a [`Validation`], so a request's violations are reported together.

mod events;
mod reasons;

pub use events::{EventEnvelope, EventRejection, MAX_EVENTS, event_batch, event_envelope};
pub use reasons::{effect_to_pb, reason_to_pb};

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;

/// Who did something: an agent, the customer, a debt adviser, a system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub kind: common::ActorKind,
    pub id: String,
}

/// Longest free text accepted in one field (summaries, notes, descriptions).
pub const MAX_TEXT_CHARS: usize = 4_000;
/// Longest short code (topics, systems, ids of other systems).
pub const MAX_CODE_CHARS: usize = 200;

pub fn id(field: &str, text: &str, validation: &mut Validation) -> Option<Id> {
    if text.is_empty() {
        validation.add(field, "is required");
        return None;
    }
    validation.field(field, Id::parse(text))
}

/// A required calendar date.
pub fn date(field: &str, date: Option<&common::Date>, validation: &mut Validation) -> Option<Date> {
    match date {
        None => {
            validation.add(field, "is required");
            None
        }
        Some(d) => optional_date(field, Some(d), validation),
    }
}

pub fn optional_date(
    field: &str,
    date: Option<&common::Date>,
    validation: &mut Validation,
) -> Option<Date> {
    let d = date?;
    let parsed = i16::try_from(d.year)
        .ok()
        .zip(i8::try_from(d.month).ok())
        .zip(i8::try_from(d.day).ok())
        .and_then(|((year, month), day)| Date::new(year, month, day).ok());
    if parsed.is_none() {
        validation.add(field, "is not a calendar date");
    }
    parsed
}

pub fn date_to_pb(date: Date) -> common::Date {
    common::Date {
        year: i32::from(date.year()),
        month: i32::from(date.month()),
        day: i32::from(date.day()),
    }
}

pub fn timestamp(
    field: &str,
    at: &prost_types::Timestamp,
    validation: &mut Validation,
) -> Option<Timestamp> {
    // To the microsecond, the precision storage keeps: a first answer that echoes the instant
    // and its replay (read back from storage) then agree.
    // protobuf's Timestamp: nanos in 0..1e9.
    let parsed = (0..1_000_000_000)
        .contains(&at.nanos)
        .then(|| Timestamp::new(at.seconds, at.nanos - at.nanos % 1_000).ok())
        .flatten();
    if parsed.is_none() {
        validation.add(field, "is not a valid instant");
    }
    parsed
}

/// A caller's id as a span field, kept only when it parses as one of our ids: an id field can
/// hold whatever a caller typed (a name, an email), and personal data stays out of telemetry.
/// Anything else leaves the field off the span: `fields(customer_id = traced_id(&r.customer_id))`.
pub fn traced_id(text: &str) -> Option<tracing::field::DisplayValue<Id>> {
    Id::parse(text).ok().map(tracing::field::display)
}

pub fn timestamp_to_pb(at: Timestamp) -> prost_types::Timestamp {
    // jiff counts both parts toward zero (-1.5 s is -1 s and -500,000,000 ns); protobuf counts
    // nanos forward from the second before, in 0..1e9 (timestamp.proto), as other stacks check.
    let (seconds, nanos) = (at.as_second(), at.subsec_nanosecond());
    if nanos < 0 {
        prost_types::Timestamp {
            seconds: seconds - 1,
            nanos: nanos + 1_000_000_000,
        }
    } else {
        prost_types::Timestamp { seconds, nanos }
    }
}

/// How far ahead of our clock a caller's "when it happened" may be: a little skew between systems'
/// clocks is normal, a time in the future is not (DESIGN.md, "Money and time": caller-supplied
/// times are bounded by what they describe).
pub const CLOCK_SKEW_TOLERANCE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);

/// An instant a caller reports as past ("when it happened"): absent means now; the future (beyond
/// [`CLOCK_SKEW_TOLERANCE`]) is refused.
pub fn past_instant(
    field: &str,
    at: Option<&prost_types::Timestamp>,
    now: Timestamp,
    validation: &mut Validation,
) -> Option<Timestamp> {
    let Some(at) = at else { return Some(now) };
    let at = timestamp(field, at, validation)?;
    if at > now + CLOCK_SKEW_TOLERANCE {
        validation.add(
            field,
            format!(
                "must not be in the future (at most {} minutes ahead of {now})",
                CLOCK_SKEW_TOLERANCE.as_mins()
            ),
        );
        return None;
    }
    Some(at)
}

fn text(
    field: &str,
    value: &str,
    max: usize,
    required: bool,
    validation: &mut Validation,
) -> Option<String> {
    if required && value.trim().is_empty() {
        validation.add(field, "must not be empty");
        return None;
    }
    if value.chars().count() > max {
        validation.add(field, format!("must be at most {max} characters"));
        return None;
    }
    Some(value.to_owned())
}

pub fn required_text(
    field: &str,
    value: &str,
    max: usize,
    validation: &mut Validation,
) -> Option<String> {
    text(field, value, max, true, validation)
}

pub fn optional_text(
    field: &str,
    value: &str,
    max: usize,
    validation: &mut Validation,
) -> Option<String> {
    text(field, value, max, false, validation)
}

/// A generated enum that must be set (not UNSPECIFIED) and known.
pub fn known_enum<T>(
    field: &str,
    value: i32,
    parse: impl Fn(i32) -> Option<T>,
    unspecified: T,
    validation: &mut Validation,
) -> Option<T>
where
    T: PartialEq,
{
    match parse(value) {
        Some(v) if v != unspecified => Some(v),
        Some(_) => {
            validation.add(field, "is required");
            None
        }
        None => {
            validation.add(field, format!("has no value {value}"));
            None
        }
    }
}

/// A generated enum where UNSPECIFIED is allowed (it means "any" or "none").
pub fn optional_enum<T>(
    field: &str,
    value: i32,
    parse: impl Fn(i32) -> Option<T>,
    validation: &mut Validation,
) -> Option<T> {
    let parsed = parse(value);
    if parsed.is_none() {
        validation.add(field, format!("has no value {value}"));
    }
    parsed
}

pub fn actor(
    field: &str,
    actor: Option<&common::Actor>,
    validation: &mut Validation,
) -> Option<Actor> {
    let Some(actor) = actor else {
        validation.add(field, "is required");
        return None;
    };
    let kind = known_enum(
        &format!("{field}.kind"),
        actor.kind,
        |v| common::ActorKind::try_from(v).ok(),
        common::ActorKind::Unspecified,
        validation,
    );
    let id = required_text(
        &format!("{field}.id"),
        &actor.id,
        MAX_CODE_CHARS,
        validation,
    );
    Some(Actor {
        kind: kind?,
        id: id?,
    })
}

pub fn actor_to_pb(actor: &Actor) -> common::Actor {
    common::Actor {
        kind: actor.kind as i32,
        id: actor.id.clone(),
    }
}

/// A request id: optional, bounded.
pub fn request_id(field: &str, value: &str, validation: &mut Validation) -> Option<String> {
    if value.is_empty() {
        return None;
    }
    optional_text(field, value, MAX_CODE_CHARS, validation)
}

/// An ISO 4217 currency code.
pub fn currency(
    field: &str,
    code: &str,
    validation: &mut Validation,
) -> Option<rapport_money::Currency> {
    if code.is_empty() {
        validation.add(field, "is required");
        return None;
    }
    validation.field(field, rapport_money::Currency::parse(code))
}

/// A required amount in `currency`: the currency must match (amounts in different currencies
/// never mix) and the amount must not be negative.
pub fn amount(
    field: &str,
    money: Option<&common::Money>,
    currency: rapport_money::Currency,
    validation: &mut Validation,
) -> Option<i64> {
    let Some(money) = money else {
        validation.add(field, "is required");
        return None;
    };
    if money.currency_code != currency.code() {
        validation.add(
            format!("{field}.currency_code"),
            format!(
                "must be {} (the account's currency), not {:?}",
                currency.code(),
                money.currency_code
            ),
        );
        return None;
    }
    if money.minor_units < 0 {
        validation.add(format!("{field}.minor_units"), "must not be negative");
        return None;
    }
    Some(money.minor_units)
}

/// A required amount that must be above zero (a payment, a promise).
pub fn positive_amount(
    field: &str,
    money: Option<&common::Money>,
    currency: rapport_money::Currency,
    validation: &mut Validation,
) -> Option<i64> {
    let value = amount(field, money, currency, validation)?;
    if value == 0 {
        validation.add(format!("{field}.minor_units"), "must be greater than zero");
        return None;
    }
    Some(value)
}

pub fn money_to_pb(currency: rapport_money::Currency, minor_units: i64) -> common::Money {
    common::Money {
        currency_code: currency.code().to_owned(),
        minor_units,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_are_kept_to_the_stored_microsecond() {
        let mut validation = Validation::new();
        let at = timestamp(
            "at",
            &prost_types::Timestamp {
                seconds: 1_700_000_000,
                nanos: 123_456_789,
            },
            &mut validation,
        )
        .expect("valid");
        assert!(validation.is_empty());
        assert_eq!(at.subsec_nanosecond(), 123_456_000);
        assert!(
            timestamp(
                "at",
                &prost_types::Timestamp {
                    seconds: 0,
                    nanos: -1
                },
                &mut validation
            )
            .is_none()
        );
        assert_eq!(validation.violations()[0].field, "at");
    }
}
