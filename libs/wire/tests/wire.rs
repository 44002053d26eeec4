//! The checks every gRPC edge shares, as a service's converter calls them: each refusal names the
//! request's field, and one request's violations are reported together.

use jiff::Timestamp;
use jiff::civil::date as civil;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_money::Currency;
use rapport_proto::common::v1 as common;
use rapport_wire::{
    CLOCK_SKEW_TOLERANCE, EventEnvelope, EventRejection, MAX_CODE_CHARS, MAX_EVENTS, MAX_TEXT_CHARS,
};

/// `(field, description)` of every violation, in the order they were found.
fn violations(validation: &Validation) -> Vec<(String, String)> {
    validation
        .violations()
        .iter()
        .map(|v| (v.field.clone(), v.description.clone()))
        .collect()
}

fn pb_at(seconds: i64, nanos: i32) -> prost_types::Timestamp {
    prost_types::Timestamp { seconds, nanos }
}

fn gbp(minor_units: i64) -> common::Money {
    common::Money {
        currency_code: "GBP".into(),
        minor_units,
    }
}

// ---- instants ---------------------------------------------------------------------------------

#[test]
fn an_instant_keeps_the_microsecond_storage_keeps_and_drops_the_rest_without_rounding() {
    let mut validation = Validation::new();
    let at = rapport_wire::timestamp("at", &pb_at(1_700_000_000, 999_999_999), &mut validation)
        .expect("a valid instant");
    assert!(validation.is_empty());
    assert_eq!(at.as_second(), 1_700_000_000, "not rounded up a second");
    assert_eq!(at.subsec_nanosecond(), 999_999_000);
    let whole = rapport_wire::timestamp("at", &pb_at(1_700_000_000, 7_000), &mut validation)
        .expect("a valid instant");
    assert_eq!(
        whole.subsec_nanosecond(),
        7_000,
        "whole microseconds are kept"
    );
}

#[test]
fn nanos_outside_a_second_are_not_an_instant() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::timestamp("occurred_at", &pb_at(0, 1_000_000_000), &mut validation),
        None
    );
    assert_eq!(
        rapport_wire::timestamp("promised_at", &pb_at(0, -1), &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [
            ("occurred_at".into(), "is not a valid instant".into()),
            ("promised_at".into(), "is not a valid instant".into()),
        ]
    );
}

#[test]
fn an_instant_after_the_epoch_goes_out_and_comes_back_unchanged() {
    let at = Timestamp::new(1_700_000_000, 123_456_000).expect("valid");
    let pb = rapport_wire::timestamp_to_pb(at);
    assert_eq!(pb, pb_at(1_700_000_000, 123_456_000));
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::timestamp("at", &pb, &mut validation),
        Some(at)
    );
    assert!(validation.is_empty());
}

/// protobuf's Timestamp counts nanos forward from the second before: 1.5 s before 1970 is
/// (-2 s, 500,000,000 ns), never a negative nanos field other stacks refuse.
#[test]
fn an_instant_before_the_epoch_goes_out_with_forward_nanos_and_comes_back_unchanged() {
    let at = Timestamp::new(-2, 500_000_000).expect("valid");
    assert_eq!(at.as_millisecond(), -1_500);
    let pb = rapport_wire::timestamp_to_pb(at);
    assert_eq!(pb, pb_at(-2, 500_000_000));
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::timestamp("at", &pb, &mut validation),
        Some(at)
    );
    assert!(validation.is_empty());
    let whole = Timestamp::from_second(-86_400).expect("valid");
    assert_eq!(rapport_wire::timestamp_to_pb(whole), pb_at(-86_400, 0));
}

#[test]
fn a_past_instant_defaults_to_now_and_allows_only_the_clock_skew_ahead() {
    let now = Timestamp::from_second(1_800_000_000).expect("valid");
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::past_instant("at", None, now, &mut validation),
        Some(now)
    );
    let skew = now + CLOCK_SKEW_TOLERANCE;
    assert_eq!(
        rapport_wire::past_instant(
            "at",
            Some(&rapport_wire::timestamp_to_pb(skew)),
            now,
            &mut validation
        ),
        Some(skew),
        "a clock up to five minutes fast is tolerated"
    );
    assert!(validation.is_empty());
    let beyond = pb_at(skew.as_second(), 1_000);
    assert_eq!(
        rapport_wire::past_instant("at", Some(&beyond), now, &mut validation),
        None
    );
    let found = violations(&validation);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, "at");
    assert!(
        found[0]
            .1
            .starts_with("must not be in the future (at most 5 minutes ahead"),
        "{}",
        found[0].1
    );
}

#[test]
fn an_invalid_past_instant_is_refused_once_as_invalid_not_as_future() {
    let now = Timestamp::from_second(1_800_000_000).expect("valid");
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::past_instant("at", Some(&pb_at(0, -5)), now, &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [("at".into(), "is not a valid instant".into())]
    );
}

// ---- dates ------------------------------------------------------------------------------------

#[test]
fn a_required_date_must_be_there_and_be_on_the_calendar() {
    let mut validation = Validation::new();
    assert_eq!(rapport_wire::date("due_on", None, &mut validation), None);
    let leap = common::Date {
        year: 2028,
        month: 2,
        day: 29,
    };
    assert_eq!(
        rapport_wire::date("due_on", Some(&leap), &mut validation),
        Some(civil(2028, 2, 29))
    );
    let not_leap = common::Date { year: 2027, ..leap };
    assert_eq!(
        rapport_wire::date("starts_on", Some(&not_leap), &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [
            ("due_on".into(), "is required".into()),
            ("starts_on".into(), "is not a calendar date".into()),
        ]
    );
}

#[test]
fn an_optional_date_may_be_absent_but_not_out_of_range() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::optional_date("ends_on", None, &mut validation),
        None
    );
    assert!(validation.is_empty(), "absent is not a violation");
    // Values that do not fit jiff's fields must be refused, not wrapped into a real date.
    for (year, month, day) in [(70_000, 1, 1), (2026, 13, 1), (2026, 1, 0), (2026, 257, 1)] {
        let date = common::Date { year, month, day };
        assert_eq!(
            rapport_wire::optional_date("ends_on", Some(&date), &mut validation),
            None,
            "{date:?}"
        );
    }
    assert_eq!(validation.violations().len(), 4);
}

#[test]
fn a_date_goes_out_as_year_month_and_day() {
    assert_eq!(
        rapport_wire::date_to_pb(civil(2026, 12, 2)),
        common::Date {
            year: 2026,
            month: 12,
            day: 2
        }
    );
}

// ---- money ------------------------------------------------------------------------------------

#[test]
fn a_currency_is_required_and_must_be_iso_4217() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::currency("currency_code", "GBP", &mut validation),
        Some(Currency::GBP)
    );
    assert_eq!(rapport_wire::currency("a", "", &mut validation), None);
    assert_eq!(rapport_wire::currency("b", "XYZ", &mut validation), None);
    let found = violations(&validation);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0], ("a".into(), "is required".into()));
    assert_eq!(found[1].0, "b");
}

#[test]
fn an_amount_is_in_the_accounts_currency_and_not_negative() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::amount("payment", Some(&gbp(0)), Currency::GBP, &mut validation),
        Some(0),
        "zero is an amount"
    );
    assert_eq!(
        rapport_wire::amount(
            "payment",
            Some(&gbp(12_345)),
            Currency::GBP,
            &mut validation
        ),
        Some(12_345)
    );
    assert!(validation.is_empty());
    assert_eq!(
        rapport_wire::amount("a", None, Currency::GBP, &mut validation),
        None
    );
    assert_eq!(
        rapport_wire::amount("b", Some(&gbp(100)), Currency::EUR, &mut validation),
        None
    );
    assert_eq!(
        rapport_wire::amount("c", Some(&gbp(-1)), Currency::GBP, &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [
            ("a".into(), "is required".into()),
            (
                "b.currency_code".into(),
                "must be EUR (the account's currency), not \"GBP\"".into()
            ),
            ("c.minor_units".into(), "must not be negative".into()),
        ]
    );
}

#[test]
fn a_payment_or_a_promise_must_be_more_than_nothing() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::positive_amount("promise", Some(&gbp(1)), Currency::GBP, &mut validation),
        Some(1)
    );
    assert_eq!(
        rapport_wire::positive_amount("promise", Some(&gbp(0)), Currency::GBP, &mut validation),
        None
    );
    assert_eq!(
        rapport_wire::positive_amount("payment", Some(&gbp(-3)), Currency::GBP, &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [
            (
                "promise.minor_units".into(),
                "must be greater than zero".into()
            ),
            ("payment.minor_units".into(), "must not be negative".into()),
        ],
        "a negative amount is reported once, as negative"
    );
}

#[test]
fn money_goes_out_in_minor_units_with_its_code() {
    assert_eq!(
        rapport_wire::money_to_pb(Currency::JPY, 5_000),
        common::Money {
            currency_code: "JPY".into(),
            minor_units: 5_000
        }
    );
}

// ---- ids, text, enums, actors -----------------------------------------------------------------

#[test]
fn an_id_is_required_and_must_parse() {
    let mut validation = Validation::new();
    let id = Id::new();
    assert_eq!(
        rapport_wire::id("customer_id", &id.to_string(), &mut validation),
        Some(id)
    );
    assert_eq!(rapport_wire::id("customer_id", "", &mut validation), None);
    assert_eq!(
        rapport_wire::id("case_id", "not-a-uuid", &mut validation),
        None
    );
    let found = violations(&validation);
    assert_eq!(found.len(), 2);
    assert_eq!(found[0], ("customer_id".into(), "is required".into()));
    assert_eq!(found[1].0, "case_id");
}

#[test]
fn text_limits_count_characters_not_bytes() {
    let mut validation = Validation::new();
    let accented = "é".repeat(MAX_TEXT_CHARS);
    assert_eq!(
        rapport_wire::required_text("summary", &accented, MAX_TEXT_CHARS, &mut validation),
        Some(accented.clone())
    );
    assert!(validation.is_empty());
    let too_long = format!("{accented}e");
    assert_eq!(
        rapport_wire::optional_text("notes", &too_long, MAX_TEXT_CHARS, &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [(
            "notes".into(),
            format!("must be at most {MAX_TEXT_CHARS} characters")
        )]
    );
}

#[test]
fn required_text_refuses_blank_and_optional_text_allows_empty() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::optional_text("notes", "", MAX_TEXT_CHARS, &mut validation),
        Some(String::new())
    );
    assert!(validation.is_empty());
    assert_eq!(
        rapport_wire::required_text("topic", " \t\n", MAX_CODE_CHARS, &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [("topic".into(), "must not be empty".into())]
    );
}

#[test]
fn a_request_id_is_optional_and_bounded() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::request_id("request_id", "", &mut validation),
        None
    );
    assert!(validation.is_empty(), "absent is not a violation");
    assert_eq!(
        rapport_wire::request_id("request_id", "r-1", &mut validation),
        Some("r-1".into())
    );
    let long = "r".repeat(MAX_CODE_CHARS + 1);
    assert_eq!(
        rapport_wire::request_id("request_id", &long, &mut validation),
        None
    );
    assert_eq!(validation.violations().len(), 1);
    assert_eq!(validation.violations()[0].field, "request_id");
}

fn channel(value: i32) -> Option<common::Channel> {
    common::Channel::try_from(value).ok()
}

#[test]
fn a_required_enum_must_be_set_and_known() {
    let mut validation = Validation::new();
    let phone = common::Channel::Phone as i32;
    assert_eq!(
        rapport_wire::known_enum(
            "channel",
            phone,
            channel,
            common::Channel::Unspecified,
            &mut validation
        ),
        Some(common::Channel::Phone)
    );
    assert_eq!(
        rapport_wire::known_enum(
            "channel",
            0,
            channel,
            common::Channel::Unspecified,
            &mut validation
        ),
        None
    );
    assert_eq!(
        rapport_wire::known_enum(
            "channel",
            999,
            channel,
            common::Channel::Unspecified,
            &mut validation
        ),
        None
    );
    assert_eq!(
        violations(&validation),
        [
            ("channel".into(), "is required".into()),
            ("channel".into(), "has no value 999".into()),
        ]
    );
}

#[test]
fn an_optional_enum_allows_unspecified_but_not_unknown() {
    let mut validation = Validation::new();
    assert_eq!(
        rapport_wire::optional_enum("channel", 0, channel, &mut validation),
        Some(common::Channel::Unspecified)
    );
    assert!(validation.is_empty());
    assert_eq!(
        rapport_wire::optional_enum("channel", -4, channel, &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [("channel".into(), "has no value -4".into())]
    );
}

#[test]
fn an_actor_needs_a_kind_and_an_id_and_both_faults_are_reported() {
    let mut validation = Validation::new();
    assert_eq!(rapport_wire::actor("by", None, &mut validation), None);
    let blank = common::Actor {
        kind: common::ActorKind::Unspecified as i32,
        id: "  ".into(),
    };
    assert_eq!(
        rapport_wire::actor("by", Some(&blank), &mut validation),
        None
    );
    assert_eq!(
        violations(&validation),
        [
            ("by".into(), "is required".into()),
            ("by.kind".into(), "is required".into()),
            ("by.id".into(), "must not be empty".into()),
        ]
    );
}

#[test]
fn an_actor_goes_out_as_it_came_in() {
    let pb = common::Actor {
        kind: common::ActorKind::DebtAdviser as i32,
        id: "stepchange".into(),
    };
    let mut validation = Validation::new();
    let actor = rapport_wire::actor("by", Some(&pb), &mut validation).expect("valid");
    assert_eq!(actor.kind, common::ActorKind::DebtAdviser);
    assert_eq!(actor.id, "stepchange");
    assert_eq!(rapport_wire::actor_to_pb(&actor), pb);
}

// ---- events -----------------------------------------------------------------------------------

fn event(occurred_at: Option<prost_types::Timestamp>) -> common::DomainEvent {
    common::DomainEvent {
        event_id: Id::new().to_string(),
        customer_id: Id::new().to_string(),
        occurred_at,
        ..Default::default()
    }
}

#[test]
fn a_batch_of_the_maximum_is_taken_and_one_more_is_refused_whole() {
    let events = vec![event(None); MAX_EVENTS + 1];
    assert_eq!(rapport_wire::event_batch(&events[..MAX_EVENTS]), Ok(()));
    assert_eq!(rapport_wire::event_batch(&[]), Ok(()));
    let refused = rapport_wire::event_batch(&events).expect_err("too many");
    assert_eq!(
        violations(&refused),
        [(
            "events".into(),
            format!(
                "at most {MAX_EVENTS} events per call, not {}",
                MAX_EVENTS + 1
            )
        )]
    );
}

#[test]
fn an_envelope_carries_the_events_ids_and_its_instant_to_the_microsecond() {
    let now = Timestamp::from_second(1_800_000_000).expect("valid");
    let pb = event(Some(pb_at(1_799_999_000, 250_000_999)));
    let envelope = rapport_wire::event_envelope(&pb, now).expect("valid");
    assert_eq!(
        envelope,
        EventEnvelope {
            event_id: Id::parse(&pb.event_id).expect("id"),
            customer_id: Id::parse(&pb.customer_id).expect("id"),
            at: Timestamp::new(1_799_999_000, 250_000_000).expect("valid"),
        }
    );
}

#[test]
fn an_event_from_a_producer_with_a_fast_clock_is_taken_within_the_tolerance() {
    let now = Timestamp::from_second(1_800_000_000).expect("valid");
    let ahead = rapport_wire::timestamp_to_pb(now + CLOCK_SKEW_TOLERANCE);
    assert!(rapport_wire::event_envelope(&event(Some(ahead)), now).is_ok());
    let beyond = pb_at(now.as_second() + CLOCK_SKEW_TOLERANCE.as_secs() + 1, 0);
    assert_eq!(
        rapport_wire::event_envelope(&event(Some(beyond)), now)
            .expect_err("future")
            .code,
        "INVALID_OCCURRED_AT"
    );
    assert_eq!(
        rapport_wire::event_envelope(&event(Some(pb_at(0, -1))), now)
            .expect_err("not an instant")
            .code,
        "INVALID_OCCURRED_AT"
    );
}

#[test]
fn the_first_fault_of_an_envelope_is_the_one_reported() {
    let now = Timestamp::from_second(1_800_000_000).expect("valid");
    let everything_wrong = common::DomainEvent {
        event_id: String::new(),
        customer_id: "x".into(),
        occurred_at: None,
        ..Default::default()
    };
    assert_eq!(
        rapport_wire::event_envelope(&everything_wrong, now),
        Err(EventRejection::new(
            "INVALID_EVENT_ID",
            "event_id must be a UUID set by the producer"
        ))
    );
}

#[test]
fn a_rejection_becomes_a_reason_that_opposes() {
    let reason =
        EventRejection::new("MISSING_OCCURRED_AT", "occurred_at is required").into_reason();
    assert_eq!(reason.code, "MISSING_OCCURRED_AT");
    assert_eq!(reason.message, "occurred_at is required");
    assert_eq!(reason.effect, common::ReasonEffect::Opposes as i32);
    assert!(reason.rule_ref.is_empty());
    assert!(reason.params.is_empty());
}

#[test]
fn only_an_id_reaches_a_span_and_whatever_else_a_caller_typed_stays_out() {
    let id = Id::new();
    let traced = rapport_wire::traced_id(&id.to_string()).map(|v| format!("{v:?}"));
    assert_eq!(traced, Some(id.to_string()));
    for typed in [
        "",
        "Ada Lovelace",
        "ada@example.com",
        "+447700900123",
        // A UUID, but not one of ours (v4, not v7).
        "67e55044-10b1-426f-9247-bb680e5fe0c8",
    ] {
        assert!(
            rapport_wire::traced_id(typed).is_none(),
            "{typed:?} reached a span"
        );
    }
}
