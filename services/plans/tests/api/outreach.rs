//! OutreachService through its client, with profiles beside it: decisions with reasons, the
//! ledger, held slots under concurrency, the next best action, rendering.

use futures_util::future::join_all;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as pb;
use rapport_proto::profiles::v1 as profiles;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;
use tonic::Code;

use crate::support::{Plans, agent, at, money, start, upsert_for, violated_fields};

/// A customer in profiles (in `zone`) with a debt in `jurisdiction`, 30 days past due.
async fn debtor(plans: &mut Plans, zone: &str, jurisdiction: &str) -> (String, pb::Account) {
    let (customer, account) = current_account(plans, zone, jurisdiction).await;
    let account = plans
        .arrears(
            &account.account_id,
            30,
            money(&account.currency_code, 20_000),
        )
        .await;
    (customer, account)
}

/// A customer in profiles (in `zone`) with an account in `jurisdiction` that was never behind.
async fn current_account(
    plans: &mut Plans,
    zone: &str,
    jurisdiction: &str,
) -> (String, pb::Account) {
    let customer = plans
        .profiles
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Alex Morgan".into(),
                locale: "en-US".into(),
                time_zone: zone.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    let mut request = upsert_for(
        &customer.customer_id,
        "USD",
        500_000,
        20_000,
        &rapport_ids::Id::new().to_string(),
    );
    request.jurisdiction = jurisdiction.into();
    let account = plans
        .accounts
        .upsert_account(request)
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    (customer.customer_id, account)
}

fn check(
    customer_id: &str,
    account_id: &str,
    channel: common::Channel,
    when: &str,
    reserve: bool,
) -> pb::CheckContactRequest {
    pb::CheckContactRequest {
        customer_id: customer_id.into(),
        account_id: account_id.into(),
        channel: channel as i32,
        at: Some(at(when)),
        purpose: pb::ContactPurpose::PaymentDemand as i32,
        automated: false,
        reserve,
        requested_by: Some(agent("dialer-1")),
    }
}

fn attempt(
    customer_id: &str,
    account_id: &str,
    decision_id: &str,
    when: &str,
) -> pb::RecordContactAttemptRequest {
    pb::RecordContactAttemptRequest {
        customer_id: customer_id.into(),
        account_id: account_id.into(),
        channel: common::Channel::Phone as i32,
        direction: common::Direction::Outbound as i32,
        outcome: pb::ContactOutcome::NoAnswer as i32,
        occurred_at: Some(at(when)),
        decision_id: decision_id.into(),
        made_by: Some(agent("dialer-1")),
        ..Default::default()
    }
}

fn has_blocking(reasons: &[common::Reason], code: &str) -> bool {
    reasons
        .iter()
        .any(|r| r.code == code && r.effect == common::ReasonEffect::Opposes as i32)
}

async fn the_eighth_call_in_seven_days_is_refused_with_its_reason(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "America/New_York", "US").await;
    plans.clock.set("2026-03-10T15:00:00Z".parse().unwrap()); // 11:00 in New York
    for n in 0..7 {
        let when = format!("2026-03-10T14:{:02}:00Z", 10 + n * 5); // 10:10, 10:15, … in New York
        let when = when.as_str();
        let decision = plans
            .plans_outreach()
            .check_contact(check(
                &customer,
                &account.account_id,
                common::Channel::Phone,
                when,
                true,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(
            decision.allowed,
            "call {} of 7: {:?}",
            n + 1,
            decision.reasons
        );
        plans
            .plans_outreach()
            .record_contact_attempt(attempt(
                &customer,
                &account.account_id,
                &decision.decision_id,
                when,
            ))
            .await
            .unwrap();
    }
    let eighth = plans
        .plans_outreach()
        .check_contact(check(
            &customer,
            &account.account_id,
            common::Channel::Phone,
            "2026-03-10T15:00:00Z",
            true,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!eighth.allowed);
    assert_eq!(
        eighth.evaluated_at,
        Some(at("2026-03-10T15:00:00Z")),
        "evaluated_at is the instant asked about, not the time of the call"
    );
    assert!(
        has_blocking(&eighth.reasons, "CALL_FREQUENCY"),
        "{:?}",
        eighth.reasons
    );
    assert_eq!(eighth.rule_set, "US");
    assert!(eighth.next_allowed_at.is_some());
    // An email is a different channel: not counted against calls.
    let email = plans
        .plans_outreach()
        .check_contact(check(
            &customer,
            &account.account_id,
            common::Channel::Email,
            "2026-03-10T15:00:00Z",
            false,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(email.allowed, "{:?}", email.reasons);
    // Every decision is stored with its reasons for audit replay.
    assert_eq!(
        plans.count("SELECT COUNT(*) FROM contact_decisions").await,
        9
    );
    // An attempt may not be recorded against a refused decision.
    let refused = plans
        .plans_outreach()
        .record_contact_attempt(attempt(
            &customer,
            &account.account_id,
            &eighth.decision_id,
            "2026-03-10T15:00:00Z",
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
}

async fn concurrent_dialers_never_exceed_the_limit(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "America/Chicago", "US").await;
    plans.clock.set("2026-03-11T16:00:00Z".parse().unwrap()); // 10:00 in Chicago
    let pairs = (0..20).map(|_| {
        let mut client = plans.plans_outreach();
        let (customer, account_id) = (customer.clone(), account.account_id.clone());
        async move {
            let when = "2026-03-11T16:00:00Z";
            let decision = client
                .check_contact(check(
                    &customer,
                    &account_id,
                    common::Channel::Phone,
                    when,
                    true,
                ))
                .await
                .unwrap()
                .into_inner();
            if decision.allowed {
                client
                    .record_contact_attempt(attempt(
                        &customer,
                        &account_id,
                        &decision.decision_id,
                        when,
                    ))
                    .await
                    .unwrap();
                1
            } else {
                0
            }
        }
    });
    let made: i32 = join_all(pairs).await.into_iter().sum();
    assert_eq!(
        made, 7,
        "seven calls in seven days, however many dialers ask at once"
    );
    assert_eq!(
        plans.count("SELECT COUNT(*) FROM contact_attempts").await,
        7
    );
}

async fn protection_stops_demands_but_not_help_until_local_midnight(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "Europe/London", "GB").await;
    plans
        .hardship
        .set_protection(pb::SetProtectionRequest {
            customer_id: customer.clone(),
            kind: pb::ProtectionKind::BreathingSpace as i32,
            starts_at: Some(at("2026-03-02T09:00:00Z")),
            set_by: Some(agent("adviser")),
            ..Default::default()
        })
        .await
        .unwrap();
    let demand = plans
        .plans_outreach()
        .check_contact(check(
            &customer,
            &account.account_id,
            common::Channel::Email,
            "2026-03-20T10:00:00Z",
            false,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(!demand.allowed);
    assert!(has_blocking(&demand.reasons, "PROTECTED_STATE"));
    let mut help = check(
        &customer,
        &account.account_id,
        common::Channel::Email,
        "2026-03-20T10:00:00Z",
        false,
    );
    help.purpose = pb::ContactPurpose::Support as i32;
    assert!(
        plans
            .plans_outreach()
            .check_contact(help)
            .await
            .unwrap()
            .into_inner()
            .allowed
    );
    // 60 days from 2 March 09:00: the last protected day is 1 May; demands resume after
    // midnight London time, at the start of the contact hours: 08:00 BST on 2 May.
    assert_eq!(demand.next_allowed_at, Some(at("2026-05-02T07:00:00Z")));
}

async fn next_best_action_offers_help_first_and_respects_holds(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "Europe/Bucharest", "GB").await;
    plans.clock.set("2026-03-10T08:00:00Z".parse().unwrap()); // 10:00 in Bucharest
    let first = plans
        .plans_outreach()
        .next_best_action(pb::NextBestActionRequest {
            account_id: account.account_id.clone(),
            at: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        first.purpose,
        pb::ContactPurpose::Support as i32,
        "the first contact offers help"
    );
    assert_eq!(first.action, pb::NextActionKind::SendMessage as i32);
    assert!(!first.template_id.is_empty());

    plans
        .hardship
        .set_protection(pb::SetProtectionRequest {
            customer_id: customer.clone(),
            kind: pb::ProtectionKind::VulnerabilityHold as i32,
            set_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap();
    let held = plans
        .plans_outreach()
        .next_best_action(pb::NextBestActionRequest {
            account_id: account.account_id.clone(),
            at: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(held.action, pb::NextActionKind::SpecialistReview as i32);
}

async fn bad_outreach_input_names_the_field(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "America/New_York", "US").await;
    let mut unknown_channel = check(
        &customer,
        &account.account_id,
        common::Channel::Phone,
        "2026-03-10T15:00:00Z",
        false,
    );
    unknown_channel.channel = 99;
    let status = plans
        .plans_outreach()
        .check_contact(unknown_channel)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&status), vec!["channel"]);
    let nobody = plans
        .plans_outreach()
        .check_contact(check(
            &customer,
            &rapport_ids::Id::new().to_string(),
            common::Channel::Phone,
            "2026-03-10T15:00:00Z",
            false,
        ))
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Code::NotFound);
    let no_decision = plans
        .plans_outreach()
        .record_contact_attempt(attempt(
            &customer,
            &account.account_id,
            "",
            "2026-03-02T08:00:00Z",
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_decision), vec!["decision_id"]);
}

/// Issue 17: the Irish holiday calendar used to end in 2027, so St Patrick's Day 2028 and
/// St Stephen's Day 2031 were "neither a Sunday nor a public holiday". The calendar is computed
/// for the year asked, and the reason names its source and coverage.
async fn irish_public_holidays_years_ahead_refuse_calls(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "Europe/Dublin", "IE").await;
    // Both Fridays, 10:00 in Dublin (GMT): calls resume at 09:00 on the Saturday.
    for (day, holiday, next) in [
        ("2028-03-17", "St Patrick's Day", "2028-03-18T09:00:00Z"),
        ("2031-12-26", "St Stephen's Day", "2031-12-27T09:00:00Z"),
    ] {
        let when = format!("{day}T10:00:00Z");
        plans.clock.set(when.parse().unwrap());
        let decision = plans
            .plans_outreach()
            .check_contact(check(
                &customer,
                &account.account_id,
                common::Channel::Phone,
                &when,
                false,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(!decision.allowed, "{day}: {:?}", decision.reasons);
        assert_eq!(decision.rule_set, "IE");
        let blocking: Vec<&common::Reason> = decision
            .reasons
            .iter()
            .filter(|r| r.effect == common::ReasonEffect::Opposes as i32)
            .collect();
        assert_eq!(blocking.len(), 1, "{day}: {blocking:?}");
        let reason = blocking[0];
        assert_eq!(reason.code, "SUNDAY_OR_PUBLIC_HOLIDAY");
        assert!(
            reason
                .message
                .contains(&format!("{day} is a public holiday ({holiday})")),
            "{}",
            reason.message
        );
        // The calendar's source and coverage are on the reason.
        assert!(
            reason
                .message
                .contains("Organisation of Working Time Act 1997"),
            "{}",
            reason.message
        );
        assert!(
            reason
                .rule_ref
                .contains("Organisation of Working Time Act 1997"),
            "{}",
            reason.rule_ref
        );
        assert_eq!(
            reason.params.get("holiday").map(String::as_str),
            Some(holiday)
        );
        assert!(
            reason.params.contains_key("holiday_calendar_coverage"),
            "{:?}",
            reason.params
        );
        assert_eq!(decision.next_allowed_at, Some(at(next)), "{day}");
        // An email is not a call or a visit.
        let email = plans
            .plans_outreach()
            .check_contact(check(
                &customer,
                &account.account_id,
                common::Channel::Email,
                &when,
                false,
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(email.allowed, "{day}: {:?}", email.reasons);
    }
}

backend_tests!(
    irish_public_holidays_years_ahead_refuse_calls,
    the_eighth_call_in_seven_days_is_refused_with_its_reason,
    concurrent_dialers_never_exceed_the_limit,
    protection_stops_demands_but_not_help_until_local_midnight,
    next_best_action_offers_help_first_and_respects_holds,
    a_vulnerability_recorded_in_profiles_routes_contact_to_a_specialist,
    bad_outreach_input_names_the_field,
    no_collections_contact_while_nothing_is_past_due,
    irish_texts_keep_the_default_hours_floor,
);

const PURPOSES: [pb::ContactPurpose; 3] = [
    pb::ContactPurpose::PaymentDemand,
    pb::ContactPurpose::Support,
    pb::ContactPurpose::StatutoryNotice,
];
const CHANNELS: [common::Channel; 4] = [
    common::Channel::Sms,
    common::Channel::Email,
    common::Channel::Phone,
    common::Channel::Letter,
];

async fn next_best_action_at(
    plans: &mut Plans,
    account_id: &str,
    when: &str,
) -> pb::NextBestActionResponse {
    plans
        .plans_outreach()
        .next_best_action(pb::NextBestActionRequest {
            account_id: account_id.into(),
            at: Some(at(when)),
        })
        .await
        .unwrap()
        .into_inner()
}

/// Issue 19.1: an account with nothing past due (never behind, or back to current) gets no
/// payment demand and no collections suggestion; help and notices the law requires still go.
/// Every stage × every purpose × every channel, through the client.
async fn no_collections_contact_while_nothing_is_past_due(database: TestDatabase) {
    let mut plans = start(database).await;
    plans.clock.set("2026-03-10T12:00:00Z".parse().unwrap());
    let (never_behind_customer, never_behind) =
        current_account(&mut plans, "Europe/London", "GB").await;
    let (cured_customer, cured) = debtor(&mut plans, "Europe/London", "GB").await;
    let cured = plans.arrears(&cured.account_id, 0, money("USD", 0)).await;
    assert_eq!(cured.days_past_due, 0);
    // (customer, account, days past due; 0 = nothing past due)
    let mut accounts = vec![
        (never_behind_customer, never_behind.account_id.clone(), 0),
        (cured_customer, cured.account_id.clone(), 0),
    ];
    for days in [1, 45, 100, 400] {
        let (customer, account) = current_account(&mut plans, "Europe/London", "GB").await;
        plans
            .arrears(&account.account_id, days, money("USD", 20_000))
            .await;
        accounts.push((customer, account.account_id, days));
    }
    for (customer, account, days) in &accounts {
        let past_due = *days > 0;
        for purpose in PURPOSES {
            for channel in CHANNELS {
                let mut request = check(customer, account, channel, "2026-03-10T12:00:00Z", false);
                request.purpose = purpose as i32;
                let decision = plans
                    .plans_outreach()
                    .check_contact(request)
                    .await
                    .unwrap()
                    .into_inner();
                let collections = purpose == pb::ContactPurpose::PaymentDemand;
                let case = format!("{days} days past due, {purpose:?} by {channel:?}");
                assert_eq!(
                    decision.allowed,
                    past_due || !collections,
                    "{case}: {:?}",
                    decision.reasons
                );
                assert_eq!(
                    has_blocking(&decision.reasons, "NOTHING_PAST_DUE"),
                    !past_due && collections,
                    "{case}: {:?}",
                    decision.reasons
                );
                if !decision.allowed {
                    assert!(
                        decision.next_allowed_at.is_none(),
                        "{case}: a debt is not foreseeable"
                    );
                }
            }
        }
        // Noon, and 06:30 when only a letter could go (the false "payment has not reached us").
        for when in ["2026-03-10T12:00:00Z", "2026-03-10T06:30:00Z"] {
            let action = next_best_action_at(&mut plans, account, when).await;
            let case = format!("{days} days past due at {when}: {action:?}");
            if past_due {
                assert_ne!(
                    action.action,
                    pb::NextActionKind::NoContact as i32,
                    "{case}"
                );
                assert!(!action.template_id.is_empty(), "{case}");
            } else {
                assert_eq!(
                    action.action,
                    pb::NextActionKind::NoContact as i32,
                    "{case}"
                );
                assert_eq!(
                    action.channel,
                    common::Channel::Unspecified as i32,
                    "{case}"
                );
                assert!(action.template_id.is_empty(), "{case}");
                assert!(action.earliest_at.is_none(), "{case}");
                assert!(has_blocking(&action.reasons, "NOTHING_PAST_DUE"), "{case}");
            }
        }
    }
}

/// Issue 19.2: the Irish rule on calls and visits (09:00–21:00) is stricter than the default,
/// and a text still gets the default floor (08:00–21:00): none at 22:30 in Dublin.
async fn irish_texts_keep_the_default_hours_floor(database: TestDatabase) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "Europe/Dublin", "IE").await;
    plans.clock.set("2026-03-10T22:30:00Z".parse().unwrap()); // 22:30 in Dublin (GMT)
    for channel in [
        common::Channel::Sms,
        common::Channel::Push,
        common::Channel::InApp,
    ] {
        for purpose in PURPOSES {
            let mut request = check(
                &customer,
                &account.account_id,
                channel,
                "2026-03-10T22:30:00Z",
                false,
            );
            request.purpose = purpose as i32;
            let decision = plans
                .plans_outreach()
                .check_contact(request)
                .await
                .unwrap()
                .into_inner();
            assert!(
                !decision.allowed,
                "{channel:?} {purpose:?}: {:?}",
                decision.reasons
            );
            assert!(
                has_blocking(&decision.reasons, "CONTACT_HOURS"),
                "{:?}",
                decision.reasons
            );
            assert_eq!(
                decision.next_allowed_at,
                Some(at("2026-03-11T08:00:00Z")),
                "{channel:?}: the default floor opens at 08:00"
            );
        }
    }
    let action = next_best_action_at(&mut plans, &account.account_id, "2026-03-10T22:30:00Z").await;
    let sms_now = action.channel == common::Channel::Sms as i32
        && action.earliest_at == Some(at("2026-03-10T22:30:00Z"));
    assert!(!sms_now, "no text at 22:30 in Ireland: {action:?}");
}

/// Plans reads vulnerability from profiles (issue 8): a recorded vulnerability holds contact as
/// a vulnerability hold does, with nothing set in plans.
async fn a_vulnerability_recorded_in_profiles_routes_contact_to_a_specialist(
    database: TestDatabase,
) {
    let mut plans = start(database).await;
    let (customer, account) = debtor(&mut plans, "America/New_York", "US").await;
    let mut automated = check(
        &customer,
        &account.account_id,
        common::Channel::Phone,
        "2026-03-10T15:00:00Z",
        false,
    );
    automated.automated = true;
    let before = plans
        .plans_outreach()
        .check_contact(automated.clone())
        .await
        .unwrap()
        .into_inner();
    assert!(
        before.allowed && !before.route_to_specialist,
        "{:?}",
        before.reasons
    );

    plans
        .profiles
        .set_vulnerability(profiles::SetVulnerabilityRequest {
            customer_id: customer.clone(),
            vulnerability: Some(profiles::Vulnerability {
                factors: vec![profiles::VulnerabilityFactor {
                    driver: profiles::VulnerabilityDriver::LifeEvent as i32,
                    detail: "bereavement".into(),
                    temporary: true,
                }],
                customer_consented: true,
                ..Default::default()
            }),
            recorded_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    let refused = plans
        .plans_outreach()
        .check_contact(automated)
        .await
        .unwrap()
        .into_inner();
    assert!(!refused.allowed);
    assert!(refused.route_to_specialist);
    assert!(refused.reasons.iter().any(
        |r| r.code == "VULNERABILITY_HOLD" && r.effect == common::ReasonEffect::Opposes as i32
    ));
    let by_hand = plans
        .plans_outreach()
        .check_contact(check(
            &customer,
            &account.account_id,
            common::Channel::Phone,
            "2026-03-10T15:00:00Z",
            false,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(by_hand.route_to_specialist, "a specialist makes the call");
}

async fn templates_render_with_the_opt_out_and_name_missing_values(database: TestDatabase) {
    let plans = start(database).await;
    let mut outreach = plans.plans_outreach();
    let listed = outreach
        .list_templates(pb::ListTemplatesRequest {
            locale: "ro".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .templates;
    assert!(listed.len() >= 8, "{}", listed.len());
    for template in &listed {
        assert!(template.texts.iter().any(|t| t.locale.starts_with("ro")));
        assert!(
            template
                .tone_check
                .iter()
                .all(|r| r.effect != common::ReasonEffect::Opposes as i32),
            "{}",
            template.template_id
        );
        let electronic = matches!(
            common::Channel::try_from(template.channel).unwrap(),
            common::Channel::Email | common::Channel::Sms
        );
        // The customer's name comes from profiles; an opt-out link needs the customer.
        let values: std::collections::HashMap<String, String> = template
            .required_values
            .iter()
            .filter(|v| *v != "first_name")
            .map(|v| (v.clone(), "x".to_owned()))
            .collect();
        for locale in ["en", "ro-RO"] {
            let rendered = outreach
                .render_message(pb::RenderMessageRequest {
                    template_id: template.template_id.clone(),
                    locale: locale.into(),
                    values: values.clone(),
                    customer_id: plans.customer_id.clone(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner();
            assert_eq!(
                rendered.opt_out_included, electronic,
                "{} {locale}",
                template.template_id
            );
            assert!(!rendered.body.contains('{'), "every placeholder filled");
            if electronic {
                assert!(
                    rendered.body.contains("STOP") || rendered.body.contains("bank.example"),
                    "{}",
                    rendered.body
                );
            }
        }
    }
    let missing = outreach
        .render_message(pb::RenderMessageRequest {
            template_id: "first-contact-sms".into(),
            locale: "en".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::InvalidArgument);
    assert!(
        violated_fields(&missing)[0].starts_with("values."),
        "{missing:?}"
    );
    let unknown = outreach
        .render_message(pb::RenderMessageRequest {
            template_id: "final-demand".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), vec!["template_id"]);
}

backend_tests!(templates_render_with_the_opt_out_and_name_missing_values);
