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

use crate::domain::affordability::{Explanation, ReasonEffect};
use crate::domain::calendar::{CalendarError, DayStatus, HolidayCalendar};

// ---------------------------------------------------------------- rule sets

/// A limit on call attempts: at most `attempts` in any `days` consecutive local days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallCap {
    pub attempts: u32,
    pub days: u32,
}

/// Which channels a time-of-day rule covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelScope {
    /// Every channel that reaches the customer when it is used. Letters are left out: a letter
    /// arrives with the post, whenever it was dispatched.
    EveryChannelButLetters,
    /// Only these channels.
    Only(Vec<Channel>),
}

impl ChannelScope {
    pub fn covers(&self, channel: Channel) -> bool {
        match self {
            Self::EveryChannelButLetters => channel != Channel::Letter,
            Self::Only(channels) => channels.contains(&channel),
        }
    }
}

/// The source quoted on each rule's reason (`rule_ref`); empty where a rule set has no such rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleRefs {
    pub do_not_contact: &'static str,
    pub refused_channel: &'static str,
    pub opted_out_channel: &'static str,
    pub electronic_consent: &'static str,
    pub protected_state: &'static str,
    pub vulnerability_hold: &'static str,
    pub contact_hours: &'static str,
    pub sundays_and_public_holidays: &'static str,
    pub quiet_hours: &'static str,
    pub call_frequency: &'static str,
    pub post_conversation_wait: &'static str,
    pub electronic_opt_out: &'static str,
}

/// The contact rules of one jurisdiction. Every number is a default the bank may change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    /// "US", "GB", "IE" or "DEFAULT"; reported as `CheckContactResponse.rule_set`.
    pub name: &'static str,
    /// Reported as `rule_set_version`; change it whenever a number or a holiday changes, so a
    /// stored decision names the rules it was made under.
    pub version: &'static str,
    /// At most this many outbound call attempts in that many consecutive local days, per debt.
    pub call_cap: Option<CallCap>,
    /// No call within this many days after a telephone conversation, the conversation day
    /// being day 1.
    pub post_conversation_wait_days: Option<u32>,
    /// Local contact hours, `[start, end)`: the start is allowed, the end is not.
    pub allowed_hours: (Time, Time),
    /// Channels the contact hours (and the Sunday rule) cover.
    pub contact_time_channels: ChannelScope,
    /// No calls or visits on Sundays, nor on the public holidays of this calendar (in local
    /// dates). `None`: the rule set has no such rule and keeps no calendar, so its reasons say
    /// nothing about holidays.
    pub sundays_and_public_holidays: Option<HolidayCalendar>,
    /// The contact hours also cover the send time of email, text and other electronic messages.
    pub electronic_send_time_counts: bool,
    /// The cited rule that lets `allowed_hours` reach outside the default floor
    /// ([`DEFAULT_CONTACT_HOURS`]); `None` (every shipped set): they may only be stricter.
    pub looser_hours_rule: Option<&'static str>,
    pub refs: RuleRefs,
}

/// The hours floor, `[start, end)` local time: no jurisdiction is looser without a cited rule,
/// and channels a jurisdiction's hours rule does not name keep to it (DESIGN.md).
pub const DEFAULT_CONTACT_HOURS: (Time, Time) = (time(8, 0, 0, 0), time(21, 0, 0, 0));
const HOURS_FLOOR: &str = "DESIGN.md: the hours floor (08:00–21:00 local) applies to every \
                           channel that reaches a person at a moment; a jurisdiction may be \
                           stricter, never looser without a cited rule";
const NOTHING_PAST_DUE: &str = "DESIGN.md: no collections contact (payment demand, collections templates) without \
     something past due";

// Sources quoted by more than one rule or rule set.
const REG_F_HOURS: &str = "12 CFR 1006.6(b)(1)(i)";
const REG_F_CALL_FREQUENCY: &str = "12 CFR 1006.14(b)(2)(i)(A)";
const REG_F_CONVERSATION_WAIT: &str = "12 CFR 1006.14(b)(2)(i)(B)";
const REG_F_OPT_OUT: &str = "12 CFR 1006.6(e)";
const CONC_REASONABLE: &str = "FCA CONC 7.9.4R";
const DESIGN_OPT_OUT: &str = "DESIGN.md: every electronic message carries a simple opt-out";
const CONSENT_RECORD: &str =
    "Customer consent record (profiles: collections by electronic channels)";
const RESPITE: &str = "Debt Respite Scheme (Breathing Space Moratorium and Mental Health Crisis \
                       Moratorium) (England and Wales) Regulations 2020; \
                       DESIGN.md protected states";
const VULNERABILITY: &str = "FCA FG21/1 (vulnerable customers); DESIGN.md vulnerability hold";
const IE_CCA_S46: &str = "Consumer Credit Act 1995 (Ireland) s.46(a)(ii)(I)";

/// Version of the shipped rule sets.
const SHIPPED_VERSION: &str = "2026-11-22";
/// Version of the Irish rule set: public holidays computed for any year, with the calendar's
/// source and coverage on every reason, and days it does not cover refused (issue 17); texts,
/// push, in-app and email keep to the default hours floor (issue 19).
const IRELAND_VERSION: &str = "2026-12-02.2";

impl RuleSet {
    /// US Regulation F (12 CFR 1006): 7 call attempts in 7 days, 7 days' wait after a
    /// conversation, 08:00–21:00 at the customer's location for calls, visits and the send time
    /// of electronic messages.
    pub fn us_reg_f() -> Self {
        Self {
            name: "US",
            version: SHIPPED_VERSION,
            call_cap: Some(CallCap {
                attempts: 7,
                days: 7,
            }),
            post_conversation_wait_days: Some(7),
            allowed_hours: (time(8, 0, 0, 0), time(21, 0, 0, 0)),
            contact_time_channels: ChannelScope::Only(vec![
                Channel::Phone,
                Channel::Visit,
                Channel::Video,
            ]),
            sundays_and_public_holidays: None,
            electronic_send_time_counts: true,
            looser_hours_rule: None,
            refs: RuleRefs {
                do_not_contact: "15 U.S.C. 1692c(c); 12 CFR 1006.6(c)",
                refused_channel: "12 CFR 1006.14(h)(1)",
                opted_out_channel: REG_F_OPT_OUT,
                electronic_consent: CONSENT_RECORD,
                protected_state: "DESIGN.md protected states; disputes: 15 U.S.C. 1692g(b)",
                vulnerability_hold: VULNERABILITY,
                contact_hours: REG_F_HOURS,
                sundays_and_public_holidays: "",
                quiet_hours: "12 CFR 1006.6(b)(1) (times known to be inconvenient)",
                call_frequency: REG_F_CALL_FREQUENCY,
                post_conversation_wait: REG_F_CONVERSATION_WAIT,
                electronic_opt_out: REG_F_OPT_OUT,
            },
        }
    }

    /// UK, FCA CONC 7 and the Debt Respite Scheme: no contact at unreasonable times
    /// (08:00–21:00 by default, cf. MCOB 13.5.4G), the customer's reasonable requests on when and
    /// how honoured, no numeric call cap.
    pub fn uk_conc7() -> Self {
        Self {
            name: "GB",
            version: SHIPPED_VERSION,
            call_cap: None,
            post_conversation_wait_days: None,
            allowed_hours: (time(8, 0, 0, 0), time(21, 0, 0, 0)),
            contact_time_channels: ChannelScope::EveryChannelButLetters,
            sundays_and_public_holidays: None,
            electronic_send_time_counts: true,
            looser_hours_rule: None,
            refs: RuleRefs {
                do_not_contact: "FCA CONC 7.9.4R; statutory notices: Consumer Credit Act 1974 \
                     ss.86B-87",
                refused_channel: CONC_REASONABLE,
                opted_out_channel: CONC_REASONABLE,
                electronic_consent: CONSENT_RECORD,
                protected_state: RESPITE,
                vulnerability_hold: VULNERABILITY,
                contact_hours: "FCA CONC 7.9.4R (reasonable hours, cf. MCOB 13.5.4G)",
                sundays_and_public_holidays: "",
                quiet_hours: CONC_REASONABLE,
                call_frequency: "",
                post_conversation_wait: "",
                electronic_opt_out: DESIGN_OPT_OUT,
            },
        }
    }

    /// Ireland, Consumer Credit Act 1995 s.46 (and the Central Bank's Consumer Protection Code):
    /// no calls or visits between 21:00 and 09:00, nor on Sundays and public holidays, without
    /// the customer's consent. Public holidays come from [`HolidayCalendar::ireland`]. s.46 names
    /// calls and visits only; texts, push, in-app messages and email keep to the default floor
    /// (08:00–21:00), which no Irish rule loosens.
    pub fn ireland() -> Self {
        Self {
            name: "IE",
            version: IRELAND_VERSION,
            call_cap: None,
            post_conversation_wait_days: None,
            allowed_hours: (time(9, 0, 0, 0), time(21, 0, 0, 0)),
            contact_time_channels: ChannelScope::Only(vec![Channel::Phone, Channel::Visit]),
            sundays_and_public_holidays: Some(HolidayCalendar::ireland()),
            electronic_send_time_counts: false,
            looser_hours_rule: None,
            refs: RuleRefs {
                do_not_contact: "Customer instruction; statutory notices excepted",
                refused_channel: "Consumer Credit Act 1995 (Ireland) s.46 (consent); \
                     customer instruction",
                opted_out_channel: DESIGN_OPT_OUT,
                electronic_consent: CONSENT_RECORD,
                protected_state: "DESIGN.md protected states",
                vulnerability_hold: VULNERABILITY,
                contact_hours: IE_CCA_S46,
                sundays_and_public_holidays: "Consumer Credit Act 1995 (Ireland) s.46(a)(ii)(II); \
                     public holidays: Organisation of Working Time Act 1997 Sch. 2, as amended",
                quiet_hours: "Customer's stated preferences (DESIGN.md)",
                call_frequency: "",
                post_conversation_wait: "",
                electronic_opt_out: DESIGN_OPT_OUT,
            },
        }
    }

    /// For a jurisdiction without its own rule set: UK-like hours (08:00–21:00 every day, every
    /// channel but letters) and the US 7-in-7 call cap, nothing looser.
    pub fn conservative_default() -> Self {
        Self {
            name: "DEFAULT",
            version: SHIPPED_VERSION,
            call_cap: Some(CallCap {
                attempts: 7,
                days: 7,
            }),
            post_conversation_wait_days: None,
            allowed_hours: (time(8, 0, 0, 0), time(21, 0, 0, 0)),
            contact_time_channels: ChannelScope::EveryChannelButLetters,
            sundays_and_public_holidays: None,
            electronic_send_time_counts: true,
            looser_hours_rule: None,
            refs: RuleRefs {
                do_not_contact: "Customer instruction; statutory notices excepted",
                refused_channel: CONC_REASONABLE,
                opted_out_channel: DESIGN_OPT_OUT,
                electronic_consent: CONSENT_RECORD,
                protected_state: "DESIGN.md protected states",
                vulnerability_hold: VULNERABILITY,
                contact_hours: "Rapport default, after FCA CONC 7.9.4R",
                sundays_and_public_holidays: "",
                quiet_hours: CONC_REASONABLE,
                call_frequency: "Rapport default, after 12 CFR 1006.14(b)(2)(i)(A)",
                post_conversation_wait: "",
                electronic_opt_out: DESIGN_OPT_OUT,
            },
        }
    }

    /// The rule set for an ISO 3166-1 alpha-2 code ("UK" is accepted for "GB"); any other code
    /// gets the conservative default.
    pub fn for_jurisdiction(code: &str) -> Self {
        match code.trim().to_ascii_uppercase().as_str() {
            "US" => Self::us_reg_f(),
            "GB" | "UK" => Self::uk_conc7(),
            "IE" => Self::ireland(),
            _ => Self::conservative_default(),
        }
    }

    /// Checks a configured rule set: contact hours must be a non-empty span within one day and
    /// within the default floor unless a cited rule allows more, a cap or a wait must not be
    /// zero, and a holiday calendar's one-off days must lie within the years it claims to know.
    ///
    /// The window is the only way a rule set can be looser than the floor: a timed channel its
    /// hours rule does not name is held to the floor by [`decide`].
    pub fn validate(&self) -> Result<(), ContactRulesError> {
        let (start, end) = self.allowed_hours;
        if start >= end {
            return Err(ContactRulesError::EmptyContactHours { start, end });
        }
        let (floor_start, floor_end) = DEFAULT_CONTACT_HOURS;
        let looser = start < floor_start || end > floor_end;
        if looser
            && self
                .looser_hours_rule
                .is_none_or(|cited| cited.trim().is_empty())
        {
            return Err(ContactRulesError::LooserThanTheFloor { start, end });
        }
        if let Some(cap) = self.call_cap
            && (cap.attempts == 0 || cap.days == 0)
        {
            return Err(ContactRulesError::ZeroCallCap);
        }
        if self.post_conversation_wait_days == Some(0) {
            return Err(ContactRulesError::ZeroConversationWait);
        }
        if let Some(calendar) = &self.sundays_and_public_holidays {
            calendar.validate()?;
        }
        Ok(())
    }

    /// The source this rule set quotes for `rule`.
    pub fn rule_ref(&self, rule: ContactRule) -> &'static str {
        let refs = &self.refs;
        match rule {
            ContactRule::DoNotContact => refs.do_not_contact,
            ContactRule::RefusedChannel => refs.refused_channel,
            ContactRule::OptedOutChannel => refs.opted_out_channel,
            ContactRule::ElectronicConsent => refs.electronic_consent,
            ContactRule::ProtectedState => refs.protected_state,
            ContactRule::VulnerabilityHold => refs.vulnerability_hold,
            ContactRule::ContactHours => refs.contact_hours,
            ContactRule::SundaysAndPublicHolidays => refs.sundays_and_public_holidays,
            ContactRule::QuietHours => refs.quiet_hours,
            ContactRule::CallFrequency => refs.call_frequency,
            ContactRule::PostConversationWait => refs.post_conversation_wait,
            ContactRule::ElectronicOptOut => refs.electronic_opt_out,
            ContactRule::NothingPastDue => NOTHING_PAST_DUE,
        }
    }

    /// Whether the contact hours cover `channel`: the channels in scope, plus electronic
    /// messages where their send time counts (Reg F commentary on 1006.6(b)(1)(i)).
    fn hours_cover(&self, channel: Channel) -> bool {
        self.contact_time_channels.covers(channel)
            || (self.electronic_send_time_counts && is_electronic(channel))
    }

    /// The window `channel` keeps to and its source: this rule set's own where its hours rule
    /// names the channel, else the default floor for channels that reach a person at a moment
    /// and for email's send time; `None` for letters and channels the customer starts.
    fn hours_for(&self, channel: Channel) -> Option<((Time, Time), &'static str)> {
        if self.hours_cover(channel) {
            Some((self.allowed_hours, self.refs.contact_hours))
        } else if reaches_at_a_moment(channel) || channel == Channel::Email {
            Some((DEFAULT_CONTACT_HOURS, HOURS_FLOOR))
        } else {
            None
        }
    }
}

impl Default for RuleSet {
    fn default() -> Self {
        Self::conservative_default()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ContactRulesError {
    #[error("contact hours {start}–{end} are empty: the start must come before the end")]
    EmptyContactHours { start: Time, end: Time },
    #[error(
        "contact hours {start}–{end} are looser than the default 08:00–21:00 and cite no rule \
         that allows it"
    )]
    LooserThanTheFloor { start: Time, end: Time },
    #[error("a call cap must allow at least one attempt over at least one day")]
    ZeroCallCap,
    #[error("a post-conversation wait must be at least one day")]
    ZeroConversationWait,
    #[error("the day after {0} cannot be represented")]
    DateOutOfRange(Date),
    #[error(transparent)]
    HolidayCalendar(#[from] CalendarError),
}

// ---------------------------------------------------------------- inputs

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
    fn in_force(&self, at: Timestamp) -> impl Iterator<Item = &ProtectionPeriod> {
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

// ---------------------------------------------------------------- output

/// The rules, in the order their reasons appear in a [`Decision`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContactRule {
    DoNotContact,
    RefusedChannel,
    OptedOutChannel,
    ElectronicConsent,
    ProtectedState,
    VulnerabilityHold,
    ContactHours,
    SundaysAndPublicHolidays,
    QuietHours,
    CallFrequency,
    PostConversationWait,
    ElectronicOptOut,
    NothingPastDue,
}

impl ContactRule {
    pub const ALL: [Self; 13] = [
        Self::DoNotContact,
        Self::RefusedChannel,
        Self::OptedOutChannel,
        Self::ElectronicConsent,
        Self::ProtectedState,
        Self::VulnerabilityHold,
        Self::ContactHours,
        Self::SundaysAndPublicHolidays,
        Self::QuietHours,
        Self::CallFrequency,
        Self::PostConversationWait,
        Self::ElectronicOptOut,
        Self::NothingPastDue,
    ];

    /// The stable `Reason.code`.
    pub fn code(self) -> &'static str {
        match self {
            Self::DoNotContact => "DO_NOT_CONTACT",
            Self::RefusedChannel => "CHANNEL_REFUSED",
            Self::OptedOutChannel => "CHANNEL_OPTED_OUT",
            Self::ElectronicConsent => "ELECTRONIC_CONSENT",
            Self::ProtectedState => "PROTECTED_STATE",
            Self::VulnerabilityHold => "VULNERABILITY_HOLD",
            Self::ContactHours => "CONTACT_HOURS",
            Self::SundaysAndPublicHolidays => "SUNDAY_OR_PUBLIC_HOLIDAY",
            Self::QuietHours => "QUIET_HOURS",
            Self::CallFrequency => "CALL_FREQUENCY",
            Self::PostConversationWait => "POST_CONVERSATION_WAIT",
            Self::ElectronicOptOut => "ELECTRONIC_OPT_OUT_NOTICE",
            Self::NothingPastDue => "NOTHING_PAST_DUE",
        }
    }
}

/// Code of the extra reason added when no allowed moment exists within the search horizon.
pub const NO_ALLOWED_TIME_WITHIN_HORIZON: &str = "NO_ALLOWED_TIME_WITHIN_HORIZON";
/// Code of the extra reason added when the rules blocking now end, but by then another rule
/// blocks with no foreseeable end (e.g. an open-ended protection that starts later).
pub const BLOCKED_INDEFINITELY_LATER: &str = "BLOCKED_INDEFINITELY_LATER";

/// How far ahead [`decide`] looks for the next allowed moment.
pub const SEARCH_HORIZON_DAYS: i64 = 400;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    /// One reason per rule, in [`ContactRule::ALL`] order: blocking ones `Opposes`, passing
    /// ones `Supports`, rules that do not apply `Neutral`.
    pub reasons: Vec<Explanation>,
    /// When refused, the earliest instant at which this contact would be allowed, given the
    /// same ledger; `None` when allowed or when none is foreseeable (do-not-contact, refused or
    /// opted-out channel, open-ended protection, nothing within [`SEARCH_HORIZON_DAYS`]).
    pub next_allowed_at: Option<Timestamp>,
    /// A vulnerability hold is in force: a specialist must make the contact.
    pub route_to_specialist: bool,
    /// The rule set applied, and its version.
    pub rule_set: &'static str,
    pub rule_set_version: &'static str,
}

/// Decides whether `request` may go ahead, with a reason for every rule and, when refused, the
/// next allowed instant. Ledger entries at or after `request.at` are ignored, so a stored
/// decision replays the same against a later ledger.
pub fn decide(
    rules: &RuleSet,
    customer: &Customer,
    protections: &Protections,
    ledger: &[Attempt],
    request: &Request,
) -> Decision {
    let inputs = Inputs {
        rules,
        customer,
        protections,
        ledger,
    };
    let checks = evaluate(&inputs, *request);
    let blocks = blocks_of(&checks);
    let allowed = blocks.is_empty();
    let mut reasons: Vec<Explanation> = checks.into_iter().map(|c| c.reason).collect();
    let next_allowed_at = if allowed {
        None
    } else {
        let (next, unforeseeable) = explain_search(next_allowed(&inputs, request, blocks));
        reasons.extend(unforeseeable);
        next
    };
    Decision {
        allowed,
        reasons,
        next_allowed_at,
        route_to_specialist: customer.vulnerable
            || vulnerability_holds(protections, request.at)
                .next()
                .is_some(),
        rule_set: rules.name,
        rule_set_version: rules.version,
    }
}

/// The next allowed instant a search found, or the reason it found none when the rules'
/// reasons do not already say it (they do when a rule blocking now has no foreseeable end).
fn explain_search(outcome: NextAllowed) -> (Option<Timestamp>, Option<Explanation>) {
    match outcome {
        NextAllowed::At(at) => (Some(at), None),
        NextAllowed::Unforeseeable => (None, None),
        NextAllowed::BlockedLater { from, rules } => {
            let rules = rules.join(", ");
            let reason = Explanation::new(
                BLOCKED_INDEFINITELY_LATER,
                ReasonEffect::Neutral,
                "",
                format!(
                    "The rules blocking now would pass at {from}, but from then on these block \
                     contact with no foreseeable end: {rules}."
                ),
            )
            .param("from", from)
            .param("rules", rules);
            (None, Some(reason))
        }
        NextAllowed::BeyondHorizon => {
            let reason = Explanation::new(
                NO_ALLOWED_TIME_WITHIN_HORIZON,
                ReasonEffect::Neutral,
                "",
                format!(
                    "No moment in the next {SEARCH_HORIZON_DAYS} days satisfies every rule; check \
                     the customer's quiet hours against the contact hours."
                ),
            )
            .param("horizon_days", SEARCH_HORIZON_DAYS);
            (None, Some(reason))
        }
    }
}

/// The first instant of the local day after `last_day` in `time_zone`: where a protection whose
/// last protected day is `last_day` ends (e.g. the end date of a breathing space on the
/// Insolvency Service's notice, with the England and Wales zone `Europe/London`).
pub fn local_midnight_after(
    last_day: Date,
    time_zone: &TimeZone,
) -> Result<Timestamp, ContactRulesError> {
    last_day
        .tomorrow()
        .ok()
        .and_then(|day| start_of_local_day(time_zone, day))
        .ok_or(ContactRulesError::DateOutOfRange(last_day))
}

// ---------------------------------------------------------------- evaluation

#[derive(Debug, Clone, Copy)]
struct Inputs<'a> {
    rules: &'a RuleSet,
    customer: &'a Customer,
    protections: &'a Protections,
    ledger: &'a [Attempt],
}

/// How long a rule blocks the contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// The rule passes again from this instant (unless something else changes).
    Until(Timestamp),
    /// No end can be foreseen.
    Indefinitely,
}

#[derive(Debug)]
struct Check {
    reason: Explanation,
    block: Option<Block>,
}

impl Check {
    fn pass(reason: Explanation) -> Self {
        Self {
            reason,
            block: None,
        }
    }

    fn block(reason: Explanation, block: Block) -> Self {
        let reason = match block {
            Block::Until(at) => reason.param("until", at),
            Block::Indefinitely => reason,
        };
        Self {
            reason,
            block: Some(block),
        }
    }

    /// A block until `until`, or for good when it cannot be computed (dates beyond year 9999).
    fn block_until(reason: Explanation, until: Option<Timestamp>) -> Self {
        Self::block(reason, until.map_or(Block::Indefinitely, Block::Until))
    }
}

/// One evaluation of every rule for one request at one instant.
#[derive(Debug)]
struct Context<'a> {
    inputs: &'a Inputs<'a>,
    request: Request,
    /// The customer's wall clock at `request.at`.
    local: DateTime,
}

impl Context<'_> {
    fn reason(
        &self,
        rule: ContactRule,
        effect: ReasonEffect,
        message: impl Into<String>,
    ) -> Explanation {
        Explanation::new(
            rule.code(),
            effect,
            self.inputs.rules.rule_ref(rule),
            message,
        )
    }

    fn zone(&self) -> &TimeZone {
        &self.inputs.customer.time_zone
    }

    fn local_date_of(&self, at: Timestamp) -> Date {
        at.to_zoned(self.zone().clone()).date()
    }

    /// The ledger as it stood at the instant evaluated.
    fn earlier_attempts(&self) -> impl Iterator<Item = &Attempt> {
        let at = self.request.at;
        self.inputs.ledger.iter().filter(move |a| a.at < at)
    }

    fn channel_label(&self) -> &'static str {
        channel_label(self.request.channel)
    }
}

fn evaluate(inputs: &Inputs<'_>, request: Request) -> Vec<Check> {
    let cx = Context {
        inputs,
        request,
        local: request
            .at
            .to_zoned(inputs.customer.time_zone.clone())
            .datetime(),
    };
    ContactRule::ALL
        .iter()
        .map(|rule| match rule {
            ContactRule::DoNotContact => do_not_contact(&cx),
            ContactRule::RefusedChannel => refused_channel(&cx),
            ContactRule::OptedOutChannel => opted_out_channel(&cx),
            ContactRule::ElectronicConsent => electronic_consent(&cx),
            ContactRule::ProtectedState => protected_state(&cx),
            ContactRule::VulnerabilityHold => vulnerability_hold(&cx),
            ContactRule::ContactHours => contact_hours(&cx),
            ContactRule::SundaysAndPublicHolidays => sundays_and_public_holidays(&cx),
            ContactRule::QuietHours => quiet_hours(&cx),
            ContactRule::CallFrequency => call_frequency(&cx),
            ContactRule::PostConversationWait => post_conversation_wait(&cx),
            ContactRule::ElectronicOptOut => electronic_opt_out(&cx),
            ContactRule::NothingPastDue => nothing_past_due(&cx),
        })
        .collect()
}

#[derive(Debug)]
enum NextAllowed {
    At(Timestamp),
    /// A rule blocking now has no foreseeable end.
    Unforeseeable,
    /// The rules blocking now end, but at `from` these block with no foreseeable end.
    BlockedLater {
        from: Timestamp,
        rules: Vec<&'static str>,
    },
    BeyondHorizon,
}

/// The blocking rules of one evaluation, by code.
fn blocks_of(checks: &[Check]) -> Vec<(&'static str, Block)> {
    checks
        .iter()
        .filter_map(|c| c.block.map(|block| (c.reason.code, block)))
        .collect()
}

/// Bounds the search; a day takes at most a few steps (quiet hours, contact hours, a holiday).
const MAX_SEARCH_STEPS: usize = 4 * SEARCH_HORIZON_DAYS as usize;

/// The earliest instant at which every rule passes. Each blocking rule reports an instant
/// before which it cannot pass, so the latest of them is a lower bound; re-evaluating there
/// either passes or yields a later bound (quiet hours ending after the contact hours, a Sunday
/// after a Saturday evening, attempts made meanwhile).
fn next_allowed(
    inputs: &Inputs<'_>,
    request: &Request,
    mut blocks: Vec<(&'static str, Block)>,
) -> NextAllowed {
    let horizon = request
        .at
        .checked_add(SignedDuration::from_hours(24 * SEARCH_HORIZON_DAYS))
        .unwrap_or(Timestamp::MAX);
    let mut evaluated_at = request.at;
    for _ in 0..MAX_SEARCH_STEPS {
        let Some(candidate) = latest_end(&blocks) else {
            if evaluated_at == request.at {
                return NextAllowed::Unforeseeable;
            }
            let rules = blocks
                .iter()
                .filter(|(_, block)| *block == Block::Indefinitely)
                .map(|(code, _)| *code)
                .collect();
            return NextAllowed::BlockedLater {
                from: evaluated_at,
                rules,
            };
        };
        if candidate <= evaluated_at {
            // Every block ends after the instant it was evaluated at; never loop in place.
            return NextAllowed::Unforeseeable;
        }
        if candidate > horizon {
            return NextAllowed::BeyondHorizon;
        }
        let later = Request {
            at: candidate,
            ..*request
        };
        blocks = blocks_of(&evaluate(inputs, later));
        if blocks.is_empty() {
            return NextAllowed::At(candidate);
        }
        evaluated_at = candidate;
    }
    NextAllowed::BeyondHorizon
}

/// The latest end of `blocks`, or `None` when one of them has no foreseeable end.
fn latest_end(blocks: &[(&'static str, Block)]) -> Option<Timestamp> {
    blocks
        .iter()
        .try_fold(Timestamp::MIN, |latest, (_, block)| match block {
            Block::Until(at) => Some(latest.max(*at)),
            Block::Indefinitely => None,
        })
}

// ---------------------------------------------------------------- the rules

/// Notices the law requires (arrears and default notices, FDCPA §805(c) notices of remedies)
/// go by letter even when the customer asked for no contact or refused the channel.
fn is_statutory_letter(request: &Request) -> bool {
    request.purpose == ContactPurpose::StatutoryNotice && request.channel == Channel::Letter
}

/// Collections contact: a payment demand, and an unspecified purpose, read as the most
/// restricted one. Help, service messages and statutory notices are not collections contact.
pub fn is_collections(purpose: ContactPurpose) -> bool {
    matches!(
        purpose,
        ContactPurpose::PaymentDemand | ContactPurpose::Unspecified
    )
}

/// Channels that reach the customer at the moment they are used (DESIGN.md hours floor).
/// Email lands when the customer next looks and a letter with the post; web chat, online
/// banking and the branch are the customer's own visits.
fn reaches_at_a_moment(channel: Channel) -> bool {
    matches!(
        channel,
        Channel::Phone
            | Channel::Visit
            | Channel::Video
            | Channel::Sms
            | Channel::Push
            | Channel::InApp
            | Channel::Messaging
    )
}

/// Channels whose messages carry an opt-out (Reg F 1006.6(e) "electronic communications").
fn is_electronic(channel: Channel) -> bool {
    matches!(
        channel,
        Channel::Email | Channel::Sms | Channel::InApp | Channel::Push | Channel::Messaging
    )
}

/// Rule 1, everywhere (12 CFR 1006.6(c); CONC 7.9.4R): a do-not-contact flag closes every
/// channel; a statutory notice may still be sent by letter.
fn do_not_contact(cx: &Context<'_>) -> Check {
    let rule = ContactRule::DoNotContact;
    if !cx.inputs.customer.do_not_contact {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer has not asked us to stop contacting them.",
        ));
    }
    if is_statutory_letter(&cx.request) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer asked us not to contact them, but a notice the law requires may still \
             be sent by letter.",
        ));
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            "The customer asked us not to contact them; only notices the law requires may be \
             sent, by letter.",
        ),
        Block::Indefinitely,
    )
}

/// Rule 2a, everywhere (12 CFR 1006.14(h)(1); CONC 7.9.4R "how they may be contacted"): a
/// channel the customer refused is closed.
fn refused_channel(cx: &Context<'_>) -> Check {
    let rule = ContactRule::RefusedChannel;
    let channel = cx.request.channel;
    let refused = cx.inputs.customer.refused_channels.contains(&channel);
    if !refused {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                format!(
                    "The customer has not refused contact by {}.",
                    cx.channel_label()
                ),
            )
            .param("channel", channel.as_str_name()),
        );
    }
    if is_statutory_letter(&cx.request) {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                "The customer refused letters, but a notice the law requires is still sent by \
                 letter.",
            )
            .param("channel", channel.as_str_name()),
        );
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!("The customer refused contact by {}.", cx.channel_label()),
        )
        .param("channel", channel.as_str_name()),
        Block::Indefinitely,
    )
}

/// Rule 2b, everywhere (12 CFR 1006.6(e)): every electronic message carries an opt-out, and a
/// channel the customer opted out of is closed. Opt-outs come from the profile and the ledger.
fn opted_out_channel(cx: &Context<'_>) -> Check {
    let rule = ContactRule::OptedOutChannel;
    let channel = cx.request.channel;
    let in_profile = cx.inputs.customer.opted_out_channels.contains(&channel);
    let in_ledger = cx
        .earlier_attempts()
        .any(|a| a.channel == channel && a.outcome == ContactOutcome::OptedOut);
    if !(in_profile || in_ledger) || is_statutory_letter(&cx.request) {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                format!("The customer has not opted out of {}.", cx.channel_label()),
            )
            .param("channel", channel.as_str_name()),
        );
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!(
                "The customer opted out of {}; the channel is closed.",
                cx.channel_label()
            ),
        )
        .param("channel", channel.as_str_name())
        .param(
            "recorded_in",
            if in_profile {
                "profile"
            } else {
                "contact ledger"
            },
        ),
        Block::Indefinitely,
    )
}

/// Rule 2c, everywhere: a customer who withdrew consent to collections contact by electronic
/// channels is not contacted that way; no decision recorded is neutral (the opt-out in every
/// message stays the customer's control).
fn electronic_consent(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ElectronicConsent;
    if !is_electronic(cx.request.channel) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!(
                "Consent to electronic contact does not concern {}.",
                cx.channel_label()
            ),
        ));
    }
    match cx.inputs.customer.electronic_collections_consent {
        Some(true) => Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer agreed to be contacted about their account electronically.",
        )),
        None => Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "The customer has recorded no decision on electronic contact; the message carries \
             an opt-out.",
        )),
        Some(false) => Check::block(
            cx.reason(
                rule,
                ReasonEffect::Opposes,
                "The customer withdrew consent to be contacted about their account electronically.",
            ),
            Block::Indefinitely,
        ),
    }
}

/// Rule 3, everywhere (Debt Respite Scheme Regulations 2020; DESIGN.md protected states): while
/// a protected state holds, no payment demand is made — in a breathing space the debt adviser
/// is the contact point. Support and notices the law requires remain allowed.
fn protected_state(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ProtectedState;
    let in_force: Vec<&ProtectionPeriod> = cx.inputs.protections.in_force(cx.request.at).collect();
    if in_force.is_empty() {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "No protected state is in force.",
        ));
    }
    let kinds = in_force
        .iter()
        .map(|p| protection_label(p.kind))
        .collect::<Vec<_>>()
        .join(", ");
    let allowed_anyway = match cx.request.purpose {
        ContactPurpose::Support => Some("an offer of support"),
        ContactPurpose::StatutoryNotice => Some("a notice the law requires"),
        ContactPurpose::PaymentDemand | ContactPurpose::Unspecified => None,
    };
    if let Some(what) = allowed_anyway {
        let message = format!("Payment demands are stopped ({kinds}); {what} remains allowed.");
        return Check::pass(
            cx.reason(rule, ReasonEffect::Supports, message)
                .param("protections", &kinds),
        );
    }
    let adviser = in_force.iter().any(|p| {
        matches!(
            p.kind,
            ProtectionKind::BreathingSpace | ProtectionKind::MentalHealthCrisis
        )
    });
    let contact_point = if adviser {
        "; the debt adviser is the contact point"
    } else {
        ""
    };
    let message = format!("No payment demand while {kinds} is in force{contact_point}.");
    Check::block(
        cx.reason(rule, ReasonEffect::Opposes, message)
            .param("protections", &kinds),
        latest_protection_end(&in_force),
    )
}

/// When all of `periods` have ended; `Indefinitely` if one is open-ended.
fn latest_protection_end(periods: &[&ProtectionPeriod]) -> Block {
    periods
        .iter()
        .try_fold(Timestamp::MIN, |latest, p| {
            p.ends_at.map(|end| latest.max(end))
        })
        .map_or(Block::Indefinitely, Block::Until)
}

fn vulnerability_holds(
    protections: &Protections,
    at: Timestamp,
) -> impl Iterator<Item = &ProtectionPeriod> {
    protections
        .in_force(at)
        .filter(|p| p.kind == ProtectionKind::VulnerabilityHold)
}

/// Rule 3b, everywhere (FCA FG21/1; DESIGN.md): a vulnerability hold, or a vulnerability
/// profiles records, routes contact to a specialist and forbids automated contact (automated
/// dialling above all) until it ends.
fn vulnerability_hold(cx: &Context<'_>) -> Check {
    let rule = ContactRule::VulnerabilityHold;
    let holds: Vec<&ProtectionPeriod> =
        vulnerability_holds(cx.inputs.protections, cx.request.at).collect();
    let recorded = cx.inputs.customer.vulnerable;
    if holds.is_empty() && !recorded {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "No vulnerability hold is in force.",
        ));
    }
    let why = if recorded {
        "Profiles records a vulnerability"
    } else {
        "A vulnerability hold is in force"
    };
    if !cx.request.automated || is_statutory_letter(&cx.request) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!("{why}: a specialist must make this contact."),
        ));
    }
    Check::block(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!("{why}: no automated contact; a specialist must make it."),
        ),
        // The record has no end date: it holds until profiles clears it.
        if recorded {
            Block::Indefinitely
        } else {
            latest_protection_end(&holds)
        },
    )
}

/// Rule 4 (US 12 CFR 1006.6(b)(1)(i), email and text by send time; GB CONC 7.9.4R; IE CCA 1995
/// s.46(a)(ii)(I); elsewhere the DESIGN.md floor): only within the contact hours at the
/// customer's location, `[start, end)`. A channel the jurisdiction's rule does not name keeps to
/// the default floor, quoted as its source; consent to out-of-hours calls lifts only the
/// jurisdiction's own rule.
fn contact_hours(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ContactHours;
    let rules = cx.inputs.rules;
    let Some(((start, end), source)) = rules.hours_for(cx.request.channel) else {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!(
                "The contact hours of rule set {} do not cover {}.",
                rules.name,
                cx.channel_label()
            ),
        ));
    };
    let own_rule = rules.hours_cover(cx.request.channel);
    if own_rule && cx.inputs.customer.consented_to_out_of_hours_calls {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer agreed to be contacted outside the usual hours.",
        ));
    }
    let now = cx.local.time();
    let what = if is_electronic(cx.request.channel) {
        "The message would be sent at"
    } else {
        "It is"
    };
    let reason = |effect, message: String| {
        let explanation = Explanation::new(rule.code(), effect, source, message);
        let explanation = match rules.looser_hours_rule {
            Some(cited) if own_rule => explanation.param("looser_than_the_floor_under", cited),
            _ => explanation,
        };
        explanation
            .param("local_time", hhmm(now))
            .param("window_start", hhmm(start))
            .param("window_end", hhmm(end))
            .param("time_zone", cx.zone().iana_name().unwrap_or("fixed offset"))
    };
    if start <= now && now < end {
        return Check::pass(reason(
            ReasonEffect::Supports,
            format!(
                "{what} {} local time, within {}–{}.",
                hhmm(now),
                hhmm(start),
                hhmm(end)
            ),
        ));
    }
    let day = if now < start {
        Some(cx.local.date())
    } else {
        cx.local.date().tomorrow().ok()
    };
    let next = day.and_then(|d| first_instant_at(cx.zone(), d.to_datetime(start), cx.request.at));
    Check::block_until(
        reason(
            ReasonEffect::Opposes,
            format!(
                "{what} {} local time, outside {}–{}.",
                hhmm(now),
                hhmm(start),
                hhmm(end)
            ),
        ),
        next,
    )
}

/// Last rule (DESIGN.md): no collections contact without something past due. An account never
/// behind, or back to current, has no debt to demand; nothing says when it will have one.
fn nothing_past_due(cx: &Context<'_>) -> Check {
    let rule = ContactRule::NothingPastDue;
    let past_due = cx.request.past_due;
    if !is_collections(cx.request.purpose) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "Help, service messages and statutory notices need nothing past due.",
        ));
    }
    let reason = |effect, message: &str| {
        cx.reason(rule, effect, message)
            .param("days_past_due", past_due.days)
            .param("arrears_minor_units", past_due.arrears)
    };
    if past_due.anything() {
        return Check::pass(reason(
            ReasonEffect::Supports,
            "Something on the account is past due.",
        ));
    }
    Check::block(
        reason(
            ReasonEffect::Opposes,
            "Nothing on the account is past due: there is no debt to contact the customer about.",
        ),
        Block::Indefinitely,
    )
}

/// Rule 5 (IE: Consumer Credit Act 1995 s.46(a)(ii)(II)): no calls or visits on a Sunday or a
/// public holiday without the customer's consent; next is the next open day's window start.
/// Every reason names the holiday calendar, its source and its coverage.
fn sundays_and_public_holidays(cx: &Context<'_>) -> Check {
    let rule = ContactRule::SundaysAndPublicHolidays;
    let rules = cx.inputs.rules;
    let Some(calendar) = &rules.sundays_and_public_holidays else {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!(
                "Rule set {} has no Sunday or public holiday rule and keeps no holiday calendar.",
                rules.name
            ),
        ));
    };
    if !rules.contact_time_channels.covers(cx.request.channel) {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!(
                "The Sunday and public holiday rule does not cover {}.",
                cx.channel_label()
            ),
        ));
    }
    if cx.inputs.customer.consented_to_out_of_hours_calls {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer agreed to be contacted on Sundays and public holidays.",
        ));
    }
    let today = cx.local.date();
    let status = calendar.status(today);
    let covers = match status {
        DayStatus::Holiday(_) | DayStatus::NotAHoliday => "yes",
        DayStatus::NotAHolidayByRules => "rules_only",
        DayStatus::NotCovered => "no",
    };
    let described = calendar.describe();
    let reason = |effect, message: String| {
        cx.reason(rule, effect, format!("{message} {described}"))
            .param("local_date", today)
            .param("holiday_calendar", calendar.name)
            .param("holiday_calendar_source", calendar.source)
            .param("holiday_calendar_coverage", calendar.coverage())
            .param("calendar_covers_date", covers)
    };
    let Some(closed) = closed_day(calendar, today) else {
        let message = if status == DayStatus::NotAHolidayByRules {
            // Past the years the one-off list was checked for, the rules as enacted still
            // hold (they change only by amendment), and a new one-off day is made by
            // regulations published ahead of it (18 March 2022 was announced that January).
            // Refusing every call in such a year would stop all lawful contact for a risk the
            // yearly review of the list answers, so the call is allowed, and the reason says
            // exactly what the calendar does not know; the decision keeps the rule set version.
            format!(
                "{today} is not a Sunday, nor a public holiday by the rules as enacted; one-off \
                 public holidays are known only through {}, so the calendar does not cover \
                 one-off days in {}.",
                calendar.one_offs_known_through,
                today.year()
            )
        } else {
            format!("{today} is neither a Sunday nor a public holiday.")
        };
        return Check::pass(reason(ReasonEffect::Supports, message));
    };
    let next = next_open_day(calendar, today).and_then(|day| {
        first_instant_at(
            cx.zone(),
            day.to_datetime(rules.allowed_hours.0),
            cx.request.at,
        )
    });
    let (message, holiday) = match closed {
        ClosedDay::Holiday(name) => (
            format!(
                "{today} is a public holiday ({name}): no calls or visits without the \
                 customer's consent."
            ),
            Some(name),
        ),
        ClosedDay::Sunday => (
            format!("{today} is a Sunday: no calls or visits without the customer's consent."),
            None,
        ),
        // A day the calendar cannot vouch for is not treated as an ordinary day: calling on a
        // public holiday is what s.46 forbids, so the call waits for a day the calendar covers
        // (only dates before its coverage get here; the customer's consent still lifts it).
        ClosedDay::NotCovered => (
            format!(
                "The holiday calendar does not cover {today}, so whether it is a public holiday \
                 is not known: no calls or visits without the customer's consent."
            ),
            None,
        ),
    };
    let reason = reason(ReasonEffect::Opposes, message);
    let reason = match holiday {
        Some(name) => reason.param("holiday", name),
        None => reason,
    };
    Check::block_until(reason, next)
}

/// Why a day is closed to calls and visits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ClosedDay {
    Holiday(&'static str),
    Sunday,
    /// Before the calendar's coverage: it might be a holiday.
    NotCovered,
}

/// Why `day` is closed to calls and visits, if it is.
fn closed_day(calendar: &HolidayCalendar, day: Date) -> Option<ClosedDay> {
    match calendar.status(day) {
        DayStatus::Holiday(name) => Some(ClosedDay::Holiday(name)),
        _ if day.weekday() == Weekday::Sunday => Some(ClosedDay::Sunday),
        DayStatus::NotCovered => Some(ClosedDay::NotCovered),
        DayStatus::NotAHoliday | DayStatus::NotAHolidayByRules => None,
    }
}

/// The first day after `day` that is open to calls and visits: a covered day that is neither a
/// Sunday nor a public holiday.
fn next_open_day(calendar: &HolidayCalendar, day: Date) -> Option<Date> {
    let first_covered = calendar.first_covered_day()?;
    let mut candidate = day.max(first_covered.yesterday().ok()?);
    for _ in 0..366 {
        candidate = candidate.tomorrow().ok()?;
        if closed_day(calendar, candidate).is_none() {
            return Some(candidate);
        }
    }
    None
}

/// Rule 6, everywhere (CONC 7.9.4R "reasonable requests ... when"; 12 CFR 1006.6(b)(1) times
/// known to be inconvenient): not inside the customer's quiet hours; next is the span's end.
/// Letters are not covered: they arrive with the post.
fn quiet_hours(cx: &Context<'_>) -> Check {
    let rule = ContactRule::QuietHours;
    let spans = &cx.inputs.customer.quiet_hours;
    if spans.is_empty() {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Supports,
            "The customer has set no quiet hours.",
        ));
    }
    if cx.request.channel == Channel::Letter {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "Quiet hours concern contact that reaches the customer at once; a letter comes \
             with the post.",
        ));
    }
    let local_time = hhmm(cx.local.time());
    if !spans
        .iter()
        .any(|span| quiet_span_end(span, cx.local).is_some())
    {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                format!("{local_time} local time is outside the customer's quiet hours."),
            )
            .param("local_time", local_time),
        );
    }
    Check::block_until(
        cx.reason(
            rule,
            ReasonEffect::Opposes,
            format!("{local_time} local time is inside the quiet hours the customer asked for."),
        )
        .param("local_time", local_time),
        quiet_until(cx.zone(), spans, cx.request.at),
    )
}

/// The first instant after `at` (which is inside the quiet hours) that is outside all of them.
/// Between two time-zone transitions the wall clock only moves forward, so the containing span
/// that ends last holds until its end; at a transition the clock may jump out (or back in).
fn quiet_until(zone: &TimeZone, spans: &[QuietHours], at: Timestamp) -> Option<Timestamp> {
    let mut now = at;
    for _ in 0..16 {
        let wall = now.to_zoned(zone.clone()).datetime();
        let ends: Vec<DateTime> = spans
            .iter()
            .filter_map(|span| quiet_span_end(span, wall))
            .collect();
        if ends.is_empty() {
            return Some(now);
        }
        let span_end = ends
            .into_iter()
            .map(|end| first_instant_at(zone, end, now))
            .try_fold(Timestamp::MIN, |latest, end| end.map(|end| latest.max(end)))?;
        now = match zone.following(now).next().map(|tr| tr.timestamp()) {
            Some(transition) if transition < span_end => transition,
            _ => return Some(span_end),
        };
    }
    None
}

/// The local end of `span` if `local` falls inside it. A wrapping span belongs to the day it
/// starts on, so "Fridays 22:00–07:00" covers Saturday 06:00.
fn quiet_span_end((start, end, days): &QuietHours, local: DateTime) -> Option<DateTime> {
    let on = |day: Date| days.is_empty() || days.contains(&day.weekday());
    let (today, now) = (local.date(), local.time());
    if start < end {
        return (on(today) && *start <= now && now < *end).then(|| today.to_datetime(*end));
    }
    if on(today) && *start <= now {
        return today.tomorrow().ok().map(|day| day.to_datetime(*end));
    }
    let yesterday = today.yesterday().ok()?;
    (on(yesterday) && now < *end).then(|| today.to_datetime(*end))
}

/// Rule 7 (US 12 CFR 1006.14(b)(2)(i)(A)): more than `attempts` calls within `days` consecutive
/// days per debt is presumed harassment. Counts outbound telephone attempts of any outcome in
/// the local days ending with today (today being the last); inbound calls do not count. Next is
/// the start of the day on which enough of the oldest attempts have left the window.
fn call_frequency(cx: &Context<'_>) -> Check {
    let rule = ContactRule::CallFrequency;
    let rules = cx.inputs.rules;
    if cx.request.channel != Channel::Phone {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "The call limit counts telephone calls only.",
        ));
    }
    let Some(cap) = rules.call_cap else {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!("Rule set {} sets no call-frequency limit.", rules.name),
        ));
    };
    let today = cx.local.date();
    let first_day = today.checked_sub((i64::from(cap.days) - 1).days()).ok();
    let mut days: Vec<Date> = cx
        .earlier_attempts()
        .filter(|a| a.channel == Channel::Phone && a.direction == Direction::Outbound)
        .map(|a| cx.local_date_of(a.at))
        .filter(|day| first_day.is_none_or(|first| first <= *day) && *day <= today)
        .collect();
    days.sort_unstable();
    let used = u32::try_from(days.len()).unwrap_or(u32::MAX);
    let reason = |effect, message: String| {
        cx.reason(rule, effect, message)
            .param("attempts", used)
            .param("cap", cap.attempts)
            .param("window_days", cap.days)
            .param("window_ends_on", today)
    };
    if used < cap.attempts {
        return Check::pass(reason(
            ReasonEffect::Supports,
            format!(
                "{used} of {} call attempts used in the {} days ending {today}; this call would \
                 be number {}. Inbound calls don't count.",
                cap.attempts,
                cap.days,
                used + 1
            ),
        ));
    }
    // The window must lose `used - attempts + 1` of its oldest attempts.
    let leaving = usize::try_from(used - cap.attempts)
        .ok()
        .and_then(|i| days.get(i))
        .copied();
    let next = leaving
        .and_then(|day| day.checked_add(i64::from(cap.days).days()).ok())
        .and_then(|day| start_of_local_day(cx.zone(), day));
    Check::block_until(
        reason(
            ReasonEffect::Opposes,
            format!(
                "{used} call attempts already made in the {} days ending {today}; the limit is {}.",
                cap.days, cap.attempts
            ),
        ),
        next,
    )
}

/// Rule 8 (US 12 CFR 1006.14(b)(2)(i)(B)): no call within `wait` days after a telephone
/// conversation about the debt, the conversation day being day 1: a conversation on day D
/// blocks calls through local day D+wait−1. Inbound conversations count too.
fn post_conversation_wait(cx: &Context<'_>) -> Check {
    let rule = ContactRule::PostConversationWait;
    let rules = cx.inputs.rules;
    if cx.request.channel != Channel::Phone {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            "The wait after a conversation applies to telephone calls only.",
        ));
    }
    let Some(wait) = rules.post_conversation_wait_days else {
        return Check::pass(cx.reason(
            rule,
            ReasonEffect::Neutral,
            format!("Rule set {} sets no wait after a conversation.", rules.name),
        ));
    };
    let today = cx.local.date();
    let last_conversation = cx
        .earlier_attempts()
        .filter(|a| a.channel == Channel::Phone && a.outcome == ContactOutcome::Conversation)
        .map(|a| cx.local_date_of(a.at))
        .max();
    let free_from = last_conversation.and_then(|day| day.checked_add(i64::from(wait).days()).ok());
    let (Some(spoke_on), Some(free_from)) = (last_conversation, free_from) else {
        return Check::pass(
            cx.reason(
                rule,
                ReasonEffect::Supports,
                format!("No telephone conversation about this debt in the last {wait} days."),
            )
            .param("wait_days", wait),
        );
    };
    let day_number = spoke_on
        .until(today)
        .map(|span| span.get_days() + 1)
        .unwrap_or(0);
    let reason = |effect, message: String| {
        cx.reason(rule, effect, message)
            .param("conversation_on", spoke_on)
            .param("day", day_number)
            .param("wait_days", wait)
    };
    if today >= free_from {
        return Check::pass(reason(
            ReasonEffect::Supports,
            format!(
                "The last conversation was on {spoke_on}; today is day {day_number}, past the \
                 {wait}-day wait."
            ),
        ));
    }
    Check::block_until(
        reason(
            ReasonEffect::Opposes,
            format!(
                "We spoke with the customer on {spoke_on}; today is day {day_number} of {wait}, \
                 so no call until {free_from}."
            ),
        ),
        start_of_local_day(cx.zone(), free_from),
    )
}

/// Rule 9, everywhere (12 CFR 1006.6(e); DESIGN.md): an electronic message carries a simple
/// opt-out; the renderer adds it. Context only.
fn electronic_opt_out(cx: &Context<'_>) -> Check {
    let rule = ContactRule::ElectronicOptOut;
    let message = if is_electronic(cx.request.channel) {
        "The message must carry a simple way to opt out; the renderer adds it."
    } else {
        "Not an electronic message: no opt-out line needed."
    };
    Check::pass(cx.reason(rule, ReasonEffect::Neutral, message))
}

// ---------------------------------------------------------------- local time

/// The first instant after `after` at which the wall clock in `zone` reads `wall` or later.
/// Unambiguous: that reading. In a fold (clocks go back) the earlier reading that is still
/// after `after`. In a gap (clocks go forward, `wall` never shown): the transition itself,
/// where the clock jumps past `wall`.
fn first_instant_at(zone: &TimeZone, wall: DateTime, after: Timestamp) -> Option<Timestamp> {
    let candidates = match zone.to_ambiguous_timestamp(wall).offset() {
        AmbiguousOffset::Unambiguous { offset } => [offset.to_timestamp(wall).ok(), None],
        AmbiguousOffset::Fold {
            before,
            after: later,
        } => [
            before.to_timestamp(wall).ok(),
            later.to_timestamp(wall).ok(),
        ],
        AmbiguousOffset::Gap { after: later, .. } => {
            // Read with the later offset, `wall` falls just before the transition.
            let before_gap = later.to_timestamp(wall).ok();
            [
                before_gap
                    .and_then(|t| zone.following(t).next())
                    .map(|tr| tr.timestamp()),
                None,
            ]
        }
    };
    candidates
        .into_iter()
        .flatten()
        .filter(|t| *t > after)
        .min()
}

/// The first instant of local `day`.
fn start_of_local_day(zone: &TimeZone, day: Date) -> Option<Timestamp> {
    first_instant_at(zone, day.to_datetime(Time::midnight()), Timestamp::MIN)
}

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

/// Plain words for a channel, for messages.
fn channel_label(channel: Channel) -> &'static str {
    match channel {
        Channel::Unspecified => "an unspecified channel",
        Channel::Phone => "phone",
        Channel::Sms => "text message",
        Channel::Email => "email",
        Channel::Letter => "letter",
        Channel::InApp => "in-app message",
        Channel::Push => "push notification",
        Channel::Messaging => "messaging app",
        Channel::WebChat => "web chat",
        Channel::Web => "online banking",
        Channel::Branch => "branch",
        Channel::Visit => "visit",
        Channel::Video => "video call",
    }
}

fn protection_label(kind: ProtectionKind) -> &'static str {
    match kind {
        ProtectionKind::BreathingSpace => "a breathing space",
        ProtectionKind::MentalHealthCrisis => "a mental-health crisis breathing space",
        ProtectionKind::Dispute => "a dispute",
        ProtectionKind::VulnerabilityHold => "a vulnerability hold",
        ProtectionKind::Unspecified => "a protected state",
    }
}

#[cfg(test)]
mod tests {
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

    fn opposing(decision: &Decision) -> Vec<&'static str> {
        decision
            .reasons
            .iter()
            .filter(|r| r.effect == ReasonEffect::Opposes)
            .map(|r| r.code)
            .collect()
    }

    // ------------------------------------------------------------ rule sets

    #[test]
    fn jurisdictions_pick_their_rule_sets() {
        assert_eq!(RuleSet::for_jurisdiction("US").name, "US");
        assert_eq!(RuleSet::for_jurisdiction("gb").name, "GB");
        assert_eq!(RuleSet::for_jurisdiction("UK").name, "GB");
        assert_eq!(RuleSet::for_jurisdiction(" ie ").name, "IE");
        assert_eq!(RuleSet::for_jurisdiction("RO").name, "DEFAULT");
        assert_eq!(RuleSet::for_jurisdiction("").name, "DEFAULT");
        let default = RuleSet::default();
        assert_eq!(
            default.call_cap,
            Some(CallCap {
                attempts: 7,
                days: 7
            })
        );
        assert_eq!(default.allowed_hours, (time(8, 0, 0, 0), time(21, 0, 0, 0)));
    }

    #[test]
    fn shipped_rule_sets_are_valid_and_bad_ones_are_named() {
        for rules in [
            RuleSet::us_reg_f(),
            RuleSet::uk_conc7(),
            RuleSet::ireland(),
            RuleSet::conservative_default(),
        ] {
            rules.validate().expect("shipped rule set is valid");
        }
        let mut rules = RuleSet::uk_conc7();
        rules.allowed_hours = (time(21, 0, 0, 0), time(8, 0, 0, 0));
        assert!(matches!(
            rules.validate(),
            Err(ContactRulesError::EmptyContactHours { .. })
        ));
        let mut rules = RuleSet::us_reg_f();
        rules.call_cap = Some(CallCap {
            attempts: 0,
            days: 7,
        });
        assert!(matches!(
            rules.validate(),
            Err(ContactRulesError::ZeroCallCap)
        ));
        rules.call_cap = None;
        rules.post_conversation_wait_days = Some(0);
        assert!(matches!(
            rules.validate(),
            Err(ContactRulesError::ZeroConversationWait)
        ));
    }

    #[test]
    fn only_ireland_keeps_a_holiday_calendar_and_reports_its_version() {
        assert_eq!(
            RuleSet::ireland().sundays_and_public_holidays,
            Some(HolidayCalendar::ireland())
        );
        for rules in [
            RuleSet::us_reg_f(),
            RuleSet::uk_conc7(),
            RuleSet::conservative_default(),
        ] {
            assert_eq!(rules.sundays_and_public_holidays, None, "{}", rules.name);
            assert_eq!(rules.version, SHIPPED_VERSION);
        }
        let decision = decide_plain(
            &RuleSet::ireland(),
            &customer(DUBLIN),
            &[],
            &call(local(DUBLIN, "2026-06-10T10:00")),
        );
        assert_eq!(
            (decision.rule_set, decision.rule_set_version),
            ("IE", IRELAND_VERSION)
        );
        assert_ne!(IRELAND_VERSION, SHIPPED_VERSION);
    }

    #[test]
    fn every_decision_gives_one_reason_per_rule_in_order() {
        let decision = decide_plain(
            &RuleSet::us_reg_f(),
            &customer(NEW_YORK),
            &[],
            &call(local(NEW_YORK, "2026-06-10T10:00")),
        );
        assert!(decision.allowed);
        let codes: Vec<&str> = decision.reasons.iter().map(|r| r.code).collect();
        let expected: Vec<&str> = ContactRule::ALL.iter().map(|r| r.code()).collect();
        assert_eq!(codes, expected);
        assert_eq!(decision.next_allowed_at, None);
        assert_eq!(
            (decision.rule_set, decision.rule_set_version),
            ("US", SHIPPED_VERSION)
        );
        assert_eq!(
            reason(&decision, ContactRule::CallFrequency).rule_ref,
            "12 CFR 1006.14(b)(2)(i)(A)"
        );
    }

    // ------------------------------------------------------------ contact hours

    #[test]
    fn contact_hours_boundaries_in_every_jurisdiction() {
        for (rules, zone_name, start) in [
            (RuleSet::us_reg_f(), NEW_YORK, 8),
            (RuleSet::uk_conc7(), LONDON, 8),
            (RuleSet::conservative_default(), BUCHAREST, 8),
            (RuleSet::ireland(), DUBLIN, 9),
        ] {
            let customer = customer(zone_name);
            // A Wednesday, no holiday anywhere.
            let check =
                |wall: &str| decide_plain(&rules, &customer, &[], &call(local(zone_name, wall)));
            let before = format!("2026-06-10T{:02}:59:59.999", start - 1);
            let opening = format!("2026-06-10T{start:02}:00");
            let blocked = check(&before);
            assert!(!blocked.allowed, "{} {before}", rules.name);
            assert_eq!(opposing(&blocked), ["CONTACT_HOURS"]);
            assert_eq!(blocked.next_allowed_at, Some(local(zone_name, &opening)));
            assert!(
                check(&format!("2026-06-10T{:02}:59", start - 1))
                    .next_allowed_at
                    .is_some()
            );
            assert!(check(&opening).allowed, "{} opening", rules.name);
            assert!(check("2026-06-10T20:59").allowed, "{} 20:59", rules.name);
            assert!(check("2026-06-10T20:59:59.999999999").allowed);
            let closing = check("2026-06-10T21:00");
            assert!(!closing.allowed, "{} 21:00", rules.name);
            assert_eq!(
                closing.next_allowed_at,
                Some(local(zone_name, &format!("2026-06-11T{start:02}:00")))
            );
            let hours = reason(&closing, ContactRule::ContactHours);
            assert_eq!(param(hours, "local_time"), Some("21:00"));
            assert_eq!(param(hours, "time_zone"), Some(zone_name));
        }
    }

    #[test]
    fn seven_fifty_nine_is_blocked_and_eight_is_allowed() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let early = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(NEW_YORK, "2026-06-10T07:59")),
        );
        assert!(!early.allowed);
        assert_eq!(early.next_allowed_at, Some(at("2026-06-10T12:00:00Z")));
        assert!(
            decide_plain(
                &rules,
                &customer,
                &[],
                &call(local(NEW_YORK, "2026-06-10T08:00"))
            )
            .allowed
        );
    }

    #[test]
    fn reg_f_hours_cover_the_send_time_of_email_and_text_but_not_letters() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let late = local(NEW_YORK, "2026-06-10T21:30");
        for channel in [Channel::Email, Channel::Sms] {
            let decision = decide_plain(&rules, &customer, &[], &request(channel, late));
            assert!(!decision.allowed);
            assert_eq!(
                decision.next_allowed_at,
                Some(local(NEW_YORK, "2026-06-11T08:00"))
            );
            assert!(
                reason(&decision, ContactRule::ContactHours)
                    .message
                    .contains("sent at")
            );
        }
        let letter = decide_plain(&rules, &customer, &[], &request(Channel::Letter, late));
        assert!(letter.allowed);
        assert_eq!(
            reason(&letter, ContactRule::ContactHours).effect,
            ReasonEffect::Neutral
        );
    }

    #[test]
    fn irish_hours_rule_covers_calls_and_visits_and_the_floor_covers_the_rest() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        let late = local(DUBLIN, "2026-06-10T22:00");
        let visit = decide_plain(&rules, &customer, &[], &request(Channel::Visit, late));
        assert!(!visit.allowed);
        assert_eq!(
            reason(&visit, ContactRule::ContactHours).rule_ref,
            IE_CCA_S46
        );
        let email = decide_plain(&rules, &customer, &[], &request(Channel::Email, late));
        assert!(!email.allowed, "an email's send time keeps to the floor");
        assert_eq!(
            reason(&email, ContactRule::ContactHours).rule_ref,
            HOURS_FLOOR
        );
        assert!(decide_plain(&rules, &customer, &[], &request(Channel::Letter, late)).allowed);
        // 08:30: the floor is open for a text; the Irish rule keeps calls until 09:00.
        let early = local(DUBLIN, "2026-06-10T08:30");
        assert!(decide_plain(&rules, &customer, &[], &request(Channel::Sms, early)).allowed);
        assert!(!decide_plain(&rules, &customer, &[], &request(Channel::Phone, early)).allowed);
    }

    #[test]
    fn a_text_at_half_past_ten_in_ireland_is_refused_by_the_hours_floor() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        let late = local(DUBLIN, "2026-03-10T22:30");
        for channel in [
            Channel::Sms,
            Channel::Push,
            Channel::InApp,
            Channel::Messaging,
            Channel::Email,
        ] {
            for purpose in [
                ContactPurpose::PaymentDemand,
                ContactPurpose::Support,
                ContactPurpose::StatutoryNotice,
            ] {
                let decision = decide_plain(
                    &rules,
                    &customer,
                    &[],
                    &Request {
                        purpose,
                        ..request(channel, late)
                    },
                );
                let case = format!("{channel:?} {purpose:?}");
                assert!(!decision.allowed, "{case}");
                assert_eq!(opposing(&decision), vec!["CONTACT_HOURS"], "{case}");
                let hours = reason(&decision, ContactRule::ContactHours);
                assert_eq!(hours.rule_ref, HOURS_FLOOR, "{case}");
                assert_eq!(param(hours, "window_start"), Some("08:00"), "{case}");
                assert_eq!(
                    decision.next_allowed_at,
                    Some(local(DUBLIN, "2026-03-11T08:00")),
                    "{case}"
                );
            }
        }
    }

    #[test]
    fn every_rule_set_keeps_every_timed_channel_within_the_floor() {
        // 07:59 and 21:00 are outside the floor: no shipped rule set allows any channel that
        // reaches a person then, nor email's send time.
        for rules in [
            RuleSet::us_reg_f(),
            RuleSet::uk_conc7(),
            RuleSet::ireland(),
            RuleSet::conservative_default(),
        ] {
            for channel in [
                Channel::Phone,
                Channel::Visit,
                Channel::Video,
                Channel::Sms,
                Channel::Push,
                Channel::InApp,
                Channel::Messaging,
                Channel::Email,
            ] {
                for wall in ["2026-06-10T07:59", "2026-06-10T21:00", "2026-06-10T23:30"] {
                    let decision = decide_plain(
                        &rules,
                        &customer(LONDON),
                        &[],
                        &request(channel, local(LONDON, wall)),
                    );
                    assert!(!decision.allowed, "{} {channel:?} at {wall}", rules.name);
                }
            }
        }
    }

    #[test]
    fn a_window_looser_than_the_floor_needs_a_cited_rule() {
        for (hours, probe) in [
            ((time(7, 0, 0, 0), time(21, 0, 0, 0)), "2026-06-10T07:30"),
            ((time(9, 0, 0, 0), time(22, 0, 0, 0)), "2026-06-10T21:30"),
        ] {
            let mut rules = RuleSet::ireland();
            rules.allowed_hours = hours;
            assert!(matches!(
                rules.validate(),
                Err(ContactRulesError::LooserThanTheFloor { .. })
            ));
            rules.looser_hours_rule = Some("  ");
            assert!(rules.validate().is_err(), "a blank citation cites nothing");
            rules.looser_hours_rule = Some("Hypothetical Act s.1");
            rules
                .validate()
                .expect("a cited rule may loosen the window");
            let decision =
                decide_plain(&rules, &customer(DUBLIN), &[], &call(local(DUBLIN, probe)));
            assert!(decision.allowed, "{probe}: {:?}", decision.reasons);
            let hours = reason(&decision, ContactRule::ContactHours);
            assert_eq!(
                param(hours, "looser_than_the_floor_under"),
                Some("Hypothetical Act s.1"),
                "the citation is on the reason"
            );
        }
        // Stricter is always fine.
        let mut rules = RuleSet::uk_conc7();
        rules.allowed_hours = (time(9, 0, 0, 0), time(20, 0, 0, 0));
        rules.validate().expect("stricter than the floor");
    }

    /// Issue 19.1: every account stage × every purpose × every channel. Collections contact
    /// (a payment demand, or a purpose left unspecified) needs something past due; help, service
    /// messages and statutory notices do not.
    #[test]
    fn no_collections_contact_without_something_past_due() {
        let stages = [
            ("current, never behind", PastDue::default()),
            (
                "back to current",
                PastDue {
                    days: 0,
                    arrears: 0,
                },
            ),
            (
                "early",
                PastDue {
                    days: 10,
                    arrears: 5_000,
                },
            ),
            (
                "mid",
                PastDue {
                    days: 45,
                    arrears: 30_000,
                },
            ),
            (
                "late",
                PastDue {
                    days: 100,
                    arrears: 60_000,
                },
            ),
            (
                "severe",
                PastDue {
                    days: 400,
                    arrears: 90_000,
                },
            ),
            (
                "arrears reported without days",
                PastDue {
                    days: 0,
                    arrears: 1,
                },
            ),
        ];
        let purposes = [
            (ContactPurpose::Unspecified, true),
            (ContactPurpose::PaymentDemand, true),
            (ContactPurpose::Support, false),
            (ContactPurpose::StatutoryNotice, false),
        ];
        let noon = local(LONDON, "2026-06-10T12:00");
        for rules in [RuleSet::uk_conc7(), RuleSet::us_reg_f(), RuleSet::ireland()] {
            for (stage, past_due) in stages {
                for (purpose, collections) in purposes {
                    for channel in [
                        Channel::Sms,
                        Channel::Email,
                        Channel::Phone,
                        Channel::Letter,
                    ] {
                        let decision = decide_plain(
                            &rules,
                            &customer(LONDON),
                            &[],
                            &Request {
                                purpose,
                                past_due,
                                ..request(channel, noon)
                            },
                        );
                        let case = format!("{} {stage} {purpose:?} {channel:?}", rules.name);
                        let refused = collections && !past_due.anything();
                        assert_eq!(decision.allowed, !refused, "{case}: {:?}", decision.reasons);
                        let rule = reason(&decision, ContactRule::NothingPastDue);
                        assert_eq!(rule.rule_ref, NOTHING_PAST_DUE, "{case}");
                        let expected = match (collections, past_due.anything()) {
                            (false, _) => ReasonEffect::Neutral,
                            (true, true) => ReasonEffect::Supports,
                            (true, false) => ReasonEffect::Opposes,
                        };
                        assert_eq!(rule.effect, expected, "{case}");
                        if refused {
                            assert_eq!(opposing(&decision), vec!["NOTHING_PAST_DUE"], "{case}");
                            assert_eq!(decision.next_allowed_at, None, "{case}");
                            assert_eq!(
                                decision.reasons.len(),
                                ContactRule::ALL.len(),
                                "{case}: no extra search reason"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn consent_to_out_of_hours_calls_lifts_the_hours_but_not_quiet_hours() {
        let rules = RuleSet::ireland();
        let mut customer = customer(DUBLIN);
        customer.consented_to_out_of_hours_calls = true;
        assert!(
            decide_plain(
                &rules,
                &customer,
                &[],
                &call(local(DUBLIN, "2026-06-10T22:00"))
            )
            .allowed
        );
        customer.quiet_hours = vec![(time(21, 30, 0, 0), time(7, 0, 0, 0), vec![])];
        let decision = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2026-06-10T22:00")),
        );
        assert_eq!(opposing(&decision), ["QUIET_HOURS"]);
        assert_eq!(
            decision.next_allowed_at,
            Some(local(DUBLIN, "2026-06-11T07:00"))
        );
    }

    // ------------------------------------------------------------ daylight saving

    /// On a DST-change day, 08:30 local is allowed, and from 07:00 local the next allowed
    /// moment is 08:00 local with that day's offset.
    fn check_dst_day(zone_name: &str, day: &str, offset_hours: i8, before_the_change: &str) {
        let rules = RuleSet::us_reg_f();
        let customer = customer(zone_name);
        let half_past_eight: Timestamp = format!("{day}T08:30:00{offset_hours:+03}:00")
            .parse()
            .expect("instant");
        assert_eq!(half_past_eight, local(zone_name, &format!("{day}T08:30")));
        assert!(decide_plain(&rules, &customer, &[], &call(half_past_eight)).allowed);

        let seven = local(zone_name, &format!("{day}T07:00"));
        let eight: Timestamp = format!("{day}T08:00:00{offset_hours:+03}:00")
            .parse()
            .expect("instant");
        let decision = decide_plain(&rules, &customer, &[], &call(seven));
        assert!(!decision.allowed);
        assert_eq!(decision.next_allowed_at, Some(eight), "{zone_name} {day}");
        let zoned = eight.to_zoned(zone(zone_name));
        assert_eq!(zoned.offset().seconds(), i32::from(offset_hours) * 3600);
        assert_eq!(zoned.time(), time(8, 0, 0, 0));

        // From the evening before, across the change.
        let evening = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(zone_name, before_the_change)),
        );
        assert_eq!(
            evening.next_allowed_at,
            Some(eight),
            "{zone_name} from {before_the_change}"
        );
    }

    #[test]
    fn new_york_spring_forward() {
        check_dst_day(NEW_YORK, "2026-03-08", -4, "2026-03-07T21:30");
        assert_eq!(
            local(NEW_YORK, "2026-03-08T08:00"),
            at("2026-03-08T12:00:00Z")
        );
    }

    #[test]
    fn new_york_fall_back() {
        check_dst_day(NEW_YORK, "2026-11-01", -5, "2026-10-31T21:30");
        assert_eq!(
            local(NEW_YORK, "2026-11-01T08:00"),
            at("2026-11-01T13:00:00Z")
        );
    }

    #[test]
    fn bucharest_spring_forward() {
        check_dst_day(BUCHAREST, "2026-03-29", 3, "2026-03-28T21:30");
        assert_eq!(
            local(BUCHAREST, "2026-03-29T08:00"),
            at("2026-03-29T05:00:00Z")
        );
    }

    #[test]
    fn bucharest_fall_back() {
        check_dst_day(BUCHAREST, "2026-10-25", 2, "2026-10-24T21:30");
        assert_eq!(
            local(BUCHAREST, "2026-10-25T08:00"),
            at("2026-10-25T06:00:00Z")
        );
    }

    #[test]
    fn local_instants_in_gaps_and_folds() {
        let ny = zone(NEW_YORK);
        // 02:30 never shows on 2026-03-08: the clock jumps from 02:00 EST to 03:00 EDT.
        let gap: DateTime = "2026-03-08T02:30".parse().expect("civil");
        assert_eq!(
            first_instant_at(&ny, gap, Timestamp::MIN),
            Some(at("2026-03-08T07:00:00Z"))
        );
        // 01:30 shows twice on 2026-11-01: first EDT, then EST.
        let fold: DateTime = "2026-11-01T01:30".parse().expect("civil");
        assert_eq!(
            first_instant_at(&ny, fold, Timestamp::MIN),
            Some(at("2026-11-01T05:30:00Z"))
        );
        assert_eq!(
            first_instant_at(&ny, fold, at("2026-11-01T06:10:00Z")),
            Some(at("2026-11-01T06:30:00Z"))
        );
        // Havana starts DST at midnight: 2026-03-08 begins at 01:00 CDT.
        let havana = zone("America/Havana");
        assert_eq!(
            start_of_local_day(&havana, date(2026, 3, 8)),
            Some(at("2026-03-08T05:00:00Z"))
        );
    }

    #[test]
    fn quiet_hours_ending_inside_a_gap_end_at_the_jump() {
        let rules = RuleSet::uk_conc7();
        let mut customer = customer(NEW_YORK);
        customer.quiet_hours = vec![(time(1, 0, 0, 0), time(2, 30, 0, 0), vec![])];
        // Web chat is not covered by the contact hours here, so only quiet hours decide.
        let mut rules_web = rules;
        rules_web.contact_time_channels = ChannelScope::Only(vec![Channel::Phone]);
        let decision = decide_plain(
            &rules_web,
            &customer,
            &[],
            &request(Channel::WebChat, at("2026-03-08T06:30:00Z")),
        );
        assert_eq!(opposing(&decision), ["QUIET_HOURS"]);
        assert_eq!(decision.next_allowed_at, Some(at("2026-03-08T07:00:00Z")));
    }

    #[test]
    fn quiet_hours_left_by_the_clock_going_back() {
        // 01:30–02:30 quiet; at 01:45 EDT the clock falls back to 01:00 EST, outside the span.
        let mut rules = RuleSet::uk_conc7();
        rules.contact_time_channels = ChannelScope::Only(vec![Channel::Phone]);
        let mut customer = customer(NEW_YORK);
        customer.quiet_hours = vec![(time(1, 30, 0, 0), time(2, 30, 0, 0), vec![])];
        let first_pass = at("2026-11-01T05:45:00Z"); // 01:45 EDT
        let decision = decide_plain(
            &rules,
            &customer,
            &[],
            &request(Channel::WebChat, first_pass),
        );
        assert_eq!(decision.next_allowed_at, Some(at("2026-11-01T06:00:00Z"))); // 01:00 EST
    }

    // ------------------------------------------------------------ Reg F call frequency

    #[test]
    fn the_seventh_call_in_seven_days_is_allowed() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let ledger: Vec<Attempt> = (2..=7)
            .map(|day| outbound_call(local(NEW_YORK, &format!("2026-06-{day:02}T10:00"))))
            .collect();
        let decision = decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-06-08T10:00")),
        );
        assert!(decision.allowed);
        let frequency = reason(&decision, ContactRule::CallFrequency);
        assert_eq!(frequency.effect, ReasonEffect::Supports);
        assert_eq!(param(frequency, "attempts"), Some("6"));
        assert!(frequency.message.contains("number 7"));
    }

    #[test]
    fn the_eighth_call_in_seven_days_is_blocked_until_the_oldest_day_leaves_the_window() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        // Across the spring-forward change: 2026-03-02 .. 2026-03-08.
        let mut ledger: Vec<Attempt> = (2..=7)
            .map(|day| outbound_call(local(NEW_YORK, &format!("2026-03-{day:02}T10:00"))))
            .collect();
        ledger.push(outbound_call(local(NEW_YORK, "2026-03-08T09:00")));
        let eighth = call(local(NEW_YORK, "2026-03-08T10:00"));
        let decision = decide_plain(&rules, &customer, &ledger, &eighth);
        assert!(!decision.allowed);
        assert_eq!(opposing(&decision), ["CALL_FREQUENCY"]);
        let frequency = reason(&decision, ContactRule::CallFrequency);
        assert_eq!(param(frequency, "attempts"), Some("7"));
        // 2026-03-02 leaves the window at local midnight starting 2026-03-09 (EDT).
        assert_eq!(param(frequency, "until"), Some("2026-03-09T04:00:00Z"));
        // ... and the contact hours then move it to 08:00 EDT.
        assert_eq!(decision.next_allowed_at, Some(at("2026-03-09T12:00:00Z")));
        let then = decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(at("2026-03-09T12:00:00Z")),
        );
        assert!(then.allowed);
    }

    #[test]
    fn inbound_calls_and_other_channels_do_not_count() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let mut ledger: Vec<Attempt> = (2..=7)
            .map(|day| outbound_call(local(NEW_YORK, &format!("2026-06-{day:02}T10:00"))))
            .collect();
        for hour in 11..14 {
            ledger.push(attempt(
                Direction::Inbound,
                ContactOutcome::NoAnswer,
                local(NEW_YORK, &format!("2026-06-08T{hour}:00")),
            ));
        }
        ledger.push(Attempt {
            channel: Channel::Sms,
            direction: Direction::Outbound,
            outcome: ContactOutcome::MessageSent,
            at: local(NEW_YORK, "2026-06-08T09:00"),
            automated: true,
        });
        assert!(
            decide_plain(
                &rules,
                &customer,
                &ledger,
                &call(local(NEW_YORK, "2026-06-08T15:00"))
            )
            .allowed
        );
    }

    #[test]
    fn an_attempt_eight_days_back_has_left_the_window() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let ledger: Vec<Attempt> = (1..=7)
            .map(|day| outbound_call(local(NEW_YORK, &format!("2026-06-{day:02}T10:00"))))
            .collect();
        assert!(
            decide_plain(
                &rules,
                &customer,
                &ledger,
                &call(local(NEW_YORK, "2026-06-08T10:00"))
            )
            .allowed
        );
    }

    #[test]
    fn the_ledger_after_the_instant_evaluated_is_ignored() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let ledger: Vec<Attempt> = (0..7)
            .map(|minute| outbound_call(local(NEW_YORK, &format!("2026-06-08T10:{minute:02}"))))
            .collect();
        let earlier = decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-06-08T09:30")),
        );
        assert!(
            earlier.allowed,
            "a stored decision replays the same against a later ledger"
        );
        assert!(
            !decide_plain(
                &rules,
                &customer,
                &ledger,
                &call(local(NEW_YORK, "2026-06-08T11:00"))
            )
            .allowed
        );
    }

    #[test]
    fn the_default_rule_set_caps_calls_too() {
        let rules = RuleSet::conservative_default();
        let customer = customer(BUCHAREST);
        let ledger: Vec<Attempt> = (2..=8)
            .map(|day| outbound_call(local(BUCHAREST, &format!("2026-06-{day:02}T10:00"))))
            .collect();
        let decision = decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(BUCHAREST, "2026-06-08T12:00")),
        );
        assert_eq!(opposing(&decision), ["CALL_FREQUENCY"]);
        assert!(
            decide_plain(
                &RuleSet::uk_conc7(),
                &customer,
                &ledger,
                &call(local(BUCHAREST, "2026-06-08T12:00"))
            )
            .allowed
        );
    }

    // ------------------------------------------------------------ Reg F wait after a conversation

    #[test]
    fn day_seven_after_a_conversation_is_blocked_and_day_eight_allowed() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        // Thursday 2026-03-05 is day 1; the clocks change on day 4.
        let ledger = [attempt(
            Direction::Outbound,
            ContactOutcome::Conversation,
            local(NEW_YORK, "2026-03-05T14:00"),
        )];
        let day_seven = decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-03-11T20:00")),
        );
        assert!(!day_seven.allowed);
        assert_eq!(opposing(&day_seven), ["POST_CONVERSATION_WAIT"]);
        let wait = reason(&day_seven, ContactRule::PostConversationWait);
        assert_eq!(param(wait, "day"), Some("7"));
        assert_eq!(param(wait, "until"), Some("2026-03-12T04:00:00Z"));
        assert_eq!(
            day_seven.next_allowed_at,
            Some(local(NEW_YORK, "2026-03-12T08:00"))
        );

        let day_eight = decide_plain(
            &rules,
            &customer,
            &ledger,
            &call(local(NEW_YORK, "2026-03-12T08:00")),
        );
        assert!(day_eight.allowed);
        assert_eq!(
            param(reason(&day_eight, ContactRule::PostConversationWait), "day"),
            Some("8")
        );
    }

    #[test]
    fn an_inbound_conversation_starts_the_wait_and_a_voicemail_does_not() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let inbound = [attempt(
            Direction::Inbound,
            ContactOutcome::Conversation,
            local(NEW_YORK, "2026-06-08T10:00"),
        )];
        let decision = decide_plain(
            &rules,
            &customer,
            &inbound,
            &call(local(NEW_YORK, "2026-06-09T10:00")),
        );
        assert_eq!(opposing(&decision), ["POST_CONVERSATION_WAIT"]);
        let voicemail = [attempt(
            Direction::Outbound,
            ContactOutcome::Voicemail,
            local(NEW_YORK, "2026-06-08T10:00"),
        )];
        assert!(
            decide_plain(
                &rules,
                &customer,
                &voicemail,
                &call(local(NEW_YORK, "2026-06-09T10:00"))
            )
            .allowed
        );
        // A letter is not a call.
        let letter = request(Channel::Letter, local(NEW_YORK, "2026-06-09T10:00"));
        assert!(decide_plain(&rules, &customer, &inbound, &letter).allowed);
    }

    // ------------------------------------------------------------ Ireland: Sundays and holidays

    #[test]
    fn no_calls_on_an_irish_sunday() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        let sunday = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2026-03-15T10:00")),
        );
        assert!(!sunday.allowed);
        assert_eq!(opposing(&sunday), ["SUNDAY_OR_PUBLIC_HOLIDAY"]);
        assert_eq!(sunday.next_allowed_at, Some(at("2026-03-16T09:00:00Z")));
        // Saturday evening: past the hours, and the next day is a Sunday.
        let saturday = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2026-03-14T21:30")),
        );
        assert_eq!(saturday.next_allowed_at, Some(at("2026-03-16T09:00:00Z")));
        // Email is not a call or a visit.
        assert!(
            decide_plain(
                &rules,
                &customer,
                &[],
                &request(Channel::Email, local(DUBLIN, "2026-03-15T10:00"))
            )
            .allowed
        );
        // The customer's consent lifts it.
        let mut agreed = customer.clone();
        agreed.consented_to_out_of_hours_calls = true;
        assert!(
            decide_plain(
                &rules,
                &agreed,
                &[],
                &call(local(DUBLIN, "2026-03-15T10:00"))
            )
            .allowed
        );
        // The electronic consent does not.
        let mut electronic = customer;
        electronic.electronic_collections_consent = Some(true);
        assert!(
            !decide_plain(
                &rules,
                &electronic,
                &[],
                &call(local(DUBLIN, "2026-03-15T10:00"))
            )
            .allowed
        );
    }

    #[test]
    fn no_calls_on_st_patricks_day() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        let decision = decide_plain(
            &rules,
            &customer,
            &[],
            &request(Channel::Visit, local(DUBLIN, "2026-03-17T10:00")),
        );
        assert!(!decision.allowed);
        let holiday = reason(&decision, ContactRule::SundaysAndPublicHolidays);
        assert!(
            holiday
                .message
                .starts_with("2026-03-17 is a public holiday (St Patrick's Day)"),
            "{}",
            holiday.message
        );
        assert_eq!(param(holiday, "holiday"), Some("St Patrick's Day"));
        assert_eq!(param(holiday, "calendar_covers_date"), Some("yes"));
        assert_eq!(decision.next_allowed_at, Some(at("2026-03-18T09:00:00Z")));
    }

    /// Issue 17: the calendar used to end in 2027.
    #[test]
    fn irish_holidays_years_ahead_are_refused_with_the_calendars_source_and_coverage() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        for (wall, holiday, next) in [
            (
                "2028-03-17T10:00",
                "St Patrick's Day",
                "2028-03-18T09:00:00Z",
            ),
            ("2029-12-25T10:00", "Christmas Day", "2029-12-27T09:00:00Z"),
            (
                "2031-12-26T10:00",
                "St Stephen's Day",
                "2031-12-27T09:00:00Z",
            ),
            // Easter Monday 2033 (Easter 17 April), in Irish Standard Time.
            ("2033-04-18T10:00", "Easter Monday", "2033-04-19T08:00:00Z"),
            // 1 February 2030 is a Friday: St Brigid's Day.
            (
                "2030-02-01T10:00",
                "St Brigid's Day",
                "2030-02-02T09:00:00Z",
            ),
        ] {
            let decision = decide_plain(&rules, &customer, &[], &call(local(DUBLIN, wall)));
            assert_eq!(opposing(&decision), ["SUNDAY_OR_PUBLIC_HOLIDAY"], "{wall}");
            let reason = reason(&decision, ContactRule::SundaysAndPublicHolidays);
            assert!(
                reason
                    .message
                    .contains(&format!("is a public holiday ({holiday})")),
                "{}",
                reason.message
            );
            assert!(
                reason
                    .message
                    .contains(&HolidayCalendar::ireland().describe()),
                "{}",
                reason.message
            );
            assert_eq!(param(reason, "holiday"), Some(holiday));
            assert_eq!(
                param(reason, "holiday_calendar_coverage"),
                Some("rules as enacted from 2022; one-off holidays known through 2026")
            );
            assert_eq!(decision.next_allowed_at, Some(at(next)), "{wall}");
        }
    }

    #[test]
    fn past_the_one_off_list_an_ordinary_day_says_what_the_calendar_does_not_know() {
        let decision = decide_plain(
            &RuleSet::ireland(),
            &customer(DUBLIN),
            &[],
            &call(local(DUBLIN, "2031-06-11T10:00")),
        );
        assert!(decision.allowed);
        let day = reason(&decision, ContactRule::SundaysAndPublicHolidays);
        assert_eq!(day.effect, ReasonEffect::Supports);
        assert!(!day.message.contains("neither"), "{}", day.message);
        assert!(
            day.message.contains(
                "known only through 2026, so the calendar does not cover one-off days in 2031"
            ),
            "{}",
            day.message
        );
        assert_eq!(param(day, "calendar_covers_date"), Some("rules_only"));
    }

    #[test]
    fn a_day_before_the_calendar_is_not_called_ordinary() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        // Wednesday 9 June 2021: before the calendar's coverage.
        let decision = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2021-06-09T10:00")),
        );
        assert_eq!(opposing(&decision), ["SUNDAY_OR_PUBLIC_HOLIDAY"]);
        let day = reason(&decision, ContactRule::SundaysAndPublicHolidays);
        assert!(
            day.message
                .starts_with("The holiday calendar does not cover 2021-06-09"),
            "{}",
            day.message
        );
        assert_eq!(param(day, "calendar_covers_date"), Some("no"));
        // The first covered day, 1 January 2022, is New Year's Day, and 2 January a Sunday.
        assert_eq!(decision.next_allowed_at, Some(at("2022-01-03T09:00:00Z")));
        // Consent lifts it, as for any day of the rule.
        let mut agreed = customer.clone();
        agreed.consented_to_out_of_hours_calls = true;
        assert!(
            decide_plain(
                &rules,
                &agreed,
                &[],
                &call(local(DUBLIN, "2021-06-09T10:00"))
            )
            .allowed
        );
        // 18 March 2022 is the one-off holiday of that year.
        let one_off = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2022-03-18T10:00")),
        );
        assert_eq!(
            param(
                reason(&one_off, ContactRule::SundaysAndPublicHolidays),
                "holiday"
            ),
            Some("Day of Remembrance and Recognition")
        );
    }

    #[test]
    fn a_holiday_on_a_sunday_does_not_close_the_monday_after() {
        // St Patrick's Day 2030 is a Sunday; Monday 18 March is not a public holiday
        // (Organisation of Working Time Act 1997 Sch. 2, s.21(1)).
        let decision = decide_plain(
            &RuleSet::ireland(),
            &customer(DUBLIN),
            &[],
            &call(local(DUBLIN, "2030-03-17T10:00")),
        );
        let day = reason(&decision, ContactRule::SundaysAndPublicHolidays);
        assert_eq!(param(day, "holiday"), Some("St Patrick's Day"));
        assert_eq!(decision.next_allowed_at, Some(at("2030-03-18T09:00:00Z")));
    }

    #[test]
    fn rule_sets_without_a_calendar_claim_nothing_about_the_day() {
        for (rules, zone_name) in [
            (RuleSet::us_reg_f(), NEW_YORK),
            (RuleSet::uk_conc7(), LONDON),
            (RuleSet::conservative_default(), BUCHAREST),
        ] {
            // Christmas Day, a Sunday in 2033.
            let decision = decide_plain(
                &rules,
                &customer(zone_name),
                &[],
                &call(local(zone_name, "2033-12-25T10:00")),
            );
            assert!(decision.allowed, "{}", rules.name);
            let day = reason(&decision, ContactRule::SundaysAndPublicHolidays);
            assert_eq!(day.effect, ReasonEffect::Neutral);
            assert_eq!(
                day.message,
                format!(
                    "Rule set {} has no Sunday or public holiday rule and keeps no holiday \
                     calendar.",
                    rules.name
                )
            );
            assert!(day.params.is_empty(), "{:?}", day.params);
            assert_eq!(day.rule_ref, "");
        }
    }

    #[test]
    fn easter_sunday_and_monday_push_calls_to_tuesday_in_summer_time() {
        let rules = RuleSet::ireland();
        let customer = customer(DUBLIN);
        let decision = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(DUBLIN, "2026-04-05T12:00")),
        );
        // Irish Standard Time (UTC+1) since 2026-03-29.
        assert_eq!(decision.next_allowed_at, Some(at("2026-04-07T08:00:00Z")));
    }

    // ------------------------------------------------------------ quiet hours

    #[test]
    fn quiet_hours_wrap_past_midnight_and_follow_their_days() {
        let rules = RuleSet::uk_conc7();
        let mut customer = customer(LONDON);
        // Friday evening to Saturday morning only.
        customer.quiet_hours = vec![(time(20, 0, 0, 0), time(9, 0, 0, 0), vec![Weekday::Friday])];
        let friday = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-12T20:30")),
        );
        assert_eq!(opposing(&friday), ["QUIET_HOURS"]);
        assert_eq!(
            friday.next_allowed_at,
            Some(local(LONDON, "2026-06-13T09:00"))
        );
        let saturday_morning = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-13T08:30")),
        );
        assert_eq!(opposing(&saturday_morning), ["QUIET_HOURS"]);
        assert_eq!(
            saturday_morning.next_allowed_at,
            Some(local(LONDON, "2026-06-13T09:00"))
        );
        assert!(
            decide_plain(
                &rules,
                &customer,
                &[],
                &call(local(LONDON, "2026-06-13T20:30"))
            )
            .allowed
        );
        assert!(
            decide_plain(
                &rules,
                &customer,
                &[],
                &call(local(LONDON, "2026-06-14T08:30"))
            )
            .allowed
        );
        assert!(
            decide_plain(
                &rules,
                &customer,
                &[],
                &call(local(LONDON, "2026-06-12T19:59"))
            )
            .allowed
        );
    }

    #[test]
    fn quiet_hours_running_into_the_evening_move_contact_to_the_next_morning() {
        let rules = RuleSet::uk_conc7();
        let mut customer = customer(LONDON);
        customer.quiet_hours = vec![
            (time(17, 0, 0, 0), time(21, 30, 0, 0), vec![]),
            (time(8, 0, 0, 0), time(10, 0, 0, 0), vec![Weekday::Saturday]),
        ];
        // Friday 18:00: quiet until 21:30, past the hours, and Saturday morning is quiet too.
        let decision = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-12T18:00")),
        );
        assert_eq!(
            decision.next_allowed_at,
            Some(local(LONDON, "2026-06-13T10:00"))
        );
    }

    #[test]
    fn quiet_hours_do_not_hold_back_letters() {
        let rules = RuleSet::uk_conc7();
        let mut customer = customer(LONDON);
        customer.quiet_hours = vec![(time(0, 0, 0, 0), time(0, 0, 0, 0), vec![])];
        let letter = decide_plain(
            &rules,
            &customer,
            &[],
            &request(Channel::Letter, local(LONDON, "2026-06-10T12:00")),
        );
        assert!(letter.allowed);
        // A whole-day span every day leaves no time for a call at all.
        let call = decide_plain(
            &rules,
            &customer,
            &[],
            &call(local(LONDON, "2026-06-10T12:00")),
        );
        assert!(!call.allowed);
        assert_eq!(call.next_allowed_at, None);
        assert!(
            call.reasons
                .iter()
                .any(|r| r.code == NO_ALLOWED_TIME_WITHIN_HORIZON)
        );
    }

    // ------------------------------------------------------------ protected states

    #[test]
    fn a_breathing_space_ends_at_midnight_local_time() {
        let rules = RuleSet::uk_conc7();
        let customer = customer(LONDON);
        let ends_at = local_midnight_after(date(2026, 6, 30), &zone(LONDON)).expect("midnight");
        assert_eq!(ends_at, at("2026-06-30T23:00:00Z"), "midnight BST");
        let protections = Protections {
            periods: vec![ProtectionPeriod {
                kind: ProtectionKind::BreathingSpace,
                starts_at: local(LONDON, "2026-05-02T00:00"),
                ends_at: Some(ends_at),
            }],
        };
        let demand = |at: Timestamp| request(Channel::Letter, at);
        let last_second = decide(
            &rules,
            &customer,
            &protections,
            &[],
            &demand(local(LONDON, "2026-06-30T23:59:59")),
        );
        assert!(!last_second.allowed);
        assert_eq!(opposing(&last_second), ["PROTECTED_STATE"]);
        assert!(
            reason(&last_second, ContactRule::ProtectedState)
                .message
                .contains("debt adviser")
        );
        assert_eq!(last_second.next_allowed_at, Some(ends_at));
        let midnight = decide(
            &rules,
            &customer,
            &protections,
            &[],
            &demand(local(LONDON, "2026-07-01T00:00:00")),
        );
        assert!(midnight.allowed);
        // A call must also wait for the contact hours.
        let phone = decide(
            &rules,
            &customer,
            &protections,
            &[],
            &call(local(LONDON, "2026-06-30T23:59:59")),
        );
        assert_eq!(
            phone.next_allowed_at,
            Some(local(LONDON, "2026-07-01T08:00"))
        );
        // Support and statutory notices are not payment demands.
        for purpose in [ContactPurpose::Support, ContactPurpose::StatutoryNotice] {
            let other = Request {
                purpose,
                ..demand(local(LONDON, "2026-06-15T12:00"))
            };
            assert!(
                decide(&rules, &customer, &protections, &[], &other).allowed,
                "{purpose:?}"
            );
        }
    }

    #[test]
    fn an_open_ended_protection_has_no_next_time_for_payment_demands() {
        let rules = RuleSet::us_reg_f();
        let customer = customer(NEW_YORK);
        let protections = Protections {
            periods: vec![ProtectionPeriod {
                kind: ProtectionKind::Dispute,
                starts_at: at("2026-01-01T00:00:00Z"),
                ends_at: None,
            }],
        };
        let decision = decide(
            &rules,
            &customer,
            &protections,
            &[],
            &call(local(NEW_YORK, "2026-06-10T10:00")),
        );
        assert!(!decision.allowed);
        assert_eq!(decision.next_allowed_at, None);
        assert!(!decision.route_to_specialist);
    }

    #[test]
    fn a_vulnerability_profiles_records_holds_contact_like_a_hold() {
        let rules = RuleSet::uk_conc7();
        let customer = Customer {
            vulnerable: true,
            ..customer(LONDON)
        };
        let none = Protections { periods: vec![] };
        let support = |automated: bool| Request {
            channel: Channel::Phone,
            at: local(LONDON, "2026-06-10T10:00"),
            purpose: ContactPurpose::Support,
            automated,
            past_due: BEHIND,
        };
        let dialler = decide(&rules, &customer, &none, &[], &support(true));
        assert!(!dialler.allowed);
        assert!(dialler.route_to_specialist);
        assert_eq!(opposing(&dialler), ["VULNERABILITY_HOLD"]);
        assert_eq!(
            dialler.next_allowed_at, None,
            "no end date: held until cleared"
        );
        let specialist = decide(&rules, &customer, &none, &[], &support(false));
        assert!(specialist.allowed && specialist.route_to_specialist);
    }

    #[test]
    fn a_vulnerability_hold_routes_to_a_specialist_and_blocks_automated_contact() {
        let rules = RuleSet::uk_conc7();
        let customer = customer(LONDON);
        let protections = Protections {
            periods: vec![ProtectionPeriod {
                kind: ProtectionKind::VulnerabilityHold,
                starts_at: at("2026-01-01T00:00:00Z"),
                ends_at: None,
            }],
        };
        let support = |automated: bool, channel: Channel| Request {
            channel,
            at: local(LONDON, "2026-06-10T10:00"),
            purpose: ContactPurpose::Support,
            automated,
            past_due: BEHIND,
        };
        let dialler = decide(
            &rules,
            &customer,
            &protections,
            &[],
            &support(true, Channel::Phone),
        );
        assert!(!dialler.allowed);
        assert!(dialler.route_to_specialist);
        assert_eq!(opposing(&dialler), ["VULNERABILITY_HOLD"]);
        assert_eq!(dialler.next_allowed_at, None);
        assert!(
            !decide(
                &rules,
                &customer,
                &protections,
                &[],
                &support(true, Channel::Sms)
            )
            .allowed
        );

        let specialist = decide(
            &rules,
            &customer,
            &protections,
            &[],
            &support(false, Channel::Phone),
        );
        assert!(specialist.allowed);
        assert!(specialist.route_to_specialist);
        assert_eq!(
            reason(&specialist, ContactRule::VulnerabilityHold).effect,
            ReasonEffect::Neutral
        );

        // A hold also stops payment demands.
        let demand = Request {
            purpose: ContactPurpose::PaymentDemand,
            ..support(false, Channel::Phone)
        };
        assert_eq!(
            opposing(&decide(&rules, &customer, &protections, &[], &demand)),
            ["PROTECTED_STATE"]
        );
    }

    #[test]
    fn a_hold_with_an_end_gives_the_dialler_a_next_time() {
        let rules = RuleSet::uk_conc7();
        let customer = customer(LONDON);
        let ends_at = local(LONDON, "2026-06-12T00:00");
        let protections = Protections {
            periods: vec![ProtectionPeriod {
                kind: ProtectionKind::VulnerabilityHold,
                starts_at: at("2026-01-01T00:00:00Z"),
                ends_at: Some(ends_at),
            }],
        };
        let request = Request {
            channel: Channel::Phone,
            at: local(LONDON, "2026-06-10T10:00"),
            purpose: ContactPurpose::Support,
            automated: true,
            past_due: BEHIND,
        };
        let decision = decide(&rules, &customer, &protections, &[], &request);
        assert_eq!(
            decision.next_allowed_at,
            Some(local(LONDON, "2026-06-12T08:00"))
        );
    }

    // ------------------------------------------------------------ do-not-contact, opt-outs

    #[test]
    fn do_not_contact_has_no_next_time_except_for_statutory_letters() {
        let rules = RuleSet::uk_conc7();
        let mut customer = customer(LONDON);
        customer.do_not_contact = true;
        let noon = local(LONDON, "2026-06-10T12:00");
        for channel in [
            Channel::Phone,
            Channel::Email,
            Channel::Letter,
            Channel::Visit,
        ] {
            let decision = decide_plain(&rules, &customer, &[], &request(channel, noon));
            assert!(!decision.allowed, "{channel:?}");
            assert_eq!(decision.next_allowed_at, None);
            assert_eq!(opposing(&decision), ["DO_NOT_CONTACT"]);
        }
        let notice = Request {
            purpose: ContactPurpose::StatutoryNotice,
            ..request(Channel::Letter, noon)
        };
        assert!(decide_plain(&rules, &customer, &[], &notice).allowed);
        let emailed_notice = Request {
            channel: Channel::Email,
            ..notice
        };
        assert!(!decide_plain(&rules, &customer, &[], &emailed_notice).allowed);
    }

    #[test]
    fn opted_out_and_refused_channels_are_closed_with_no_next_time() {
        let rules = RuleSet::us_reg_f();
        let noon = local(NEW_YORK, "2026-06-10T12:00");
        let mut opted_out = customer(NEW_YORK);
        opted_out.opted_out_channels = vec![Channel::Sms];
        let decision = decide_plain(&rules, &opted_out, &[], &request(Channel::Sms, noon));
        assert_eq!(opposing(&decision), ["CHANNEL_OPTED_OUT"]);
        assert_eq!(decision.next_allowed_at, None);
        assert!(decide_plain(&rules, &opted_out, &[], &request(Channel::Email, noon)).allowed);

        // An opt-out recorded in the ledger counts the same.
        let ledger = [Attempt {
            channel: Channel::Email,
            direction: Direction::Outbound,
            outcome: ContactOutcome::OptedOut,
            at: local(NEW_YORK, "2026-06-01T12:00"),
            automated: true,
        }];
        let plain = customer(NEW_YORK);
        let by_ledger = decide_plain(&rules, &plain, &ledger, &request(Channel::Email, noon));
        assert_eq!(opposing(&by_ledger), ["CHANNEL_OPTED_OUT"]);
        assert_eq!(
            param(
                reason(&by_ledger, ContactRule::OptedOutChannel),
                "recorded_in"
            ),
            Some("contact ledger")
        );

        let mut refused = customer(NEW_YORK);
        refused.refused_channels = vec![Channel::Phone];
        let decision = decide_plain(&rules, &refused, &[], &call(noon));
        assert_eq!(opposing(&decision), ["CHANNEL_REFUSED"]);
        assert_eq!(decision.next_allowed_at, None);
    }

    #[test]
    fn withdrawn_electronic_consent_closes_electronic_channels() {
        let rules = RuleSet::uk_conc7();
        let mut customer = customer(LONDON);
        customer.electronic_collections_consent = Some(false);
        let noon = local(LONDON, "2026-06-10T12:00");
        let email = decide_plain(&rules, &customer, &[], &request(Channel::Email, noon));
        assert_eq!(opposing(&email), ["ELECTRONIC_CONSENT"]);
        assert_eq!(email.next_allowed_at, None);
        assert!(decide_plain(&rules, &customer, &[], &call(noon)).allowed);
    }

    #[test]
    fn electronic_messages_are_reminded_of_their_opt_out() {
        let rules = RuleSet::uk_conc7();
        let customer = customer(LONDON);
        let email = decide_plain(
            &rules,
            &customer,
            &[],
            &request(Channel::Email, local(LONDON, "2026-06-10T12:00")),
        );
        let notice = reason(&email, ContactRule::ElectronicOptOut);
        assert_eq!(notice.effect, ReasonEffect::Neutral);
        assert!(notice.message.contains("opt out"));
        assert_eq!(
            RuleSet::us_reg_f().rule_ref(ContactRule::ElectronicOptOut),
            "12 CFR 1006.6(e)"
        );
    }

    // ------------------------------------------------------------ properties

    mod properties {
        use super::*;
        use proptest::prelude::*;
        use proptest::sample::select;

        const ZONES: [&str; 7] = [
            NEW_YORK,
            BUCHAREST,
            DUBLIN,
            LONDON,
            "UTC",
            "Australia/Lord_Howe",
            "America/Havana",
        ];
        const CHANNELS: [Channel; 12] = [
            Channel::Phone,
            Channel::Sms,
            Channel::Email,
            Channel::Letter,
            Channel::InApp,
            Channel::Push,
            Channel::Messaging,
            Channel::WebChat,
            Channel::Web,
            Channel::Branch,
            Channel::Visit,
            Channel::Video,
        ];
        const PURPOSES: [ContactPurpose; 4] = [
            ContactPurpose::Unspecified,
            ContactPurpose::PaymentDemand,
            ContactPurpose::Support,
            ContactPurpose::StatutoryNotice,
        ];
        fn outcome() -> impl Strategy<Value = ContactOutcome> {
            prop_oneof![
                20 => Just(ContactOutcome::NoAnswer),
                10 => Just(ContactOutcome::Voicemail),
                3 => Just(ContactOutcome::Conversation),
                4 => Just(ContactOutcome::MessageSent),
                1 => Just(ContactOutcome::OptedOut),
            ]
        }
        const KINDS: [ProtectionKind; 4] = [
            ProtectionKind::BreathingSpace,
            ProtectionKind::MentalHealthCrisis,
            ProtectionKind::Dispute,
            ProtectionKind::VulnerabilityHold,
        ];
        /// 2025-01-01T00:00:00Z .. 2036-01-01T00:00:00Z: past the one-off holiday list, through
        /// years whose holidays are computed.
        const FROM: i64 = 1_735_689_600;
        const TO: i64 = 2_082_758_400;
        const DAY: i64 = 86_400;

        fn instant(seconds: i64) -> Timestamp {
            Timestamp::from_second(seconds).expect("in range")
        }

        fn rule_set(index: usize) -> RuleSet {
            match index {
                0 => RuleSet::us_reg_f(),
                1 => RuleSet::uk_conc7(),
                2 => RuleSet::ireland(),
                _ => RuleSet::conservative_default(),
            }
        }

        fn quiet_span() -> impl Strategy<Value = QuietHours> {
            (
                0..24i8,
                prop_oneof![Just(0i8), Just(30i8)],
                0..24i8,
                prop_oneof![Just(0i8), Just(30i8)],
                0u8..128,
            )
                .prop_map(|(h0, m0, h1, m1, mask)| {
                    let days = (0..7)
                        .filter(|bit| mask & (1 << bit) != 0)
                        .filter_map(|bit| Weekday::from_monday_one_offset(bit + 1).ok())
                        .collect();
                    (time(h0, m0, 0, 0), time(h1, m1, 0, 0), days)
                })
        }

        prop_compose! {
            fn customer_in_zone()(
                zone_name in select(&ZONES[..]),
                quiet_hours in prop::collection::vec(quiet_span(), 0..3),
                refused in prop::option::weighted(0.1, select(&CHANNELS[..])),
                opted_out in prop::option::weighted(0.1, select(&CHANNELS[..])),
                do_not_contact in prop::bool::weighted(0.05),
                electronic in prop::option::of(prop::bool::weighted(0.8)),
                out_of_hours in prop::bool::weighted(0.1),
            ) -> Customer {
                Customer {
                    time_zone: zone(zone_name),
                    quiet_hours,
                    refused_channels: refused.into_iter().collect(),
                    do_not_contact,
                    opted_out_channels: opted_out.into_iter().collect(),
                    electronic_collections_consent: electronic,
                    consented_to_out_of_hours_calls: out_of_hours,
                    vulnerable: false,
                }
            }
        }

        prop_compose! {
            fn scenario()(
                rules in 0usize..4,
                customer in customer_in_zone(),
                now in FROM..TO,
                channel in prop_oneof![4 => Just(Channel::Phone), 1 => select(&CHANNELS[..])],
                purpose in select(&PURPOSES[..]),
                automated in any::<bool>(),
                ledger in prop::collection::vec(
                    (
                        1..9 * DAY,
                        prop::bool::weighted(0.8),
                        outcome(),
                        prop_oneof![9 => Just(Channel::Phone), 1 => select(&CHANNELS[..])],
                    ),
                    0..24,
                ),
                periods in prop::collection::vec(
                    (
                        select(&KINDS[..]),
                        -90 * DAY..30 * DAY,
                        prop::option::weighted(0.8, 1..90 * DAY),
                    ),
                    0..3,
                ),
            ) -> (RuleSet, Customer, Protections, Vec<Attempt>, Request) {
                let ledger = ledger
                    .into_iter()
                    .map(|(ago, outbound, outcome, channel)| Attempt {
                        channel,
                        direction: if outbound { Direction::Outbound } else { Direction::Inbound },
                        outcome,
                        at: instant(now - ago),
                        automated: false,
                    })
                    .collect();
                let periods = periods
                    .into_iter()
                    .map(|(kind, start, length)| ProtectionPeriod {
                        kind,
                        starts_at: instant(now + start),
                        ends_at: length.map(|length| instant(now + start + length)),
                    })
                    .collect();
                let request = Request { channel, at: instant(now), purpose, automated, past_due: BEHIND };
                (rule_set(rules), customer, Protections { periods }, ledger, request)
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(512))]

            /// The next allowed moment is after the request, allowed itself, and the earliest:
            /// a nanosecond before it the contact is still refused.
            #[test]
            fn next_allowed_is_the_first_allowed_moment(
                (rules, customer, protections, ledger, request) in scenario()
            ) {
                let decide_at = |at: Timestamp| {
                    decide(&rules, &customer, &protections, &ledger, &Request { at, ..request })
                };
                let decision = decide_at(request.at);
                let rule_codes: Vec<&str> = decision
                    .reasons
                    .iter()
                    .map(|r| r.code)
                    .take(ContactRule::ALL.len())
                    .collect();
                let expected: Vec<&str> = ContactRule::ALL.iter().map(|r| r.code()).collect();
                prop_assert_eq!(rule_codes, expected);
                prop_assert_eq!(decision.allowed, opposing(&decision).is_empty());
                if decision.allowed {
                    prop_assert_eq!(decision.next_allowed_at, None);
                }
                if let Some(next) = decision.next_allowed_at {
                    prop_assert!(!decision.allowed);
                    prop_assert!(next > request.at);
                    let then = decide_at(next);
                    prop_assert!(then.allowed, "not allowed at {}: {:?}", next, opposing(&then));
                    let just_before = next - SignedDuration::from_nanos(1);
                    let before = decide_at(just_before);
                    prop_assert!(!before.allowed, "already allowed at {}", just_before);
                }
            }

            /// A refusal with no foreseeable end comes from a rule that blocks for good.
            #[test]
            fn no_next_time_only_for_lasting_blocks(
                (rules, customer, protections, ledger, request) in scenario()
            ) {
                let decision = decide(&rules, &customer, &protections, &ledger, &request);
                if !decision.allowed && decision.next_allowed_at.is_none() {
                    let lasting = decision.reasons.iter().any(|r| {
                        r.code == NO_ALLOWED_TIME_WITHIN_HORIZON
                            || r.code == BLOCKED_INDEFINITELY_LATER
                            || (r.effect == ReasonEffect::Opposes && param(r, "until").is_none())
                    });
                    prop_assert!(lasting, "{:?}", decision.reasons);
                }
            }
        }
    }
}
