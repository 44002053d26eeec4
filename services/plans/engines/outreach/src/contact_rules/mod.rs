//! Contact rules: may the bank contact this customer about this debt, on this channel, at this
//! instant? Every rule is evaluated and explained, and a refusal says when contact would next be
//! allowed (DESIGN.md, Rules with numbers: Contact; Principles 1 "Dignity first" and 5 "Explain
//! everything").
//!
//! Pure: no clock, no storage. The caller passes the rule set of the customer's jurisdiction,
//! what profiles knows about the customer, the protected states in force (from plans), the
//! contact ledger of this customer for this debt, and the contact it intends to make.
//!
//! Local time always means the customer's IANA time zone (bundled tz database); "days" are the
//! customer's local calendar days, so windows stay right across daylight-saving changes.
//!
//! The rules, in the order their reasons appear (each rule's source, per rule set, is its
//! reason's `rule_ref`):
//! - `DO_NOT_CONTACT`: no contact at all; notices the law requires may still go by letter
//!   (12 CFR 1006.6(c); CONC 7.9.4R).
//! - `CHANNEL_REFUSED`, `CHANNEL_OPTED_OUT`, `ELECTRONIC_CONSENT`: a refused or opted-out channel
//!   is closed, and so are electronic channels once consent is withdrawn (12 CFR 1006.14(h)(1),
//!   1006.6(e); CONC 7.9.4R).
//! - `PROTECTED_STATE`: no payment demand while a protected state holds (Debt Respite Scheme
//!   Regulations 2020).
//! - `VULNERABILITY_HOLD`: a specialist makes the contact; nothing automated (FCA FG21/1).
//! - `CONTACT_HOURS`: only within the local contact hours (12 CFR 1006.6(b)(1)(i); CONC 7.9.4R;
//!   Consumer Credit Act 1995 (IE) s.46).
//! - `SUNDAY_OR_PUBLIC_HOLIDAY`: in Ireland no calls or visits on Sundays and public holidays
//!   (Consumer Credit Act 1995 s.46(a)(ii)(II)), by a holiday calendar computed for the year
//!   asked (`calendar.rs`) whose source and coverage every reason states; a day the calendar
//!   does not cover is never called an ordinary day.
//! - `QUIET_HOURS`: the customer's own inconvenient times (12 CFR 1006.6(b)(1); CONC 7.9.4R).
//! - `CALL_FREQUENCY`: at most 7 call attempts in 7 days per debt (12 CFR 1006.14(b)(2)(i)(A)).
//! - `POST_CONVERSATION_WAIT`: no call for 7 days after a telephone conversation, that day being
//!   day 1 (12 CFR 1006.14(b)(2)(i)(B)).
//! - `ELECTRONIC_OPT_OUT_NOTICE`: every electronic message carries an opt-out (12 CFR 1006.6(e)).
//! - `NOTHING_PAST_DUE`: no collections contact (a payment demand, or an unspecified purpose)
//!   about a debt with nothing past due, whatever the stage it was in before (DESIGN.md). Help,
//!   service messages and notices the law requires need no arrears. Last, so the positions of
//!   the older reasons stay where clients pinned them.
//!
//! The hours floor (DESIGN.md): every channel that reaches a person at a moment (calls, visits,
//! video, text, push, in-app, messaging apps) keeps to 08:00–21:00 local time even where the
//! jurisdiction's own hours rule does not name it, and an email's send time is held to the same
//! window (it lands on the customer's phone when sent). Letters are not checked: a letter
//! reaches the customer with the post, whenever it was dispatched. A jurisdiction's own window
//! may be stricter, never looser without a cited rule (`RuleSet::looser_hours_rule`, checked by
//! `RuleSet::validate`).

use jiff::civil::{Date, DateTime, Time, Weekday, time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp, ToSpan};
use rapport_proto::common::v1::{Channel, Direction};
use rapport_proto::plans::v1::{ContactOutcome, ContactPurpose, ProtectionKind};

use crate::calendar::{CalendarError, DayStatus, HolidayCalendar};
use crate::{Explanation, ReasonEffect};

mod decision;
mod evaluation;
mod gates;
mod inputs;
mod local_time;
mod next_action;
mod rule_sets;
#[cfg(test)]
mod tests;
mod timing;

pub use decision::*;
use evaluation::*;
pub use gates::*;
pub use inputs::*;
use local_time::*;
pub use next_action::*;
pub use rule_sets::*;
use timing::*;
