//! Daylight-saving changes: gaps and folds in the customer's local time.

use super::*;

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
