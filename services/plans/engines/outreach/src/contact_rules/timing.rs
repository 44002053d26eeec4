//! Rules on when: contact hours, Sundays and public holidays, quiet hours, call frequency and
//! the wait after a conversation.

use super::*;

/// Rule 4 (US 12 CFR 1006.6(b)(1)(i), email and text by send time; GB CONC 7.9.4R; IE CCA 1995
/// s.46(a)(ii)(I); elsewhere the DESIGN.md floor): only within the contact hours at the
/// customer's location, `[start, end)`. A channel the jurisdiction's rule does not name keeps to
/// the default floor, quoted as its source; consent to out-of-hours calls lifts only the
/// jurisdiction's own rule.
pub(super) fn contact_hours(cx: &Context<'_>) -> Check {
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

/// Rule 5 (IE: Consumer Credit Act 1995 s.46(a)(ii)(II)): no calls or visits on a Sunday or a
/// public holiday without the customer's consent; next is the next open day's window start.
/// Every reason names the holiday calendar, its source and its coverage.
pub(super) fn sundays_and_public_holidays(cx: &Context<'_>) -> Check {
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
pub(super) enum ClosedDay {
    Holiday(&'static str),
    Sunday,
    /// Before the calendar's coverage: it might be a holiday.
    NotCovered,
}

/// Why `day` is closed to calls and visits, if it is.
pub(super) fn closed_day(calendar: &HolidayCalendar, day: Date) -> Option<ClosedDay> {
    match calendar.status(day) {
        DayStatus::Holiday(name) => Some(ClosedDay::Holiday(name)),
        _ if day.weekday() == Weekday::Sunday => Some(ClosedDay::Sunday),
        DayStatus::NotCovered => Some(ClosedDay::NotCovered),
        DayStatus::NotAHoliday | DayStatus::NotAHolidayByRules => None,
    }
}

/// The first day after `day` that is open to calls and visits: a covered day that is neither a
/// Sunday nor a public holiday.
pub(super) fn next_open_day(calendar: &HolidayCalendar, day: Date) -> Option<Date> {
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
pub(super) fn quiet_hours(cx: &Context<'_>) -> Check {
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
pub(super) fn quiet_until(
    zone: &TimeZone,
    spans: &[QuietHours],
    at: Timestamp,
) -> Option<Timestamp> {
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
pub(super) fn quiet_span_end((start, end, days): &QuietHours, local: DateTime) -> Option<DateTime> {
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
pub(super) fn call_frequency(cx: &Context<'_>) -> Check {
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
pub(super) fn post_conversation_wait(cx: &Context<'_>) -> Check {
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
