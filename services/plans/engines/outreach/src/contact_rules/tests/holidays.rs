//! Ireland: no calls or visits on Sundays and public holidays.

use super::*;

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
