//! What a decision is made from: the customer, the protected states, the ledger, the request.

use super::*;

/// A span of local time the customer asked not to be contacted in: `(start, end, days)`, end
/// exclusive. An end at or before the start wraps past midnight (equal: a whole day); `days`
/// are the days the span *starts* on, empty meaning every day. Same shape as profiles'
/// `QuietHours`.
pub type QuietHours = (Time, Time, Vec<Weekday>);

/// What profiles knows about how and when the customer may be contacted.
#[derive(Debug, Clone)]
pub struct Customer {
    /// Where "local time" is.
    pub time_zone: TimeZone,
    pub quiet_hours: Vec<QuietHours>,
    /// Channels the customer refused (profiles `do_not_contact_channels`).
    pub refused_channels: Vec<Channel>,
    /// No contact at all except notices the law requires.
    pub do_not_contact: bool,
    /// Channels the customer opted out of through a message's opt-out. Opt-outs recorded in the
    /// ledger (`ContactOutcome::OptedOut`) count as well.
    pub opted_out_channels: Vec<Channel>,
    /// The latest decision on collections contact by electronic channels, if any.
    pub electronic_collections_consent: Option<bool>,
    /// The customer agreed to calls and visits outside the contact hours and on Sundays and
    /// public holidays (Reg F 1006.6(b)(1): prior consent given directly; CCA 1995 s.46:
    /// "without his consent"). The electronic consent above does not count for this.
    pub consented_to_out_of_hours_calls: bool,
    /// Profiles records a vulnerability (FCA FG21/1): contact is held as under a vulnerability
    /// hold, for as long as the record stands.
    pub vulnerable: bool,
}

/// One entry of the contact ledger of this customer for this debt (the caller filters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub channel: Channel,
    pub direction: Direction,
    pub outcome: ContactOutcome,
    pub at: Timestamp,
    pub automated: bool,
}

/// One protected state of the customer covering this debt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProtectionPeriod {
    pub kind: ProtectionKind,
    pub starts_at: Timestamp,
    /// Exclusive; `None` while open-ended (crisis treatment ongoing, dispute open, hold in
    /// place). A breathing space ends at midnight local time: see [`local_midnight_after`].
    pub ends_at: Option<Timestamp>,
}

impl ProtectionPeriod {
    /// A protection as plans keeps it (its end exclusive) on the customer's calendar: a
    /// breathing space protects through its last day, to midnight local time.
    pub fn on_calendar(
        kind: ProtectionKind,
        starts_at: Timestamp,
        ends_at: Option<Timestamp>,
        time_zone: &TimeZone,
    ) -> Self {
        let ends_at = match (kind, ends_at) {
            (ProtectionKind::BreathingSpace, Some(end)) => {
                let last_day = (end - SignedDuration::from_micros(1))
                    .to_zoned(time_zone.clone())
                    .date();
                local_midnight_after(last_day, time_zone).ok().or(Some(end))
            }
            (_, end) => end,
        };
        Self {
            kind,
            starts_at,
            ends_at,
        }
    }

    pub fn in_force(&self, at: Timestamp) -> bool {
        self.starts_at <= at && self.ends_at.is_none_or(|end| at < end)
    }
}

/// The protected states of the customer covering this debt. Every one stops payment demands; a
/// vulnerability hold also routes contact to a specialist and forbids automated contact
/// (`Protection::effects`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Protections {
    pub periods: Vec<ProtectionPeriod>,
}

impl Protections {
    pub(super) fn in_force(&self, at: Timestamp) -> impl Iterator<Item = &ProtectionPeriod> {
        self.periods.iter().filter(move |p| p.in_force(at))
    }
}

/// The contact the caller intends to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Request {
    pub channel: Channel,
    /// The contact time; for email and text, the send time.
    pub at: Timestamp,
    /// `Unspecified` is treated as a payment demand, the most restricted purpose.
    pub purpose: ContactPurpose,
    /// Automated dialling or sending.
    pub automated: bool,
    /// What is past due on the debt, as billing last reported it.
    pub past_due: PastDue,
}

/// What is past due on a debt: days past due and arrears (minor units).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PastDue {
    pub days: u32,
    pub arrears: i64,
}

impl PastDue {
    /// Something is owed late: either figure counts, so a report with only one of them set
    /// never hides a debt.
    pub fn anything(self) -> bool {
        self.days > 0 || self.arrears > 0
    }
}
