//! `rapport dev` serves the whole contract: health and reflection for every service and method in
//! DESIGN.md, limits on message size, and the services reading and feeding one another.

use std::collections::BTreeSet;

use prost::Message;
use rapport_e2e::Suite;
use rapport_proto::loyalty::v1::GetNpsRequest;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::profiles::v1::{CreateCustomerRequest, GetCustomerRequest};
use tonic::Code;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::{ServerReflectionRequest, ServerReflectionResponse};

/// DESIGN.md's contract: service and RPC names, which never change.
const CONTRACT: &[(&str, &[&str])] = &[
    (
        "rapport.profiles.v1.ProfileService",
        &[
            "CreateCustomer",
            "UpsertCustomerByExternalRef",
            "GetCustomer",
            "UpdateCustomer",
            "SearchCustomers",
            "RecordInteraction",
            "ListInteractions",
            "RecordCommitment",
            "ResolveCommitment",
            "ListCommitments",
            "SetConsent",
            "ListConsents",
            "SetContactPreferences",
            "SetVulnerability",
            "ClearVulnerability",
            "ListAnniversaries",
            "MergeCustomers",
            "ExportCustomer",
            "EraseCustomer",
        ],
    ),
    (
        "rapport.plans.v1.AccountService",
        &[
            "UpsertAccount",
            "ReportPayment",
            "ReportArrears",
            "GetAccount",
            // An agent's discovery (issue 24).
            "ListAccounts",
            // Profiles' merges and erasures (issue 18).
            "IngestEvents",
        ],
    ),
    (
        "rapport.plans.v1.HardshipService",
        &[
            "OpenHardshipCase",
            "SubmitIncomeExpenditure",
            "GetAffordability",
            "ReferToDebtAdvice",
            "SetProtection",
            "ClearProtection",
            // An agent's discovery (issue 24).
            "ListHardshipCases",
            "GetHardshipCase",
            "ListProtections",
        ],
    ),
    (
        "rapport.plans.v1.PlanService",
        &[
            "GetPlanOptions",
            "AcceptPlan",
            "GetPlan",
            "ListPlans",
            "RecordPlanPayment",
            "CancelPlan",
            "RecordPromiseToPay",
            "ListPromisesToPay",
        ],
    ),
    (
        "rapport.plans.v1.OutreachService",
        &[
            "CheckContact",
            "RecordContactAttempt",
            "NextBestAction",
            "RenderMessage",
            "ListTemplates",
        ],
    ),
    ("rapport.plans.v1.ReportingService", &["GetRecoveryReport"]),
    (
        "rapport.referrals.v1.ReferralService",
        &[
            "IssueReferralCode",
            "CreateReferral",
            "AttributeSignup",
            "GetReferral",
            "ListReferrals",
            "RequestVouch",
            "RespondToVouch",
            "GetTrust",
            "EvaluateQualifications",
            "ListRewards",
            "ListFraudFlags",
            "ResolveFraudFlag",
            "IngestEvents",
        ],
    ),
    (
        "rapport.loyalty.v1.LoyaltyService",
        &[
            "RecordSurveyResponse",
            "ShouldSurvey",
            "ListFollowUps",
            "CloseFollowUp",
            "GetLoyaltyScore",
            "GetScoreHistory",
            "ListAtRisk",
            "GetNps",
            "IssueAnniversaryRewards",
            "ListRewards",
            "RecordRecognition",
            "IngestEvents",
        ],
    ),
    // The agent's desk (issue 24): stateless, beside the four.
    ("rapport.desk.v1.DeskService", &["GetCustomerOverview"]),
];

#[tokio::test]
async fn every_contract_service_reports_serving() {
    let suite = Suite::start().await;
    let mut health = HealthClient::new(suite.channel.clone());
    for (service, _) in CONTRACT {
        let status = health
            .check(HealthCheckRequest {
                service: (*service).to_owned(),
            })
            .await
            .unwrap_or_else(|status| panic!("health of {service}: {status}"))
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{service}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "rapport.nope.v1.NopeService".to_owned(),
        })
        .await
        .expect_err("unknown service");
    assert_eq!(unknown.code(), Code::NotFound);
    suite.stop().await.expect("clean stop");
}

#[tokio::test]
async fn reflection_lists_every_contract_service_with_every_method() {
    let suite = Suite::start().await;
    let mut reflection = ServerReflectionClient::new(suite.channel.clone());

    let listed: BTreeSet<String> =
        match reflect(&mut reflection, MessageRequest::ListServices(String::new())).await {
            MessageResponse::ListServicesResponse(list) => {
                list.service.into_iter().map(|s| s.name).collect()
            }
            other => panic!("unexpected reflection answer {other:?}"),
        };
    let mut expected: BTreeSet<String> = CONTRACT.iter().map(|(s, _)| (*s).to_owned()).collect();
    expected.insert("grpc.health.v1.Health".to_owned());
    expected.insert("grpc.reflection.v1.ServerReflection".to_owned());
    // v1alpha too: grpcio-reflection, older grpcurl, Postman and Evans ask for it.
    expected.insert("grpc.reflection.v1alpha.ServerReflection".to_owned());
    // Every process serves its services' audit trails.
    expected.insert("rapport.audit.v1.AuditService".to_owned());
    assert_eq!(listed, expected);

    for (service, methods) in CONTRACT {
        let files = match reflect(
            &mut reflection,
            MessageRequest::FileContainingSymbol((*service).to_owned()),
        )
        .await
        {
            MessageResponse::FileDescriptorResponse(files) => files.file_descriptor_proto,
            other => panic!("unexpected reflection answer for {service}: {other:?}"),
        };
        let (package, name) = service.rsplit_once('.').expect("qualified name");
        let described: BTreeSet<String> = files
            .iter()
            .map(|bytes| {
                prost_types::FileDescriptorProto::decode(bytes.as_slice()).expect("descriptor")
            })
            .filter(|file| file.package() == package)
            .flat_map(|file| file.service)
            .filter(|s| s.name() == name)
            .flat_map(|s| s.method)
            .map(|m| m.name().to_owned())
            .collect();
        let wanted: BTreeSet<String> = methods.iter().map(|m| (*m).to_owned()).collect();
        assert_eq!(described, wanted, "methods of {service}");
    }
    suite.stop().await.expect("clean stop");
}

#[tokio::test]
async fn loyalty_answers_through_the_suite() {
    let suite = Suite::start().await;
    let mut loyalty = LoyaltyServiceClient::new(suite.channel.clone());
    let nps = loyalty
        .get_nps(GetNpsRequest::default())
        .await
        .expect("every RPC is built")
        .into_inner();
    assert_eq!((nps.n, nps.nps, nps.margin_of_error), (0, 0.0, 0.0));
    suite.stop().await.expect("clean stop");
}

/// Profiles' domain events reach loyalty through the outbox worker and move the score.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn profiles_events_reach_loyalty_in_the_suite() {
    use rapport_proto::common::v1 as common;
    use rapport_proto::loyalty::v1 as loyalty;
    use rapport_proto::profiles::v1 as profiles;

    let suite = Suite::start().await;
    let mut client = ProfileServiceClient::new(suite.channel.clone());
    let customer = client
        .create_customer(CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Ana Pop".to_owned(),
                locale: "ro-RO".to_owned(),
                time_zone: "Europe/Bucharest".to_owned(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("customer")
        .into_inner()
        .customer
        .expect("customer")
        .customer_id;
    for _ in 0..3 {
        client
            .record_interaction(profiles::RecordInteractionRequest {
                interaction: Some(profiles::Interaction {
                    customer_id: customer.clone(),
                    channel: common::Channel::Phone as i32,
                    sentiment: common::Sentiment::Positive as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            })
            .await
            .expect("interaction");
    }
    let mut loyalty = LoyaltyServiceClient::new(suite.channel.clone());
    let mut activity = None;
    for _ in 0..200 {
        let score = loyalty
            .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
                customer_id: customer.clone(),
                as_of: None,
            })
            .await
            .expect("score")
            .into_inner()
            .score
            .expect("score");
        activity = score
            .explanation
            .into_iter()
            .find(|c| c.signal == "touchpoint_activity" && c.description.contains("3.00"));
        if activity.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(activity.is_some(), "three touchpoints reached loyalty");
    suite.stop().await.expect("clean stop");
}

#[tokio::test]
async fn profiles_answers_through_the_suite() {
    let suite = Suite::start().await;
    let mut profiles = ProfileServiceClient::new(suite.channel.clone());
    let missing = profiles
        .get_customer(GetCustomerRequest {
            customer_id: "0190f0c8-7a1e-7c3b-9a4e-1d2c3b4a5f60".to_owned(),
            view: 0,
        })
        .await
        .expect_err("no such customer");
    assert_eq!(missing.code(), Code::NotFound);
    suite.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_message_over_the_size_limit_is_refused_and_the_server_keeps_serving() {
    let suite = Suite::start().await;
    let mut profiles = ProfileServiceClient::new(suite.channel.clone());
    // 5 MiB against the default 4 MiB limit.
    let oversized = CreateCustomerRequest {
        request_id: "x".repeat(5 * 1024 * 1024),
        ..CreateCustomerRequest::default()
    };
    let status = profiles
        .create_customer(oversized)
        .await
        .expect_err("over the limit");
    // gRPC's code for a limit exceeded, from the guard, before any of it is decoded.
    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    assert!(
        status.message().contains("larger than the limit"),
        "{status:?}"
    );

    let still = profiles
        .get_customer(GetCustomerRequest::default())
        .await
        .expect_err("still answering");
    assert_eq!(still.code(), Code::InvalidArgument, "{still:?}");
    suite.stop().await.expect("clean stop");
}

/// Plans reads the customer from profiles through the generated client, on the same address in
/// `rapport dev` as across machines in production.
#[tokio::test]
async fn plans_asks_profiles_before_deciding_on_contact() {
    use rapport_proto::common::v1 as common;
    use rapport_proto::plans::v1 as plans;
    use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
    use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
    use rapport_proto::profiles::v1 as profiles;

    let suite = Suite::start().await;
    let customer = ProfileServiceClient::new(suite.channel.clone())
        .create_customer(CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Ana Pop".to_owned(),
                locale: "ro-RO".to_owned(),
                time_zone: "Europe/Bucharest".to_owned(),
                contact_preferences: None,
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("customer")
        .into_inner()
        .customer
        .expect("customer");
    ProfileServiceClient::new(suite.channel.clone())
        .set_contact_preferences(profiles::SetContactPreferencesRequest {
            customer_id: customer.customer_id.clone(),
            preferences: Some(profiles::ContactPreferences {
                do_not_contact_channels: vec![common::Channel::Sms as i32],
                ..Default::default()
            }),
        })
        .await
        .expect("preferences");
    let money = |minor_units| {
        Some(common::Money {
            currency_code: "RON".to_owned(),
            minor_units,
        })
    };
    let account = AccountServiceClient::new(suite.channel.clone())
        .upsert_account(plans::UpsertAccountRequest {
            source_system: "cards".to_owned(),
            external_account_id: "RO-1".to_owned(),
            customer_id: customer.customer_id.clone(),
            kind: plans::AccountKind::CreditCard as i32,
            currency_code: "RON".to_owned(),
            balance: money(500_000),
            contractual_payment: money(25_000),
            annual_rate: "0.19".to_owned(),
            due_day: 10,
            remaining_term_months: 0,
            jurisdiction: "RO".to_owned(),
            as_of: None,
        })
        .await
        .expect("account")
        .into_inner()
        .account
        .expect("account");
    let decision = OutreachServiceClient::new(suite.channel.clone())
        .check_contact(plans::CheckContactRequest {
            customer_id: customer.customer_id.clone(),
            account_id: account.account_id.clone(),
            channel: common::Channel::Sms as i32,
            purpose: plans::ContactPurpose::Support as i32,
            requested_by: Some(common::Actor {
                kind: common::ActorKind::Agent as i32,
                id: "agent-1".to_owned(),
            }),
            ..Default::default()
        })
        .await
        .expect("decision")
        .into_inner();
    assert!(
        !decision.allowed,
        "the refusal recorded in profiles closes SMS"
    );
    assert!(
        decision.reasons.iter().any(
            |r| r.code == "CHANNEL_REFUSED" && r.effect == common::ReasonEffect::Opposes as i32
        )
    );
    suite.stop().await.expect("clean stop");
}

async fn reflect(
    client: &mut ServerReflectionClient<tonic::transport::Channel>,
    request: MessageRequest,
) -> MessageResponse {
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(request),
    };
    let mut answers = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .expect("reflection call")
        .into_inner();
    let answer: ServerReflectionResponse = answers
        .message()
        .await
        .expect("reflection answer")
        .expect("one answer");
    answer.message_response.expect("a response")
}
