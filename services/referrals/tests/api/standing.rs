//! Good standing from plans (issue 17): defined once in plans, published as events, used for
//! vouchers, trust seeds and reward qualification. Plans runs beside referrals; each test
//! delivers plans' outbox when it chooses.

use jiff::SignedDuration;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::referrals::v1 as pb;
use rapport_storage::backend_tests;
use rapport_storage::testing::TestDatabase;

use crate::referrals::{code_for, sign_up};
use crate::support::{Referrals, agent, at, start};

backend_tests!(
    a_customer_in_arrears_cannot_vouch_until_they_keep_a_plan,
    a_customer_in_arrears_is_no_trust_seed_and_the_explanation_says_why,
    a_broken_plan_stops_counting_after_twelve_months_without_anyone_asking,
    a_referral_qualifies_after_ninety_days_in_good_standing_counted_from_the_return,
    standing_events_are_applied_once_and_the_latest_wins,
);

fn gbp(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "GBP".into(),
        minor_units,
    })
}

/// A GBP card of £1,200 with £100 a month due on the 10th, as billing reports it: its id.
async fn card(r: &Referrals, customer: &str, external_id: &str) -> String {
    AccountServiceClient::new(r.channel.clone())
        .upsert_account(plans::UpsertAccountRequest {
            source_system: "cards".into(),
            external_account_id: external_id.into(),
            customer_id: customer.into(),
            kind: plans::AccountKind::CreditCard as i32,
            currency_code: "GBP".into(),
            balance: gbp(120_000),
            contractual_payment: gbp(10_000),
            annual_rate: "0.199".into(),
            due_day: 10,
            remaining_term_months: 0,
            jurisdiction: "GB".into(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap()
        .account_id
}

/// Billing reports the account `days` past due with £200 in arrears (0 days: current).
async fn behind(r: &Referrals, account: &str, days: i32) {
    AccountServiceClient::new(r.channel.clone())
        .report_arrears(plans::ReportArrearsRequest {
            account_id: account.into(),
            days_past_due: days,
            arrears_amount: gbp(if days == 0 { 0 } else { 20_000 }),
            as_of: None,
        })
        .await
        .unwrap();
}

/// The customer talks to an agent: a hardship case with £300 a month to spare, and a plan of at
/// least three months they agree to keep. The plan.
async fn keep_a_plan(r: &Referrals, customer: &str, account: &str) -> plans::Plan {
    let mut hardship = HardshipServiceClient::new(r.channel.clone());
    let case = hardship
        .open_hardship_case(plans::OpenHardshipCaseRequest {
            customer_id: customer.into(),
            account_ids: vec![account.into()],
            reason: plans::HardshipReason::JobLoss as i32,
            opened_by: Some(agent("agent-5")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap()
        .case_id;
    hardship
        .submit_income_expenditure(plans::SubmitIncomeExpenditureRequest {
            case_id: case.clone(),
            income_expenditure: Some(plans::IncomeExpenditure {
                household: Some(plans::Household {
                    adults: 1,
                    children: 0,
                    vehicles: 0,
                }),
                income: vec![plans::IncomeLine {
                    category: plans::IncomeCategory::Earnings as i32,
                    description: String::new(),
                    monthly_amount: gbp(150_000),
                }],
                fixed_costs: vec![plans::FixedCostLine {
                    category: plans::FixedCostCategory::HomeAndContents as i32,
                    description: String::new(),
                    monthly_amount: gbp(90_000),
                }],
                flexible_costs: vec![plans::FlexibleCostLine {
                    category: plans::FlexibleCostCategory::FoodAndHousekeeping as i32,
                    description: String::new(),
                    monthly_amount: gbp(30_000),
                }],
                ..Default::default()
            }),
            submitted_by: Some(agent("agent-5")),
        })
        .await
        .unwrap();
    let mut plan_service = PlanServiceClient::new(r.channel.clone());
    let options = plan_service
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account.into(),
            case_id: case.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .options;
    let chosen = options
        .iter()
        .filter(|o| o.months >= 3 && !o.schedule.is_empty())
        .min_by_key(|o| o.months)
        .expect("an option with a schedule");
    plan_service
        .accept_plan(plans::AcceptPlanRequest {
            account_id: account.into(),
            option_id: chosen.option_id.clone(),
            accepted_by: Some(agent("agent-5")),
            agreement: Some(plans::CustomerAgreement {
                method: plans::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-1".into(),
                agreed_at: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap()
}

async fn request_vouch(
    r: &Referrals,
    voucher: &str,
    prospect_customer: &str,
) -> Result<pb::Vouch, tonic::Status> {
    r.referrals
        .clone()
        .request_vouch(pb::RequestVouchRequest {
            voucher_customer_id: voucher.into(),
            prospect: Some(pb::request_vouch_request::Prospect::ProspectCustomerId(
                prospect_customer.into(),
            )),
            requested_by: Some(agent("branch-3")),
            request_id: String::new(),
        })
        .await
        .map(|r| r.into_inner().vouch.unwrap())
}

async fn vouch(r: &Referrals, voucher: &str, prospect_customer: &str) {
    let vouch = request_vouch(r, voucher, prospect_customer).await.unwrap();
    r.referrals
        .clone()
        .respond_to_vouch(pb::RespondToVouchRequest {
            vouch_id: vouch.vouch_id,
            answer: pb::VouchAnswer::Vouch as i32,
            relationship: pb::Relationship::Friend as i32,
            years_known: 10,
            comment: String::new(),
        })
        .await
        .unwrap();
}

/// GetTrust online, checked against the batch's stored answer (the same, to the bit).
async fn trust(r: &Referrals, customer: &str) -> pb::GetTrustResponse {
    r.trust_online_and_stored(pb::GetTrustRequest {
        subject: Some(pb::get_trust_request::Subject::CustomerId(customer.into())),
    })
    .await
}

fn signal<'a>(t: &'a pb::GetTrustResponse, code: &str) -> Option<&'a pb::TrustSignal> {
    t.signals.iter().find(|s| s.code == code)
}

/// The finding: 95 days past due, and still vouching for a prospect.
async fn a_customer_in_arrears_cannot_vouch_until_they_keep_a_plan(database: TestDatabase) {
    let mut r = start(database).await;
    let voucher = r.customer("Vera Voucher", (2015, 5, 1), "").await;
    let prospect = r.customer("Paul Prospect", (2026, 2, 1), "").await;
    let account = card(&r, &voucher, "card-vera").await;
    behind(&r, &account, 95).await;
    assert_eq!(r.deliver_standing().await, 1, "one standing change");

    let refused = request_vouch(&r, &voucher, &prospect).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("not in good standing")
            && refused.message().contains("95 days past due"),
        "{}",
        refused.message()
    );

    // Being helped is not a default: once she keeps an agreed plan, she may vouch again.
    keep_a_plan(&r, &voucher, &account).await;
    assert_eq!(r.deliver_standing().await, 1);
    let vouch = request_vouch(&r, &voucher, &prospect).await.unwrap();
    assert_eq!(vouch.status, pb::VouchStatus::Requested as i32);
}

/// A 15-year customer 200 days past due no longer anchors trust, and the explanation says so;
/// keeping a plan makes them an anchor again.
async fn a_customer_in_arrears_is_no_trust_seed_and_the_explanation_says_why(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    let elder = r.customer("Elder One", (2011, 4, 1), "").await;
    let prospect = r.customer("Paul Prospect", (2026, 2, 1), "").await;
    vouch(&r, &elder, &prospect).await;
    let before = trust(&r, &prospect).await;
    assert!(before.score > 0.0, "{before:?}");
    assert_eq!(trust(&r, &elder).await.score, 1.0, "a seed");

    let account = card(&r, &elder, "card-elder").await;
    behind(&r, &account, 200).await;
    assert_eq!(r.deliver_standing().await, 1);

    let after = trust(&r, &prospect).await;
    assert_eq!(after.score, 0.0, "no seed left in the graph: {after:?}");
    let removed = signal(&after, "SEEDS_REMOVED_BY_STANDING")
        .expect("the prospect's explanation says standing removed a seed");
    assert!(removed.effect < 0.0);
    assert!(signal(&after, "NO_SEEDS").is_some());

    let own = trust(&r, &elder).await;
    assert!(own.score < 1.0, "no longer a seed: {own:?}");
    let why = signal(&own, "NOT_A_SEED_NOT_IN_GOOD_STANDING").expect("says why");
    assert!(why.description.contains("200 days past due"), "{why:?}");
    let reason = own
        .reasons
        .iter()
        .find(|r| r.code == "NOT_A_SEED_NOT_IN_GOOD_STANDING")
        .expect("and so does a reason");
    assert_eq!(reason.effect, common::ReasonEffect::Opposes as i32);
    assert!(reason.rule_ref.contains("Good standing"));

    keep_a_plan(&r, &elder, &account).await;
    assert_eq!(r.deliver_standing().await, 1);
    let restored = trust(&r, &prospect).await;
    assert!(
        (restored.score - before.score).abs() < 1e-12,
        "{restored:?}"
    );
    assert!(signal(&restored, "SEEDS_REMOVED_BY_STANDING").is_none());
    let own = trust(&r, &elder).await;
    assert_eq!(own.score, 1.0, "a seed again");
    let keeping = signal(&own, "SEED_KEEPING_PLAN").expect("says why it still counts");
    assert!(
        keeping.description.contains("200 days past due"),
        "{keeping:?}"
    );
}

/// Time alone ends a broken plan's effect: referrals reads the lapse plans announced, with no job
/// and no new event; plans publishes the return when it next looks at the customer.
async fn a_broken_plan_stops_counting_after_twelve_months_without_anyone_asking(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    let voucher = r.customer("Vera Voucher", (2015, 5, 1), "").await;
    let first = r.customer("First Prospect", (2026, 2, 1), "").await;
    let second = r.customer("Second Prospect", (2026, 2, 1), "").await;
    let account = card(&r, &voucher, "card-vera").await;
    behind(&r, &account, 20).await;
    let plan = keep_a_plan(&r, &voucher, &account).await;
    assert_eq!(
        r.deliver_standing().await,
        0,
        "20 days behind: in good standing all along"
    );

    // Nothing is paid for months; a new plan is offered; the plan breaks.
    r.clock.set("2026-06-20T09:00:00Z".parse().unwrap());
    let mut plan_service = PlanServiceClient::new(r.channel.clone());
    plan_service
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    r.clock.advance(SignedDuration::from_hours(1));
    let broken = plan_service
        .get_plan(plans::GetPlanRequest {
            plan_id: plan.plan_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(broken.status, plans::PlanStatus::Broken as i32);
    assert_eq!(r.deliver_standing().await, 1);
    let refused = request_vouch(&r, &voucher, &first).await.unwrap_err();
    assert!(
        refused.message().contains("was broken"),
        "{}",
        refused.message()
    );

    // A year on, referrals counts her in good standing without hearing anything new.
    r.clock.set("2027-06-20T10:00:01Z".parse().unwrap());
    request_vouch(&r, &voucher, &first).await.unwrap();
    // Plans publishes the return, dated when the plan stopped counting, when it next looks.
    plan_service
        .list_plans(plans::ListPlansRequest {
            customer_id: voucher.clone(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(r.deliver_standing().await, 1);
    request_vouch(&r, &voucher, &second).await.unwrap();
}

/// Qualification needs 90 days *in good standing*: a referee who fell behind counts from the day
/// a kept plan brought them back.
async fn a_referral_qualifies_after_ninety_days_in_good_standing_counted_from_the_return(
    database: TestDatabase,
) {
    let mut r = start(database).await;
    let ana = r.customer("Ana Pop", (2019, 1, 10), "ana@example.ro").await;
    let code = code_for(&mut r, &ana).await;
    let ioana = r
        .customer("Ioana Vlad", (2026, 3, 1), "ioana@example.com")
        .await;
    sign_up(&mut r, &code, &ioana, "").await;
    let account = card(&r, &ioana, "card-ioana").await;

    r.clock.set("2026-04-01T09:00:00Z".parse().unwrap());
    behind(&r, &account, 45).await;
    r.clock.set("2026-04-15T09:00:00Z".parse().unwrap());
    keep_a_plan(&r, &ioana, &account).await;
    assert_eq!(r.deliver_standing().await, 2, "lost, then back");

    let evaluate = |when: &'static str| {
        let mut client = r.referrals.clone();
        async move {
            client
                .evaluate_qualifications(pb::EvaluateQualificationsRequest {
                    as_of: Some(at(when)),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
        }
    };
    // 90 days after sign-up, but only 56 in good standing.
    r.clock.set("2026-06-10T09:00:00Z".parse().unwrap());
    let early = evaluate("2026-06-10T09:00:00Z").await;
    assert_eq!(early.qualified, 0);
    let reason = &early.results[0].reasons[0];
    assert_eq!(reason.code, "REFEREE_NOT_LONG_ENOUGH_IN_GOOD_STANDING");
    assert!(reason.message.contains("2026-04-15"), "{}", reason.message);

    r.clock.set("2026-07-14T09:00:00Z".parse().unwrap());
    let on_time = evaluate("2026-07-14T09:00:00Z").await;
    assert_eq!(on_time.qualified, 1, "{on_time:?}");
}

fn standing_event(
    id: &str,
    customer: &str,
    occurred_at: &str,
    good: bool,
    message: &str,
) -> common::DomainEvent {
    use prost_types::value::Kind;
    let text = |s: &str| prost_types::Value {
        kind: Some(Kind::StringValue(s.into())),
    };
    let reason = prost_types::Struct {
        fields: [
            ("code".to_owned(), text("PAST_DUE")),
            ("effect".to_owned(), text("OPPOSES")),
            ("message".to_owned(), text(message)),
        ]
        .into(),
    };
    common::DomainEvent {
        event_id: id.into(),
        event_type: "plans.standing_changed.v1".into(),
        customer_id: customer.into(),
        occurred_at: Some(at(occurred_at)),
        source_service: "plans".into(),
        payload: Some(prost_types::Struct {
            fields: [
                (
                    "in_good_standing".to_owned(),
                    prost_types::Value {
                        kind: Some(Kind::BoolValue(good)),
                    },
                ),
                ("since".to_owned(), text(occurred_at)),
                (
                    "reasons".to_owned(),
                    prost_types::Value {
                        kind: Some(Kind::ListValue(prost_types::ListValue {
                            values: if good {
                                vec![]
                            } else {
                                vec![prost_types::Value {
                                    kind: Some(Kind::StructValue(reason)),
                                }]
                            },
                        })),
                    },
                ),
            ]
            .into(),
        }),
        ..Default::default()
    }
}

/// IngestEvents is idempotent by event id and tolerates out-of-order arrival: the latest verdict
/// by its time is kept; a malformed or unknown event is rejected, naming why, and the rest apply.
async fn standing_events_are_applied_once_and_the_latest_wins(database: TestDatabase) {
    let mut r = start(database).await;
    let voucher = r.customer("Vera Voucher", (2015, 5, 1), "").await;
    let prospect = r.customer("Paul Prospect", (2026, 2, 1), "").await;
    let lost = rapport_ids::Id::new().to_string();
    let back = rapport_ids::Id::new().to_string();
    let newer = standing_event(&back, &voucher, "2026-03-01T12:00:00Z", true, "");
    let older = standing_event(&lost, &voucher, "2026-03-01T09:00:00Z", false, "behind");
    let mut unknown = standing_event(
        &rapport_ids::Id::new().to_string(),
        &voucher,
        "2026-03-01T09:00:00Z",
        true,
        "",
    );
    unknown.event_type = "plans.teleported.v1".into();
    let answer = r
        .referrals
        .ingest_events(pb::IngestEventsRequest {
            events: vec![newer.clone(), older.clone(), unknown],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((answer.accepted, answer.duplicates), (2, 0));
    assert_eq!(answer.rejected.len(), 1);
    assert_eq!(
        answer.rejected[0].reason.as_ref().unwrap().code,
        "UNKNOWN_EVENT_TYPE"
    );
    // The older "out of good standing" arrived last and changed nothing.
    request_vouch(&r, &voucher, &prospect).await.unwrap();

    let again = r
        .referrals
        .ingest_events(pb::IngestEventsRequest {
            events: vec![newer, older],
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.accepted, again.duplicates), (0, 2));

    let later = standing_event(
        &rapport_ids::Id::new().to_string(),
        &voucher,
        "2026-03-02T08:00:00Z",
        false,
        "Account a is 45 days past due.",
    );
    r.referrals
        .ingest_events(pb::IngestEventsRequest {
            events: vec![later],
        })
        .await
        .unwrap();
    let refused = request_vouch(&r, &voucher, &prospect).await.unwrap_err();
    assert!(refused.message().contains("45 days past due"));

    let too_many = r
        .referrals
        .ingest_events(pb::IngestEventsRequest {
            events: vec![common::DomainEvent::default(); 501],
        })
        .await
        .unwrap_err();
    assert_eq!(too_many.code(), tonic::Code::InvalidArgument);
}
