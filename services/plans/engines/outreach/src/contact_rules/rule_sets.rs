//! The contact rules of each jurisdiction, with their sources and their numbers.

use super::*;

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
pub(super) const HOURS_FLOOR: &str = "DESIGN.md: the hours floor (08:00–21:00 local) applies to every \
                           channel that reaches a person at a moment; a jurisdiction may be \
                           stricter, never looser without a cited rule";
pub(super) const NOTHING_PAST_DUE: &str = "DESIGN.md: no collections contact (payment demand, collections templates) without \
     something past due";

// Sources quoted by more than one rule or rule set.
pub(super) const REG_F_HOURS: &str = "12 CFR 1006.6(b)(1)(i)";
pub(super) const REG_F_CALL_FREQUENCY: &str = "12 CFR 1006.14(b)(2)(i)(A)";
pub(super) const REG_F_CONVERSATION_WAIT: &str = "12 CFR 1006.14(b)(2)(i)(B)";
pub(super) const REG_F_OPT_OUT: &str = "12 CFR 1006.6(e)";
pub(super) const CONC_REASONABLE: &str = "FCA CONC 7.9.4R";
pub(super) const DESIGN_OPT_OUT: &str =
    "DESIGN.md: every electronic message carries a simple opt-out";
pub(super) const CONSENT_RECORD: &str =
    "Customer consent record (profiles: collections by electronic channels)";
pub(super) const RESPITE: &str = "Debt Respite Scheme (Breathing Space Moratorium and Mental Health Crisis \
                       Moratorium) (England and Wales) Regulations 2020; \
                       DESIGN.md protected states";
pub(super) const VULNERABILITY: &str =
    "FCA FG21/1 (vulnerable customers); DESIGN.md vulnerability hold";
pub(super) const IE_CCA_S46: &str = "Consumer Credit Act 1995 (Ireland) s.46(a)(ii)(I)";

/// Version of the shipped rule sets.
pub(super) const SHIPPED_VERSION: &str = "2026-11-22";
/// Version of the Irish rule set: public holidays computed for any year, with the calendar's
/// source and coverage on every reason, and days it does not cover refused (issue 17); texts,
/// push, in-app and email keep to the default hours floor (issue 19).
pub(super) const IRELAND_VERSION: &str = "2026-12-02.2";

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
    pub(super) fn hours_cover(&self, channel: Channel) -> bool {
        self.contact_time_channels.covers(channel)
            || (self.electronic_send_time_counts && is_electronic(channel))
    }

    /// The window `channel` keeps to and its source: this rule set's own where its hours rule
    /// names the channel, else the default floor for channels that reach a person at a moment
    /// and for email's send time; `None` for letters and channels the customer starts.
    pub(super) fn hours_for(&self, channel: Channel) -> Option<((Time, Time), &'static str)> {
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
