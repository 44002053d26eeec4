//! Contact-rule tests, one file per concern; the shared fixtures are here.

use super::*;
use jiff::civil::date;

const NEW_YORK: &str = "America/New_York";
const BUCHAREST: &str = "Europe/Bucharest";
const DUBLIN: &str = "Europe/Dublin";
const LONDON: &str = "Europe/London";

fn zone(name: &str) -> TimeZone {
    TimeZone::get(name).expect("zone in the bundled tz database")
}

fn at(text: &str) -> Timestamp {
    text.parse().expect("instant")
}

/// The instant the wall clock in `zone_name` reads `wall` ("2026-03-08T08:30"), unambiguous.
fn local(zone_name: &str, wall: &str) -> Timestamp {
    let wall: DateTime = wall.parse().expect("civil datetime");
    wall.to_zoned(zone(zone_name))
        .expect("local time")
        .timestamp()
}

/// A customer with no preferences recorded.
fn customer(zone_name: &str) -> Customer {
    Customer {
        time_zone: zone(zone_name),
        quiet_hours: Vec::new(),
        refused_channels: Vec::new(),
        do_not_contact: false,
        opted_out_channels: Vec::new(),
        electronic_collections_consent: None,
        consented_to_out_of_hours_calls: false,
        vulnerable: false,
    }
}

/// A debt 30 days behind, so collections rules other than the past-due one are what decide.
const BEHIND: PastDue = PastDue {
    days: 30,
    arrears: 20_000,
};

fn request(channel: Channel, at: Timestamp) -> Request {
    Request {
        channel,
        at,
        purpose: ContactPurpose::PaymentDemand,
        automated: false,
        past_due: BEHIND,
    }
}

fn call(at: Timestamp) -> Request {
    request(Channel::Phone, at)
}

fn attempt(direction: Direction, outcome: ContactOutcome, at: Timestamp) -> Attempt {
    Attempt {
        channel: Channel::Phone,
        direction,
        outcome,
        at,
        automated: false,
    }
}

fn outbound_call(at: Timestamp) -> Attempt {
    attempt(Direction::Outbound, ContactOutcome::NoAnswer, at)
}

fn decide_plain(
    rules: &RuleSet,
    customer: &Customer,
    ledger: &[Attempt],
    request: &Request,
) -> Decision {
    decide(rules, customer, &Protections::default(), ledger, request)
}

fn reason(decision: &Decision, rule: ContactRule) -> &Explanation {
    decision
        .reasons
        .iter()
        .find(|r| r.code == rule.code())
        .expect("every rule gives a reason")
}

fn param<'e>(explanation: &'e Explanation, key: &str) -> Option<&'e str> {
    explanation
        .params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn opposing(decision: &Decision) -> Vec<&str> {
    decision
        .reasons
        .iter()
        .filter(|r| r.effect == ReasonEffect::Opposes)
        .map(|r| r.code.as_ref())
        .collect()
}

mod call_frequency;
mod contact_hours;
mod daylight_saving;
mod holidays;
mod opt_outs;
mod properties;
mod protected_states;
mod quiet_hours;
mod rule_sets;
