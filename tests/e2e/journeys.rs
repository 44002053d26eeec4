//! Journeys through the whole suite (issue 8), with one clock the test moves: profiles, plans,
//! referrals and loyalty on one server, the outbox workers delivering between them, on SQLite and
//! PostgreSQL. The issue's numbering: 1 hardship, 2 referral, 3 tenure, 4 closed loop, 6 one trace
//! (5, a consumer down, is `delivery.rs`).

use std::collections::{BTreeSet, HashSet};
use std::sync::Arc;
use std::time::Duration;

use jiff::SignedDuration;
use opentelemetry::trace::TraceContextExt;
use rapport::agent;
use rapport_clock::{ManualClock, Timestamp};

use rapport_e2e::hardship;
use rapport_outbox::delivery::Policy;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::referrals::v1 as referrals;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use rapport_storage::{Storage, backend_tests, sqlx};
use tonic::transport::Channel;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::support::{profiles_events, telemetry};

backend_tests!(
    hardship_journey_ends_with_a_higher_score,
    tenure_journey_rewards_exactly_the_anniversaries_once,
    closed_loop_journey_answers_a_detractor_in_time,
    referral_journey_rewards_both_once_and_raises_the_referrer,
    one_journey_is_one_trace_across_the_services,
    good_standing_journey_reaches_referrals_through_plans_outbox,
    merge_journey_every_service_answers_as_one_customer,
);

/// 2 March 2026, 09:00 UTC.
fn start_instant() -> Timestamp {
    "2026-03-02T09:00:00Z".parse().unwrap()
}

struct Journey {
    channel: Channel,
    /// `http://…`, for clients that carry the trace context.
    url: String,
    profiles: ProfileServiceClient<Channel>,
    referrals: ReferralServiceClient<Channel>,
    loyalty: LoyaltyServiceClient<Channel>,
    clock: Arc<ManualClock>,
    /// profiles, plans, referrals (the producers), then loyalty.
    databases: Vec<TestDatabase>,
    _server: TestServer,
}

async fn another(like: &TestDatabase) -> TestDatabase {
    if like.settings.url.starts_with("postgres") {
        TestDatabase::postgres().await.unwrap()
    } else {
        TestDatabase::sqlite()
    }
}

async fn start(loyalty_database: TestDatabase) -> Journey {
    let clock = Arc::new(ManualClock::new(start_instant()));
    let databases = vec![
        another(&loyalty_database).await,
        another(&loyalty_database).await,
        another(&loyalty_database).await,
        loyalty_database,
    ];
    let settings = ServerSettings::default();
    let policy = Policy {
        batch: 100,
        base_delay: Duration::from_millis(50),
        max_delay: Duration::from_millis(400),
        poll: Duration::from_millis(20),
        lease: Duration::from_secs(60),
    };
    let server = TestServer::start_with(settings.clone(), |address| {
        let url = format!("http://{address}");
        let deliver = |unit| {
            rapport_clients::deliver_outbox_to_loyalty(unit, &url, clock.clone(), policy)
                .map_err(|e| e.to_string())
        };
        let profiles =
            rapport_profiles::unit_with_clock(&settings, &databases[0].settings, clock.clone())
                .map_err(|e| e.to_string())?;
        let plans = rapport_plans::unit_with(
            &settings,
            &databases[1].settings,
            rapport_plans::Rules::default(),
            clock.clone(),
            &url,
        )
        .map_err(|e| e.to_string())?;
        let referrals = rapport_referrals::unit_with(
            &settings,
            &databases[2].settings,
            rapport_referrals::Rules::default(),
            clock.clone(),
            &url,
        )
        .map_err(|e| e.to_string())?;
        let loyalty = rapport_loyalty::unit_with(
            &settings,
            &databases[3].settings,
            rapport_loyalty::Rules::default(),
            clock.clone(),
            &url,
        )
        .map_err(|e| e.to_string())?;
        // Loyalty records its follow-ups as commitments on the profiles timeline.
        let loyalty =
            rapport_clients::deliver_outbox_to_profiles(loyalty, &url, clock.clone(), policy)
                .map_err(|e| e.to_string())?;
        // Plans' good standing reaches referrals through the same worker.
        let plans = rapport_clients::deliver_outbox_to_loyalty_and_referrals(
            plans,
            &url,
            &url,
            clock.clone(),
            policy,
        )
        .map_err(|e| e.to_string())?;
        // Profiles' merges and erasures reach plans and referrals too (one customer everywhere).
        let profiles = rapport_clients::deliver_outbox_to_loyalty_plans_and_referrals(
            profiles,
            &url,
            &url,
            &url,
            clock.clone(),
            policy,
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![profiles, plans, deliver(referrals)?, loyalty])
    })
    .await;
    Journey {
        channel: server.channel.clone(),
        url: format!("http://{}", server.address),
        profiles: ProfileServiceClient::new(server.channel.clone()),
        referrals: ReferralServiceClient::new(server.channel.clone()),
        loyalty: LoyaltyServiceClient::new(server.channel.clone()),
        clock,
        databases,
        _server: server,
    }
}

async fn count(database: &TestDatabase, sql: &'static str) -> i64 {
    let storage = Storage::open(&database.settings).unwrap();
    let (n,): (i64,) = sqlx::query_as(sql)
        .fetch_one(storage.reader())
        .await
        .unwrap();
    storage.close().await;
    n
}

impl Journey {
    fn clock_now(&self) -> Timestamp {
        rapport_clock::Clock::now(self.clock.as_ref())
    }

    /// Waits until every service's outbox is delivered.
    async fn settle(&self) {
        for _ in 0..400 {
            let mut waiting = 0;
            for database in &self.databases {
                waiting += count(
                    database,
                    "SELECT COUNT(*) FROM outbox WHERE delivered_at_micros IS NULL",
                )
                .await;
            }
            if waiting == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the outboxes did not drain");
    }

    async fn customer(&mut self, name: &str, since: (i32, i32, i32)) -> String {
        self.profiles
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: name.into(),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    customer_since: Some(common::Date {
                        year: since.0,
                        month: since.1,
                        day: since.2,
                    }),
                    emails: vec![profiles::EmailAddress {
                        address: format!("{}@example.com", name.to_lowercase().replace(' ', ".")),
                        verified: true,
                        primary: true,
                    }],
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
            .customer_id
    }

    async fn answer(&mut self, customer: &str, nps: i32) -> loyalty::RecordSurveyResponseResponse {
        self.loyalty
            .record_survey_response(loyalty::RecordSurveyResponseRequest {
                response: Some(loyalty::SurveyResponse {
                    customer_id: customer.into(),
                    kind: loyalty::SurveyKind::Relationship as i32,
                    nps: Some(nps),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
    }

    async fn touch(&mut self, customer: &str) {
        self.profiles
            .record_interaction(profiles::RecordInteractionRequest {
                interaction: Some(profiles::Interaction {
                    customer_id: customer.into(),
                    channel: common::Channel::Phone as i32,
                    sentiment: common::Sentiment::Positive as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
    }

    async fn score(&mut self, customer: &str) -> loyalty::LoyaltyScore {
        self.loyalty
            .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
                customer_id: customer.into(),
                as_of: None,
            })
            .await
            .unwrap()
            .into_inner()
            .score
            .unwrap()
    }
}

fn points(score: &loyalty::LoyaltyScore, signal: &str) -> f64 {
    score
        .explanation
        .iter()
        .filter(|c| c.signal == signal)
        .map(|c| c.points)
        .sum()
}

/// Journey 3: the anniversary run rewards exactly the customers whose anniversary it is, once.
async fn tenure_journey_rewards_exactly_the_anniversaries_once(database: TestDatabase) {
    let mut j = start(database).await;
    let six = j.customer("Ana Popescu", (2020, 3, 2)).await;
    let one = j.customer("Bob Hughes", (2025, 3, 2)).await;
    let leap = j.customer("Dara Leap", (2024, 2, 29)).await;
    j.customer("Eve Other", (2019, 3, 3)).await;
    j.customer("Chen Wei", (2026, 3, 2)).await;
    let run = |day| loyalty::IssueAnniversaryRewardsRequest {
        date: Some(common::Date {
            year: 2026,
            month: 3,
            day,
        }),
    };
    let first = j
        .loyalty
        .issue_anniversary_rewards(run(2))
        .await
        .unwrap()
        .into_inner();
    let mut rewarded: Vec<(String, i32)> = first
        .rewards
        .iter()
        .map(|r| (r.customer_id.clone(), r.tenure_year))
        .collect();
    rewarded.sort();
    let mut expected = vec![(six, 6), (one, 1)];
    expected.sort();
    assert_eq!(
        rewarded, expected,
        "joined today is not an anniversary; 3 March is not 2 March"
    );
    let again = j
        .loyalty
        .issue_anniversary_rewards(run(2))
        .await
        .unwrap()
        .into_inner();
    assert_eq!((again.issued, again.already_issued), (0, 2));
    let leap_run = j
        .loyalty
        .issue_anniversary_rewards(loyalty::IssueAnniversaryRewardsRequest {
            date: Some(common::Date {
                year: 2026,
                month: 2,
                day: 28,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(leap_run.rewards.len(), 1);
    assert_eq!(leap_run.rewards[0].customer_id, leap);
    assert_eq!(
        count(&j.databases[3], "SELECT COUNT(*) FROM rewards").await,
        3
    );
}

/// Journey 4: a detractor answer opens a follow-up; closing it in time shows in their satisfaction
/// and, as a kept promise, on their timeline in profiles.
async fn closed_loop_journey_answers_a_detractor_in_time(database: TestDatabase) {
    let mut j = start(database).await;
    let ana = j.customer("Ana Popescu", (2018, 6, 1)).await;
    let follow_up = j
        .answer(&ana, 3)
        .await
        .follow_up
        .expect("a 3 opens a follow-up");
    let before = j.score(&ana).await;
    j.clock.advance(SignedDuration::from_hours(20));
    let closed = j
        .loyalty
        .close_follow_up(loyalty::CloseFollowUpRequest {
            follow_up_id: follow_up.follow_up_id.clone(),
            customer_told: "We waived the late fee and moved the payment date to payday.".into(),
            outcome: loyalty::FollowUpOutcome::Resolved as i32,
            closed_by: Some(common::Actor {
                kind: common::ActorKind::Agent as i32,
                id: "agent-7".into(),
            }),
            closed_at: None,
        })
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .unwrap();
    assert_eq!(closed.time_to_close.unwrap().seconds, 20 * 3600);
    let after = j.score(&ana).await;
    assert!(points(&after, "follow_ups_closed_in_time") > 0.0);
    assert!(
        after.satisfaction > before.satisfaction,
        "{} → {}",
        before.satisfaction,
        after.satisfaction
    );
    assert!(
        !after
            .reasons
            .iter()
            .any(|r| r.code == "OPEN_DETRACTOR_FOLLOW_UP")
    );
    // On the customer's timeline: the promise to answer, kept.
    j.settle().await;
    let commitments = j
        .profiles
        .list_commitments(profiles::ListCommitmentsRequest {
            customer_id: ana.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .commitments;
    assert_eq!(commitments.len(), 1, "{commitments:?}");
    assert_eq!(
        commitments[0].status,
        profiles::CommitmentStatus::Kept as i32
    );
    assert!(commitments[0].description.contains("NPS 3"));
    assert_eq!(commitments[0].promised_by.as_ref().unwrap().id, "loyalty");
    // Its resolution is not counted twice: the follow-up already is.
    let settled = j.score(&ana).await;
    assert_eq!(points(&settled, "commitments_kept"), 0.0);
}

/// Journey 2: a long-tenure customer refers a friend and vouches for them; after 90 days in good standing
/// both get their reward once, and the referrer's involvement and affinity rise.
async fn referral_journey_rewards_both_once_and_raises_the_referrer(database: TestDatabase) {
    let mut j = start(database).await;
    let ana = j.customer("Ana Popescu", (2015, 4, 1)).await;
    // A happy, involved customer: affinity is open to her.
    for nps in [10, 9, 10] {
        j.answer(&ana, nps).await;
    }
    for _ in 0..4 {
        j.touch(&ana).await;
    }
    j.settle().await;
    let before = j.score(&ana).await;
    assert!(before.affinity > 0.0, "{before:?}");

    let referral = j
        .referrals
        .create_referral(referrals::CreateReferralRequest {
            referrer_customer_id: ana.clone(),
            code: String::new(),
            prospect: Some(referrals::ProspectContact {
                name: "Ioana Vlad".into(),
                email: "ioana.vlad@example.com".into(),
                ..Default::default()
            }),
            device: None,
            request_id: String::new(),
        })
        .await;
    // The referrer needs a code first.
    let referral = match referral {
        Ok(r) => r.into_inner().referral.unwrap(),
        Err(_) => {
            j.referrals
                .issue_referral_code(referrals::IssueReferralCodeRequest {
                    customer_id: ana.clone(),
                })
                .await
                .unwrap();
            j.referrals
                .create_referral(referrals::CreateReferralRequest {
                    referrer_customer_id: ana.clone(),
                    code: String::new(),
                    prospect: Some(referrals::ProspectContact {
                        name: "Ioana Vlad".into(),
                        email: "ioana.vlad@example.com".into(),
                        ..Default::default()
                    }),
                    device: None,
                    request_id: String::new(),
                })
                .await
                .unwrap()
                .into_inner()
                .referral
                .unwrap()
        }
    };
    let vouch = j
        .referrals
        .request_vouch(referrals::RequestVouchRequest {
            voucher_customer_id: ana.clone(),
            prospect: Some(referrals::request_vouch_request::Prospect::ProspectId(
                referral.prospect_id.clone(),
            )),
            requested_by: Some(common::Actor {
                kind: common::ActorKind::Agent as i32,
                id: "branch-3".into(),
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .vouch
        .unwrap();
    j.referrals
        .respond_to_vouch(referrals::RespondToVouchRequest {
            vouch_id: vouch.vouch_id,
            answer: referrals::VouchAnswer::Vouch as i32,
            relationship: referrals::Relationship::Friend as i32,
            years_known: 12,
            comment: String::new(),
        })
        .await
        .unwrap();

    // Referring and vouching is taking part: involvement rises at once.
    j.settle().await;
    let referred = j.score(&ana).await;
    assert!(
        referred.involvement > before.involvement,
        "{} → {}",
        before.involvement,
        referred.involvement
    );
    assert!(points(&referred, "referrals_made") > 0.0);
    assert!(points(&referred, "vouches_answered") > 0.0);

    // The friend signs up and is attributed.
    let ioana = j.customer("Ioana Vlad", (2026, 3, 2)).await;
    let attributed = j
        .referrals
        .attribute_signup(referrals::AttributeSignupRequest {
            code: referral.code.clone(),
            referee_customer_id: ioana.clone(),
            referral_id: referral.referral_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    assert_eq!(attributed.referee_customer_id, ioana);

    // 91 days later, in good standing (and Ana still in touch with us): both rewarded, once
    // however often it is evaluated.
    j.clock.advance(SignedDuration::from_hours(24 * 91));
    for _ in 0..3 {
        j.touch(&ana).await;
    }
    j.answer(&ana, 9).await;
    j.settle().await;
    let before_qualifying = j.score(&ana).await;
    for _ in 0..3 {
        j.referrals
            .evaluate_qualifications(referrals::EvaluateQualificationsRequest::default())
            .await
            .unwrap();
    }
    let rewarded = |customer: String| referrals::ListRewardsRequest {
        customer_id: customer,
        ..Default::default()
    };
    for customer in [ana.clone(), ioana.clone()] {
        let rewards = j
            .referrals
            .list_rewards(rewarded(customer))
            .await
            .unwrap()
            .into_inner()
            .rewards;
        assert_eq!(rewards.len(), 1, "{rewards:?}");
    }

    // A referral that became a customer is advocacy: affinity rises.
    j.settle().await;
    let after = j.score(&ana).await;
    assert!(
        after.affinity > before_qualifying.affinity,
        "{} → {}",
        before_qualifying.affinity,
        after.affinity
    );
    assert!(points(&after, "qualified_referrals") > 0.0);
    assert!(points(&after, "vouches_given") > 0.0);
    assert!(after.involvement >= before_qualifying.involvement);
}

/// Which service a span belongs to: its `rpc.service` (server spans), or loyalty for the events
/// it applies.
fn service_of(span: &opentelemetry_sdk::trace::SpanData) -> Option<String> {
    if span.name == "loyalty.apply_event" {
        return Some("loyalty".into());
    }
    span.attributes
        .iter()
        .find(|kv| kv.key.as_str() == "rpc.service")
        .map(|kv| kv.value.to_string())
        .and_then(|s| s.split('.').nth(1).map(str::to_owned))
}

/// Test 6: journey 1's first half, made inside one span with the trace layer on the client, is one
/// trace whose spans come from profiles, plans and loyalty (loyalty's through the outbox), every
/// span's parent present.
async fn one_journey_is_one_trace_across_the_services(database: TestDatabase) {
    let (_recording, exporter, provider) = telemetry::recorded();
    let j = start(database).await;
    let connection = agent::connect(&j.url).await.unwrap();
    let journey = tracing::info_span!("journey");
    let trace_id = journey.context().span().span_context().trace_id();

    let customer = async {
        let customer = ProfileServiceClient::new(connection.clone())
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: "Ana Popescu".into(),
                    locale: "en-GB".into(),
                    time_zone: "Europe/London".into(),
                    customer_since: Some(common::Date {
                        year: 2020,
                        month: 3,
                        day: 2,
                    }),
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .customer
            .unwrap()
            .customer_id;
        let account = hardship::account_behind(&connection, &customer, "GB-TRACE", 35).await;
        // Plans asks profiles (time zone, preferences) before deciding.
        OutreachServiceClient::new(connection.clone())
            .check_contact(plans::CheckContactRequest {
                customer_id: customer.clone(),
                account_id: account.clone(),
                channel: common::Channel::Phone as i32,
                purpose: plans::ContactPurpose::Support as i32,
                requested_by: hardship::agent("agent-5"),
                ..Default::default()
            })
            .await
            .unwrap();
        let case = hardship::case_with_statement(&connection, &customer, &account).await;
        let mut plan_service = PlanServiceClient::new(connection.clone());
        let option = plan_service
            .get_plan_options(plans::GetPlanOptionsRequest {
                account_id: account.clone(),
                case_id: case.clone(),
                payday: 0,
                locale: String::new(),
            })
            .await
            .unwrap()
            .into_inner()
            .options
            .remove(0);
        plan_service
            .accept_plan(plans::AcceptPlanRequest {
                account_id: account,
                case_id: case,
                option_id: option.option_id,
                accepted_by: hardship::agent("agent-5"),
                agreement: Some(plans::CustomerAgreement {
                    method: plans::AgreementMethod::RecordedCall as i32,
                    evidence_ref: "call-1".into(),
                    agreed_at: None,
                }),
                request_id: String::new(),
            })
            .await
            .unwrap();
        customer
    }
    .instrument(journey.clone())
    .await;

    // The plan's events reach loyalty through the outbox; the agent reads the score.
    j.settle().await;
    let score = LoyaltyServiceClient::new(connection.clone())
        .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
            customer_id: customer.clone(),
            as_of: None,
        })
        .instrument(journey.clone())
        .await
        .unwrap()
        .into_inner()
        .score
        .unwrap();
    assert!(score.explanation.iter().any(|c| c.signal == "plan_kept"));
    drop(journey);
    // Background work in the journey's trace (an outbox worker's delivery span, which closes
    // just after the batch is marked delivered) may still be ending: read the exported spans
    // until every span's parent is among them, for at most 5 s, then judge.
    let mut spans: Vec<_> = Vec::new();
    for _ in 0..250 {
        provider.force_flush().unwrap();
        spans = exporter
            .get_finished_spans()
            .unwrap()
            .into_iter()
            .filter(|s| s.span_context.trace_id() == trace_id)
            .collect();
        let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
        if spans
            .iter()
            .filter(|s| !ids.contains(&s.parent_span_id))
            .count()
            <= 1
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let services: BTreeSet<String> = spans.iter().filter_map(service_of).collect();
    assert!(
        ["profiles", "plans", "loyalty"]
            .iter()
            .all(|s| services.contains(*s)),
        "services in the trace: {services:?}"
    );
    assert!(
        spans.iter().any(|s| s.name == "loyalty.apply_event"),
        "an event delivered through the outbox is applied in the journey's trace"
    );
    let ids: HashSet<_> = spans.iter().map(|s| s.span_context.span_id()).collect();
    let roots: Vec<_> = spans
        .iter()
        .filter(|s| !ids.contains(&s.parent_span_id))
        .map(|s| s.name.to_string())
        .collect();
    assert_eq!(
        roots,
        ["journey"],
        "every span's parent is in the trace but the journey's"
    );
}

/// Journey 1: a customer of 6 years who always paid falls 35 days behind; a supportive first
/// message at a lawful hour; a case, income and expenditure, options, a plan she chooses;
/// payments (one retried with the same key), one missed installment with a check-in, the plan
/// completed; her loyalty score ends higher than before the hardship, and no lower than her
/// twin's who never had it.
async fn hardship_journey_ends_with_a_higher_score(database: TestDatabase) {
    let mut j = start(database).await;
    let ana = j.customer("Ana Popescu", (2020, 3, 2)).await;
    let twin = j.customer("Ana Twin", (2020, 3, 2)).await;
    for customer in [ana.clone(), twin.clone()] {
        j.answer(&customer, 8).await;
        j.touch(&customer).await;
        j.touch(&customer).await;
    }
    j.settle().await;
    let before = j.score(&ana).await;

    // 35 days behind.
    let connection = agent::connect(&j.url).await.unwrap();
    let account = hardship::account_behind(&connection, &ana, "GB-ANA-1", 35).await;
    // 09:00 in London: a supportive first message is lawful.
    let check = OutreachServiceClient::new(j.channel.clone())
        .check_contact(plans::CheckContactRequest {
            customer_id: ana.clone(),
            account_id: account.clone(),
            channel: common::Channel::Phone as i32,
            at: None,
            purpose: plans::ContactPurpose::Support as i32,
            automated: false,
            reserve: false,
            requested_by: hardship::agent("agent-5"),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(check.allowed, "{:?}", check.reasons);

    // The agent opens a case and records income and expenditure.
    let case = hardship::case_with_statement(&connection, &ana, &account).await;

    // Options; she chooses the shortest schedule that fits.
    let mut plan_service = PlanServiceClient::new(j.channel.clone());
    let options = plan_service
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account.clone(),
            case_id: case.clone(),
            payday: 0,
            locale: String::new(),
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
    let plan = plan_service
        .accept_plan(plans::AcceptPlanRequest {
            account_id: account.clone(),
            case_id: case.clone(),
            option_id: chosen.option_id.clone(),
            accepted_by: hardship::agent("agent-5"),
            agreement: Some(plans::CustomerAgreement {
                method: plans::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-1".into(),
                agreed_at: None,
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    let schedule = plan.schedule.clone();
    let due = |i: usize| {
        let d = schedule[i].due_date.unwrap();
        format!("{:04}-{:02}-{:02}T12:00:00Z", d.year, d.month, d.day)
            .parse::<Timestamp>()
            .unwrap()
    };
    let pay = |key: String, amount: Option<common::Money>| plans::RecordPlanPaymentRequest {
        plan_id: plan.plan_id.clone(),
        idempotency_key: key,
        amount,
        received_at: None,
        source_reference: String::new(),
    };

    // The first installment, the payment retried with the same key: posted once.
    j.clock.set(due(0));
    let first = plan_service
        .record_plan_payment(pay("pay-1".into(), schedule[0].amount.clone()))
        .await
        .unwrap()
        .into_inner();
    let retried = plan_service
        .record_plan_payment(pay("pay-1".into(), schedule[0].amount.clone()))
        .await
        .unwrap()
        .into_inner();
    assert!(!first.replayed && retried.replayed);
    assert_eq!(retried.plan.unwrap().paid_to_date, schedule[0].amount);

    // The second is missed: a gentle check-in, the plan goes on.
    j.clock.set(due(1) + SignedDuration::from_hours(24 * 5));
    let after_miss = plan_service
        .get_plan(plans::GetPlanRequest {
            plan_id: plan.plan_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    assert_eq!(after_miss.status, plans::PlanStatus::Active as i32);
    assert_eq!(after_miss.consecutive_missed, 1);
    // The miss is published (a gentle check-in), and the next contact still offers help.
    assert_eq!(
        count(
            &j.databases[1],
            "SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.installment_missed.v1'"
        )
        .await,
        1
    );
    let next = OutreachServiceClient::new(j.channel.clone())
        .next_best_action(plans::NextBestActionRequest {
            account_id: account.clone(),
            at: None,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        next.purpose,
        plans::ContactPurpose::Support as i32,
        "{next:?}"
    );

    // She catches up, then pays each installment on its day until the plan completes.
    let mut last = after_miss;
    for (i, installment) in schedule.iter().enumerate().skip(1) {
        j.clock.set(due(i).max(j.clock_now()));
        last = plan_service
            .record_plan_payment(pay(format!("pay-{}", i + 1), installment.amount.clone()))
            .await
            .unwrap()
            .into_inner()
            .plan
            .unwrap();
    }
    assert_eq!(last.status, plans::PlanStatus::Completed as i32, "{last:?}");

    j.settle().await;
    let after = j.score(&ana).await;
    let twin_after = j.score(&twin).await;
    assert!(
        after.loyalty > before.loyalty,
        "{} → {}",
        before.loyalty,
        after.loyalty
    );
    assert!(
        after.loyalty >= twin_after.loyalty,
        "{} < twin {}",
        after.loyalty,
        twin_after.loyalty
    );
    assert!(points(&after, "plan_kept") > 0.0);
    assert!(after.reasons.iter().any(|r| r.code == "HARDSHIP_NEUTRAL"));
}

/// Issue 17: good standing is defined in plans and reaches referrals as events, through plans'
/// outbox worker (the same one that feeds loyalty). 95 days behind, a customer cannot vouch;
/// keeping an agreed plan, they can.
async fn good_standing_journey_reaches_referrals_through_plans_outbox(database: TestDatabase) {
    let mut j = start(database).await;
    let elder = j.customer("Elder Voucher", (2014, 5, 1)).await;
    let prospect = j.customer("Pat Prospect", (2026, 2, 1)).await;
    let ask = |referrals: &mut ReferralServiceClient<Channel>| {
        let mut referrals = referrals.clone();
        let (elder, prospect) = (elder.clone(), prospect.clone());
        async move {
            referrals
                .request_vouch(referrals::RequestVouchRequest {
                    voucher_customer_id: elder,
                    prospect: Some(
                        referrals::request_vouch_request::Prospect::ProspectCustomerId(prospect),
                    ),
                    requested_by: hardship::agent("branch-3"),
                    request_id: String::new(),
                })
                .await
        }
    };

    let connection = agent::connect(&j.url).await.unwrap();
    let account = hardship::account_behind(&connection, &elder, "GB-ELDER-1", 95).await;
    j.settle().await;
    let refused = ask(&mut j.referrals).await.unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert!(
        refused.message().contains("95 days past due"),
        "{}",
        refused.message()
    );

    let case = hardship::case_with_statement(&connection, &elder, &account).await;
    let mut plan_service = PlanServiceClient::new(j.channel.clone());
    let options = plan_service
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account.clone(),
            case_id: case,
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
            account_id: account,
            option_id: chosen.option_id.clone(),
            accepted_by: hardship::agent("agent-5"),
            agreement: Some(plans::CustomerAgreement {
                method: plans::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-1".into(),
                agreed_at: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap();
    j.settle().await;
    ask(&mut j.referrals).await.unwrap();
    assert_eq!(
        count(
            &j.databases[1],
            "SELECT COUNT(*) FROM outbox WHERE event_type = 'plans.standing_changed.v1'"
        )
        .await,
        2,
        "lost, then back"
    );
}

/// Profiles' merge and erasure events, read from profiles' outbox and offered again to referrals'
/// IngestEvents under their own ids: every one must be a duplicate, which shows profiles' outbox
/// worker delivered them to referrals (one customer everywhere).
async fn referrals_had_every_profiles_merge_and_erasure(j: &mut Journey) {
    let storage = Storage::open(&j.databases[0].settings).unwrap();
    let events = profiles_events::merges_and_erasures(&storage).await;
    storage.close().await;
    let answer = j
        .referrals
        .ingest_events(referrals::IngestEventsRequest { events })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    assert_eq!(
        answer.accepted, 0,
        "profiles' outbox worker delivers merges and erasures to referrals"
    );
}

/// Issue 18: a duplicate with an SMS opt-out, an account in arrears under a protection, a
/// referral and a detractor's survey is merged into the survivor; then every service answers as
/// for one customer.
async fn merge_journey_every_service_answers_as_one_customer(database: TestDatabase) {
    let mut j = start(database).await;
    let connection = agent::connect(&j.url).await.unwrap();
    let survivor = j.customer("Maeve Doyle", (2012, 6, 1)).await;
    let duplicate = j.customer("Maeve Doyle", (2018, 9, 1)).await;

    // The duplicate's life: a referral and a survey first (while in good standing), then SMS
    // refused, arrears, a breathing space.
    let mut referrals_client = j.referrals.clone();
    let code = referrals_client
        .issue_referral_code(referrals::IssueReferralCodeRequest {
            customer_id: duplicate.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .referral_code
        .unwrap()
        .code;
    let referral = referrals_client
        .create_referral(referrals::CreateReferralRequest {
            referrer_customer_id: duplicate.clone(),
            code,
            prospect: Some(referrals::ProspectContact {
                name: "Niamh Prospect".into(),
                email: "niamh.prospect@example.ie".into(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    let survey = j
        .loyalty
        .record_survey_response(loyalty::RecordSurveyResponseRequest {
            response: Some(loyalty::SurveyResponse {
                customer_id: duplicate.clone(),
                kind: loyalty::SurveyKind::Transactional as i32,
                nps: Some(3),
                text: "Nobody called me back".into(),
                touchpoint: "call_center".into(),
                channel: common::Channel::Phone as i32,
                locale: "en-GB".into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let follow_up = survey.follow_up.unwrap().follow_up_id;
    j.profiles
        .set_contact_preferences(profiles::SetContactPreferencesRequest {
            customer_id: duplicate.clone(),
            preferences: Some(profiles::ContactPreferences {
                do_not_contact_channels: vec![common::Channel::Sms as i32],
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let account = hardship::account_behind(&connection, &duplicate, "IE-MERGE-1", 40).await;
    rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient::new(
        j.channel.clone(),
    )
    .set_protection(plans::SetProtectionRequest {
        customer_id: duplicate.clone(),
        kind: plans::ProtectionKind::BreathingSpace as i32,
        reference: "BS-2026-77".into(),
        set_by: hardship::agent("agent-4"),
        ..Default::default()
    })
    .await
    .unwrap();
    j.settle().await;

    j.profiles
        .merge_customers(profiles::MergeCustomersRequest {
            survivor_customer_id: survivor.clone(),
            duplicate_customer_id: duplicate.clone(),
            reason: "same person, two records".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    j.settle().await;
    referrals_had_every_profiles_merge_and_erasure(&mut j).await;

    // Referrals: the duplicate's referral is the survivor's, asked by either id.
    for asked in [&survivor, &duplicate] {
        let listed = referrals_client
            .list_referrals(referrals::ListReferralsRequest {
                referrer_customer_id: asked.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .referrals;
        assert!(
            listed.iter().any(
                |r| r.referral_id == referral.referral_id && r.referrer_customer_id == survivor
            ),
            "{listed:?}"
        );
    }
    // Loyalty: the duplicate's follow-up is on the survivor's list; the score is one.
    let follow_ups = j
        .loyalty
        .list_follow_ups(loyalty::ListFollowUpsRequest {
            customer_id: survivor.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .follow_ups;
    assert!(
        follow_ups.iter().any(|f| f.follow_up_id == follow_up),
        "{follow_ups:?}"
    );
    let score = j
        .loyalty
        .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
            customer_id: duplicate.clone(),
            as_of: None,
        })
        .await
        .unwrap()
        .into_inner()
        .score
        .unwrap();
    assert_eq!(score.customer_id, survivor);
    // Profiles: the duplicate resolves to the survivor.
    let merged = j
        .profiles
        .get_customer(profiles::GetCustomerRequest {
            customer_id: duplicate.clone(),
            view: profiles::CustomerView::Basic as i32,
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap();
    assert!(
        merged.customer_id == survivor || merged.merged_into_customer_id == survivor,
        "asking profiles for the duplicate names the survivor: {} / {}",
        merged.customer_id,
        merged.merged_into_customer_id
    );
    // Plans (another engineer's part of issue 18): the account is the survivor's, and the
    // duplicate's SMS opt-out holds for it — the most protective choice wins.
    let listed = rapport_proto::plans::v1::account_service_client::AccountServiceClient::new(
        j.channel.clone(),
    )
    .get_account(plans::GetAccountRequest {
        account_id: account.clone(),
    })
    .await
    .unwrap()
    .into_inner()
    .account
    .unwrap();
    assert_eq!(listed.customer_id, survivor, "B's account listed under A");
    let check = OutreachServiceClient::new(j.channel.clone())
        .check_contact(plans::CheckContactRequest {
            customer_id: survivor.clone(),
            account_id: account,
            channel: common::Channel::Sms as i32,
            purpose: plans::ContactPurpose::Support as i32,
            requested_by: hardship::agent("agent-4"),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(
        !check.allowed,
        "the duplicate's SMS opt-out holds for the survivor: {:?}",
        check.reasons
    );

    // Erasing the survivor reaches the duplicate's words in every table of every service, on
    // this backend (pii.rs scans the `rapport dev` suite with many more values).
    j.loyalty
        .close_follow_up(loyalty::CloseFollowUpRequest {
            follow_up_id: follow_up.clone(),
            customer_told: "We rang Maeve back about the Ballyvourney branch".into(),
            outcome: loyalty::FollowUpOutcome::Resolved as i32,
            closed_by: hardship::agent("agent-4"),
            closed_at: None,
        })
        .await
        .unwrap();
    j.profiles
        .erase_customer(profiles::EraseCustomerRequest {
            customer_id: survivor.clone(),
            reason: "DSR-2026-0419".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    j.settle().await;
    referrals_had_every_profiles_merge_and_erasure(&mut j).await;
    let seeded = [
        "Maeve Doyle",
        "Nobody called me back",
        "Ballyvourney",
        "Niamh Prospect",
        "niamh.prospect@example.ie",
    ];
    let mut remaining = Vec::new();
    for (service, database) in ["profiles", "plans", "referrals", "loyalty"]
        .into_iter()
        .zip(&j.databases)
    {
        for (column, value) in still_holding(database, &seeded).await {
            remaining.push(format!("{service}: {column} holds {value:?}"));
        }
    }
    assert!(
        remaining.is_empty(),
        "{} seeded values survive the erasure:\n{}",
        remaining.len(),
        remaining.join("\n")
    );
}

/// Every `table.column` of the database (SQLite or PostgreSQL) whose text holds one of
/// `values` (ignoring case), with the value.
async fn still_holding(database: &TestDatabase, values: &[&str]) -> Vec<(String, String)> {
    let storage = Storage::open(&database.settings).unwrap();
    let postgres = database.settings.url.starts_with("postgres");
    let columns: Vec<(String, String)> = if postgres {
        sqlx::query_as(
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) \
             FROM information_schema.columns WHERE table_schema = current_schema() \
             ORDER BY table_name, ordinal_position",
        )
        .fetch_all(storage.reader())
        .await
        .unwrap()
    } else {
        sqlx::query_as(
            "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid",
        )
        .fetch_all(storage.reader())
        .await
        .unwrap()
    };
    assert!(columns.len() > 20, "only {} columns found", columns.len());
    let mut found = Vec::new();
    for (table, column) in columns {
        // SQLite may hold bytes that are not UTF-8 (a hash): read every cell as bytes there.
        let cells: Vec<(Option<String>,)> = if postgres {
            sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(\"{column}\" AS TEXT) FROM \"{table}\""
            )))
            .fetch_all(storage.reader())
            .await
            .unwrap()
        } else {
            let bytes: Vec<(Option<Vec<u8>>,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\""
            )))
            .fetch_all(storage.reader())
            .await
            .unwrap();
            bytes
                .into_iter()
                .map(|(b,)| (b.map(|b| String::from_utf8_lossy(&b).into_owned()),))
                .collect()
        };
        for value in values {
            let needle = value.to_lowercase();
            if cells.iter().any(|(cell,)| {
                cell.as_deref()
                    .is_some_and(|c| c.to_lowercase().contains(&needle))
            }) {
                found.push((format!("{table}.{column}"), (*value).to_owned()));
            }
        }
    }
    storage.close().await;
    found
}
