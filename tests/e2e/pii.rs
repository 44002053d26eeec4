//! Personal data stays out of telemetry: names, emails, phones, addresses, free-text answers and
//! income and expenditure figures never appear in logs, span attributes or error messages.
//!
//! One journey through the whole suite (`rapport dev`, as `Suite` starts it) with a customer whose
//! every personal value is distinctive, including refused requests that carry them; every log
//! event and span (at every level, fields recorded later included) and every exported
//! OpenTelemetry span is captured, and none may hold any of those values.

use std::fmt::Write as _;
use std::time::Duration;

use opentelemetry_sdk::trace::SpanData;
use rapport::agent::{self, Connection};

use rapport_e2e::Suite;
use rapport_e2e::hardship::{self, gbp};
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::outreach_service_client::OutreachServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::referrals::v1 as referrals;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_storage::{Storage, StorageSettings, sqlx};
use tonic::Code;

use crate::support::profiles_events;
use crate::support::telemetry::{self, Captured};

// The customer, her friend and what they tell us: values nothing else in the suite could produce.
const NAME: &str = "Zénobie Quilliam-Ytterbø";
const PREFERRED_NAME: &str = "Zénobie";
const EMAIL: &str = "Zenobie.Quilliam@Ytterbo-Post.example";
/// Refused: a personal value on the error path.
const BAD_EMAIL: &str = "zenobie.quilliam@@example";
const PHONE: &str = "+447700914263";
const ADDRESS_LINES: [&str; 2] = ["Flat 7, Quernmoor House", "19 Wyvernhollow Lane"];
const LOCALITY: &str = "Skelbrooke-on-Teign";
const POSTAL_CODE: &str = "TQ9 4ZX";
const INTERACTION_SUMMARY: &str =
    "Said her chinchilla Bartholomew-Pemberton needs surgery and money is tight";
const COMMITMENT: &str = "Ring back after the Marzipan-Obelisk statement arrives";
const VULNERABILITY_DETAIL: &str = "Recovering from Thistlewaite fever";
const VULNERABILITY_NOTES: &str = "Prefers calls after the Quorndon allotment closes";
const HARDSHIP_DETAIL: &str = "Laid off when the Gullymarsh lighthouse was automated";
const INCOME_DESCRIPTION: &str = "Night shifts at the Hobnailer bakery";
const FIXED_DESCRIPTION: &str = "Rent to Mrs Featherstonehaugh-Brill";
const FLEXIBLE_DESCRIPTION: &str = "Groceries from the Wimbleknott co-op";
/// Monthly income and expenditure, in pence (£3,876.13, £1,493.27, £611.29).
const INCOME: i64 = 387_613;
const FIXED_COSTS: i64 = 149_327;
const FLEXIBLE_COSTS: i64 = 61_129;
const SURVEY_TEXT: &str = "The Snorkelwhistle hotline kept me on hold for ninety minutes";
const CUSTOMER_TOLD: &str = "We refunded the Gorgonzola-Vortex fee and apologised";
const FRIEND_NAME: &str = "Ottoline Brümmerstrand";
const FRIEND_EMAIL: &str = "Ottoline.Brummerstrand@Kestrelmoor.example";
const FRIEND_PHONE: &str = "+447700938517";
const VOUCH_COMMENT: &str = "Known her since the Pumpernickel regatta of 1998";

/// Every value above, and the forms the services may normalise them to.
fn seeded_values() -> Vec<String> {
    let mut values = seeded_words();
    values.extend(seeded_amounts());
    values
}

/// Every personal word seeded above: names, emails, phones, addresses, free text, descriptions.
fn seeded_words() -> Vec<String> {
    [
        NAME,
        "Quilliam",
        "Ytterbø",
        PREFERRED_NAME,
        EMAIL,
        BAD_EMAIL,
        "zenobie.quilliam",
        "ytterbo-post",
        PHONE,
        "447700914263",
        "07700914263",
        "7700 914263",
        ADDRESS_LINES[0],
        ADDRESS_LINES[1],
        "Quernmoor",
        "Wyvernhollow",
        LOCALITY,
        "Skelbrooke",
        POSTAL_CODE,
        "TQ94ZX",
        INTERACTION_SUMMARY,
        "Bartholomew-Pemberton",
        COMMITMENT,
        "Marzipan-Obelisk",
        VULNERABILITY_DETAIL,
        "Thistlewaite",
        VULNERABILITY_NOTES,
        "Quorndon",
        HARDSHIP_DETAIL,
        "Gullymarsh",
        INCOME_DESCRIPTION,
        "Hobnailer",
        FIXED_DESCRIPTION,
        "Featherstonehaugh",
        FLEXIBLE_DESCRIPTION,
        "Wimbleknott",
        SURVEY_TEXT,
        "Snorkelwhistle",
        CUSTOMER_TOLD,
        "Gorgonzola-Vortex",
        FRIEND_NAME,
        "Ottoline",
        "Brümmerstrand",
        "Brummerstrand",
        FRIEND_EMAIL,
        "kestrelmoor",
        FRIEND_PHONE,
        "447700938517",
        VOUCH_COMMENT,
        "Pumpernickel",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect()
}

/// The income and expenditure figures, the totals and the surplus, as minor units and as pounds
/// and pence: amounts an erasure keeps (no words about the person beside them).
fn seeded_amounts() -> Vec<String> {
    let mut values = Vec::new();
    let expenditure = FIXED_COSTS + FLEXIBLE_COSTS;
    for amount in [
        INCOME,
        FIXED_COSTS,
        FLEXIBLE_COSTS,
        expenditure,
        INCOME - expenditure,
    ] {
        values.push(amount.to_string());
        values.push(format!("{}.{:02}", amount / 100, amount % 100));
        if amount >= 100_000 {
            values.push(format!(
                "{},{:03}.{:02}",
                amount / 100_000,
                amount / 100 % 1000,
                amount % 100
            ));
        }
    }
    values
}

/// Whether `needle` occurs in `haystack`, ignoring case; a number counts only as a whole number
/// (not inside a longer one, a hex id or a timestamp).
fn occurs(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.to_lowercase(), needle.to_lowercase());
    let numeric = needle.starts_with(|c: char| c.is_ascii_digit());
    haystack.match_indices(&needle).any(|(at, _)| {
        !numeric || {
            let before = haystack[..at].chars().next_back();
            let after = haystack[at + needle.len()..].chars().next();
            let part_of_number = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
            !part_of_number(before) && !part_of_number(after)
        }
    })
}

/// An exported span as text: its name, attributes and status, then each of its events.
fn exported(span: &SpanData) -> Vec<Captured> {
    let origin = format!("exported span {:?}", span.name);
    let mut text = format!("{} ", span.name);
    for attribute in &span.attributes {
        // Timings and source locations the exporter adds are numbers that can equal a seeded
        // amount by chance (busy_ns=177157 once did); they never carry what a caller sent.
        if matches!(
            attribute.key.as_str(),
            "busy_ns" | "idle_ns" | "thread.id" | "code.line.number"
        ) {
            continue;
        }
        let _ = write!(text, "{}={} ", attribute.key, attribute.value);
    }
    let _ = write!(text, "status={:?}", span.status);
    let mut captured = vec![Captured {
        origin: origin.clone(),
        text,
    }];
    for event in span.events.iter() {
        let mut text = format!("{} ", event.name);
        for attribute in &event.attributes {
            let _ = write!(text, "{}={} ", attribute.key, attribute.value);
        }
        captured.push(Captured {
            origin: format!("{origin}, its event {:?}", event.name),
            text,
        });
    }
    captured
}

// ---- the journey ------------------------------------------------------------------------------

fn postal_address() -> common::PostalAddress {
    common::PostalAddress {
        lines: ADDRESS_LINES.map(str::to_owned).to_vec(),
        locality: LOCALITY.into(),
        region: "Devon".into(),
        postal_code: POSTAL_CODE.into(),
        country_code: "GB".into(),
    }
}

fn customer(email: &str) -> profiles::Customer {
    profiles::Customer {
        legal_name: NAME.into(),
        preferred_name: PREFERRED_NAME.into(),
        locale: "en-GB".into(),
        time_zone: "Europe/London".into(),
        customer_since: Some(common::Date {
            year: 2014,
            month: 5,
            day: 17,
        }),
        emails: vec![profiles::EmailAddress {
            address: email.into(),
            verified: true,
            primary: true,
        }],
        phones: vec![profiles::PhoneNumber {
            e164: PHONE.into(),
            verified: true,
            primary: true,
        }],
        addresses: vec![profiles::Address {
            address: Some(postal_address()),
            verified: true,
            primary: true,
        }],
        ..Default::default()
    }
}

fn friend_contact() -> referrals::ProspectContact {
    referrals::ProspectContact {
        name: FRIEND_NAME.into(),
        email: FRIEND_EMAIL.into(),
        phone: FRIEND_PHONE.into(),
        address: None,
    }
}

/// What a refused call told its caller: the message and every field violation.
fn refusal(status: &tonic::Status) -> Captured {
    use tonic_types::StatusExt as _;
    let mut text = status.message().to_owned();
    if let Some(bad_request) = status.get_details_bad_request() {
        for violation in bad_request.field_violations {
            let _ = write!(text, " {}: {}", violation.field, violation.description);
        }
    }
    Captured {
        origin: format!("the {:?} a caller received", status.code()),
        text,
    }
}

/// Profiles: the customer with her contact details, a touchpoint, a promise, a vulnerability;
/// first a refused attempt with an email that is not one.
async fn profile(connection: &Connection, refusals: &mut Vec<Captured>) -> String {
    let mut client = ProfileServiceClient::new(connection.clone());
    let refused = client
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(customer(BAD_EMAIL)),
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    refusals.push(refusal(&refused));
    let id = client
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(customer(EMAIL)),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .customer
        .unwrap()
        .customer_id;
    // An agent finds her by what she tells them; a mistyped number is refused.
    let found = client
        .search_customers(profiles::SearchCustomersRequest {
            name: "zenobie quilliam".into(),
            email: EMAIL.to_lowercase(),
            phone: "+44 7700 914263".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .customers;
    assert_eq!(found.len(), 1, "{found:?}");
    let refused = client
        .search_customers(profiles::SearchCustomersRequest {
            name: NAME.into(),
            phone: "+44 7700 91426 Zénobie".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    refusals.push(refusal(&refused));
    client
        .record_interaction(profiles::RecordInteractionRequest {
            interaction: Some(profiles::Interaction {
                customer_id: id.clone(),
                channel: common::Channel::Phone as i32,
                direction: common::Direction::Inbound as i32,
                topic: "collections".into(),
                agent_id: "agent-5".into(),
                sentiment: common::Sentiment::Negative as i32,
                summary: INTERACTION_SUMMARY.into(),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    client
        .record_commitment(profiles::RecordCommitmentRequest {
            commitment: Some(profiles::Commitment {
                customer_id: id.clone(),
                description: COMMITMENT.into(),
                promised_by: hardship::agent("agent-5"),
                due_date: Some(common::Date {
                    year: 2099,
                    month: 1,
                    day: 15,
                }),
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .unwrap();
    client
        .set_vulnerability(profiles::SetVulnerabilityRequest {
            customer_id: id.clone(),
            vulnerability: Some(profiles::Vulnerability {
                factors: vec![profiles::VulnerabilityFactor {
                    driver: profiles::VulnerabilityDriver::Health as i32,
                    detail: VULNERABILITY_DETAIL.into(),
                    temporary: true,
                }],
                needs: vec!["extra_time".into()],
                notes: VULNERABILITY_NOTES.into(),
                customer_consented: true,
                ..Default::default()
            }),
            recorded_by: hardship::agent("agent-5"),
        })
        .await
        .unwrap();
    id
}

fn statement(case_id: &str, income: i64) -> plans::SubmitIncomeExpenditureRequest {
    plans::SubmitIncomeExpenditureRequest {
        case_id: case_id.into(),
        income_expenditure: Some(plans::IncomeExpenditure {
            household: Some(plans::Household {
                adults: 1,
                children: 0,
                vehicles: 0,
            }),
            income: vec![plans::IncomeLine {
                category: plans::IncomeCategory::Earnings as i32,
                description: INCOME_DESCRIPTION.into(),
                monthly_amount: gbp(income),
            }],
            fixed_costs: vec![plans::FixedCostLine {
                category: plans::FixedCostCategory::HomeAndContents as i32,
                description: FIXED_DESCRIPTION.into(),
                monthly_amount: gbp(FIXED_COSTS),
            }],
            flexible_costs: vec![plans::FlexibleCostLine {
                category: plans::FlexibleCostCategory::FoodAndHousekeeping as i32,
                description: FLEXIBLE_DESCRIPTION.into(),
                monthly_amount: gbp(FLEXIBLE_COSTS),
            }],
            ..Default::default()
        }),
        submitted_by: hardship::agent("agent-5"),
    }
}

/// Plans: an account in arrears, a hardship case with her income and expenditure (once refused,
/// with the income in the wrong currency), options, the plan she accepts, its first payment: the
/// account and the case.
async fn hardship_plan(
    connection: &Connection,
    customer: &str,
    refusals: &mut Vec<Captured>,
) -> (String, String) {
    let account = hardship::account_behind(connection, customer, "GB-ZQ-1", 35).await;
    // The first message, addressed to her by name; once refused for a missing value.
    let mut outreach = OutreachServiceClient::new(connection.clone());
    let message = |values: &[(&str, &str)]| plans::RenderMessageRequest {
        template_id: "first-contact-email".into(),
        locale: "en-GB".into(),
        values: values
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        customer_id: customer.into(),
        account_id: account.clone(),
        money_values: Default::default(),
    };
    let refused = outreach
        .render_message(message(&[("first_name", PREFERRED_NAME)]))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    refusals.push(refusal(&refused));
    let rendered = outreach
        .render_message(message(&[
            ("first_name", PREFERRED_NAME),
            ("agent_phone", "0800 123 4567"),
            ("lender_name", "Rapport Bank"),
        ]))
        .await
        .unwrap()
        .into_inner();
    assert!(rendered.body.contains(PREFERRED_NAME), "{}", rendered.body);
    let mut cases = HardshipServiceClient::new(connection.clone());
    let case = cases
        .open_hardship_case(plans::OpenHardshipCaseRequest {
            customer_id: customer.into(),
            account_ids: vec![account.clone()],
            reason: plans::HardshipReason::JobLoss as i32,
            reason_detail: HARDSHIP_DETAIL.into(),
            opened_by: hardship::agent("agent-5"),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .hardship_case
        .unwrap()
        .case_id;
    let mut wrong_currency = statement(&case, INCOME);
    if let Some(ie) = wrong_currency.income_expenditure.as_mut() {
        ie.income[0].monthly_amount = Some(common::Money {
            currency_code: "EUR".into(),
            minor_units: INCOME,
        });
        ie.fixed_costs[0].monthly_amount = gbp(-FIXED_COSTS);
    }
    let refused = cases
        .submit_income_expenditure(wrong_currency)
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    refusals.push(refusal(&refused));
    cases
        .submit_income_expenditure(statement(&case, INCOME))
        .await
        .unwrap();
    let mut plan_service = PlanServiceClient::new(connection.clone());
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
        .find(|o| !o.schedule.is_empty())
        .expect("an option with a schedule");
    let plan = plan_service
        .accept_plan(plans::AcceptPlanRequest {
            account_id: account.clone(),
            case_id: case.clone(),
            option_id: chosen.option_id.clone(),
            accepted_by: hardship::agent("agent-5"),
            agreement: Some(plans::CustomerAgreement {
                method: plans::AgreementMethod::RecordedCall as i32,
                evidence_ref: "call-zq-1".into(),
                agreed_at: None,
            }),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .plan
        .unwrap();
    plan_service
        .record_plan_payment(plans::RecordPlanPaymentRequest {
            plan_id: plan.plan_id,
            idempotency_key: "zq-pay-1".into(),
            amount: plan.schedule[0].amount.clone(),
            received_at: None,
            source_reference: String::new(),
        })
        .await
        .unwrap();
    AccountServiceClient::new(connection.clone())
        .get_account(plans::GetAccountRequest {
            account_id: account.clone(),
        })
        .await
        .unwrap();
    (account, case)
}

/// Referrals: she refers her friend (once refused, with a phone that is not one), vouches for
/// her with a comment, and the friend signs up.
async fn referral(connection: &Connection, customer: &str, refusals: &mut Vec<Captured>) {
    let mut client = ReferralServiceClient::new(connection.clone());
    let code = client
        .issue_referral_code(referrals::IssueReferralCodeRequest {
            customer_id: customer.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .referral_code
        .unwrap()
        .code;
    let refused = client
        .create_referral(referrals::CreateReferralRequest {
            referrer_customer_id: customer.into(),
            code: code.clone(),
            prospect: Some(referrals::ProspectContact {
                phone: format!("{FRIEND_PHONE} ext. Brümmerstrand"),
                ..friend_contact()
            }),
            device: None,
            request_id: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    refusals.push(refusal(&refused));
    let referral = client
        .create_referral(referrals::CreateReferralRequest {
            referrer_customer_id: customer.into(),
            code: code.clone(),
            prospect: Some(friend_contact()),
            device: None,
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .referral
        .unwrap();
    let vouch = client
        .request_vouch(referrals::RequestVouchRequest {
            voucher_customer_id: customer.into(),
            prospect: Some(referrals::request_vouch_request::Prospect::ProspectId(
                referral.prospect_id.clone(),
            )),
            requested_by: hardship::agent("branch-3"),
            request_id: String::new(),
        })
        .await
        .unwrap()
        .into_inner()
        .vouch
        .unwrap();
    client
        .respond_to_vouch(referrals::RespondToVouchRequest {
            vouch_id: vouch.vouch_id,
            answer: referrals::VouchAnswer::Vouch as i32,
            relationship: referrals::Relationship::Friend as i32,
            years_known: 27,
            comment: VOUCH_COMMENT.into(),
        })
        .await
        .unwrap();
    let friend = ProfileServiceClient::new(connection.clone())
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: FRIEND_NAME.into(),
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                emails: vec![profiles::EmailAddress {
                    address: FRIEND_EMAIL.into(),
                    verified: false,
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
        .customer_id;
    client
        .attribute_signup(referrals::AttributeSignupRequest {
            code,
            referee_customer_id: friend,
            referral_id: referral.referral_id,
            referee_contact: Some(friend_contact()),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// Loyalty: she answers a survey as a detractor, in her own words (once refused, out of range);
/// the follow-up is closed with what she was told.
async fn detractor(connection: &Connection, customer: &str, refusals: &mut Vec<Captured>) {
    let mut client = LoyaltyServiceClient::new(connection.clone());
    let answer = |nps| loyalty::RecordSurveyResponseRequest {
        response: Some(loyalty::SurveyResponse {
            customer_id: customer.into(),
            kind: loyalty::SurveyKind::Relationship as i32,
            nps: Some(nps),
            text: SURVEY_TEXT.into(),
            touchpoint: "call_center".into(),
            channel: common::Channel::Phone as i32,
            locale: "en-GB".into(),
            ..Default::default()
        }),
        request_id: String::new(),
    };
    let refused = client.record_survey_response(answer(11)).await.unwrap_err();
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    refusals.push(refusal(&refused));
    let follow_up = client
        .record_survey_response(answer(2))
        .await
        .unwrap()
        .into_inner()
        .follow_up
        .expect("a 2 opens a follow-up");
    client
        .close_follow_up(loyalty::CloseFollowUpRequest {
            follow_up_id: follow_up.follow_up_id,
            customer_told: CUSTOMER_TOLD.into(),
            outcome: loyalty::FollowUpOutcome::Resolved as i32,
            closed_by: hardship::agent("agent-7"),
            closed_at: None,
        })
        .await
        .unwrap();
    client
        .get_loyalty_score(loyalty::GetLoyaltyScoreRequest {
            customer_id: customer.into(),
            as_of: None,
        })
        .await
        .unwrap();
}

fn storage(suite: &Suite, service: &str) -> Storage {
    let service = suite.services.iter().find(|s| s.name == service).unwrap();
    Storage::open(&StorageSettings {
        url: format!("sqlite://{}", service.database.display()),
        ..StorageSettings::default()
    })
    .unwrap()
}

/// Replaces `from` by `to` in `column` of `table` in the customer's row of `service`'s database,
/// as a bug or a hand edit might. The values are bound, so this test's own SQL (logged too)
/// holds none of them.
async fn edit(
    suite: &Suite,
    service: &str,
    sql: &'static str,
    customer: &str,
    from: &str,
    to: &str,
) {
    let storage = storage(suite, service);
    let mut tx = storage.begin_write().await.unwrap();
    let changed = sqlx::query(sql)
        .bind(customer.to_owned())
        .bind(from.to_owned())
        .bind(to.to_owned())
        .execute(&mut *tx)
        .await
        .unwrap()
        .rows_affected();
    tx.commit().await.unwrap();
    storage.close().await;
    assert_eq!(changed, 1, "{sql}");
}

/// Her stored address and statement no longer parse, so reading them fails (INTERNAL, the cause
/// logged): the cause must name what is wrong without quoting the stored personal values.
async fn corrupt_rows(
    suite: &Suite,
    connection: &Connection,
    customer: &str,
    (account, case): (String, String),
    refusals: &mut Vec<Captured>,
) {
    edit(
        suite,
        "profiles",
        "UPDATE customers SET addresses = REPLACE(addresses, $2, $3) WHERE customer_id = $1",
        customer,
        r#""lines":["#,
        &format!(r#""lines":"{}","was":["#, ADDRESS_LINES[0]),
    )
    .await;
    let refused = ProfileServiceClient::new(connection.clone())
        .get_customer(profiles::GetCustomerRequest {
            customer_id: customer.into(),
            view: profiles::CustomerView::Full as i32,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    refusals.push(refusal(&refused));
    edit(
        suite,
        "plans",
        "UPDATE hardship_cases SET statement = REPLACE(statement, $2, $3) WHERE customer_id = $1",
        customer,
        &format!(r#""monthly":{INCOME}"#),
        &format!(r#""monthly":"{INCOME}""#),
    )
    .await;
    let refused = PlanServiceClient::new(connection.clone())
        .get_plan_options(plans::GetPlanOptionsRequest {
            account_id: account,
            case_id: case,
            payday: 0,
            locale: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Internal, "{refused:?}");
    refusals.push(refusal(&refused));
}

/// Waits (polling, up to 30 s) until every service's outbox is delivered.
async fn until_delivered(suite: &Suite) {
    let storages: Vec<Storage> = suite
        .services
        .iter()
        .map(|service| storage(suite, service.name))
        .collect();
    for _ in 0..600 {
        let mut waiting = 0;
        for storage in &storages {
            let (n,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM outbox WHERE delivered_at_micros IS NULL")
                    .fetch_one(storage.reader())
                    .await
                    .unwrap();
            waiting += n;
        }
        if waiting == 0 {
            for storage in &storages {
                storage.close().await;
            }
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outboxes did not drain");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_data_never_reaches_logs_spans_or_error_messages() {
    let (_recording, exporter, provider) = telemetry::recorded();
    let suite = Suite::start().await;
    let connection = agent::connect(&suite.url).await.unwrap();

    let mut refusals = Vec::new();
    let customer = profile(&connection, &mut refusals).await;
    let account_and_case = hardship_plan(&connection, &customer, &mut refusals).await;
    // Keeping her plan, she is in good standing again once plans' event reaches referrals.
    until_delivered(&suite).await;
    referral(&connection, &customer, &mut refusals).await;
    detractor(&connection, &customer, &mut refusals).await;
    // Her events reach loyalty, and loyalty's follow-up her timeline, through the outboxes.
    until_delivered(&suite).await;
    let commitments = ProfileServiceClient::new(connection.clone())
        .list_commitments(profiles::ListCommitmentsRequest {
            customer_id: customer.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .commitments;
    assert!(
        commitments
            .iter()
            .any(|c| c.promised_by.as_ref().is_some_and(|p| p.id == "loyalty")),
        "loyalty's follow-up is on her timeline: {commitments:?}"
    );
    corrupt_rows(
        &suite,
        &connection,
        &customer,
        account_and_case,
        &mut refusals,
    )
    .await;
    suite.stop().await.unwrap();

    provider.force_flush().unwrap();
    let mut everything = telemetry::captured().lock().unwrap().clone();
    everything.extend(
        exporter
            .get_finished_spans()
            .unwrap()
            .iter()
            .flat_map(exported),
    );
    everything.extend(refusals);

    // The capture works: it saw the journey, by the customer's id.
    assert!(
        everything.len() > 100,
        "only {} records captured",
        everything.len()
    );
    assert!(
        everything.iter().any(|c| c.text.contains(&customer)),
        "the customer's id {customer} is nowhere in the capture"
    );
    assert!(
        everything
            .iter()
            .any(|c| c.origin.starts_with("exported span")),
        "no span was exported"
    );

    let leaks: Vec<String> = seeded_values()
        .iter()
        .flat_map(|value| {
            everything
                .iter()
                .filter(|c| occurs(&c.text, value))
                .map(move |c| format!("{value:?} in {}: {}", c.origin, c.text))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "{} personal values in telemetry:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[test]
fn numbers_are_found_only_whole() {
    assert!(occurs("amount=387613 GBP", "387613"));
    assert!(occurs("£3,876.13", "3,876.13"));
    assert!(!occurs("trace 0a387613f", "387613"));
    assert!(!occurs("at 17723876130000", "387613"));
    assert!(occurs("name=ZÉNOBIE", "Zénobie"));
}

// ---- erasure ----------------------------------------------------------------------------------

/// Columns of plans allowed to keep a seeded value after the erasure of a survivor that absorbed
/// her: an entry names a known gap, a value anywhere else fails the test, and an entry that no
/// longer holds a value fails it too (remove the entry). Empty: plans erases everything seeded.
const PLANS_NOT_YET_ERASED: &[&str] = &[];

/// Her friend signed up through her referral and is a customer in her own right: the friend's
/// own records (her profile, her prospect row now linked to her) are hers and stay.
const FRIENDS_OWN: &[&str] = &[
    FRIEND_NAME,
    "Ottoline",
    "Brümmerstrand",
    "Brummerstrand",
    FRIEND_EMAIL,
    "kestrelmoor",
    FRIEND_PHONE,
    "447700938517",
];

/// Profiles' merge and erasure events, read from profiles' outbox and offered again to referrals'
/// IngestEvents under their own ids; returns how many referrals had not seen (0 when profiles'
/// outbox worker delivered them, as `rapport dev` wires it).
async fn referrals_missed_profiles_events(suite: &Suite, connection: &Connection) -> i32 {
    let profiles = storage(suite, "profiles");
    let events = profiles_events::merges_and_erasures(&profiles).await;
    profiles.close().await;
    let answer = ReferralServiceClient::new(connection.clone())
        .ingest_events(referrals::IngestEventsRequest { events })
        .await
        .unwrap()
        .into_inner();
    assert!(answer.rejected.is_empty(), "{:?}", answer.rejected);
    answer.accepted
}

/// Every `table.column` of `storage` (SQLite) whose text holds one of `values`, with the value.
async fn still_holding(storage: &Storage, values: &[String]) -> Vec<(String, String)> {
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
         AND name NOT LIKE '_sqlx%' ORDER BY name",
    )
    .fetch_all(storage.reader())
    .await
    .unwrap();
    let mut found = Vec::new();
    for (table,) in tables {
        let columns: Vec<(String,)> =
            sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(table.clone())
                .fetch_all(storage.reader())
                .await
                .unwrap();
        for (column,) in columns {
            // Read as bytes: a cell may hold bytes that are not UTF-8 (a hash).
            let cells: Vec<(Option<Vec<u8>>,)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(\"{column}\" AS BLOB) FROM \"{table}\""
            )))
            .fetch_all(storage.reader())
            .await
            .unwrap();
            for value in values {
                if cells.iter().any(|(cell,)| {
                    cell.as_deref()
                        .is_some_and(|c| occurs(&String::from_utf8_lossy(c), value))
                }) {
                    found.push((format!("{table}.{column}"), value.clone()));
                }
            }
        }
    }
    found
}

/// Issue 18: she is a duplicate merged into another customer, who is then erased. Once the
/// outboxes have delivered, no table of any service's database holds a word she gave us.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn erasing_a_survivor_leaves_no_word_of_its_merged_duplicate_in_any_database() {
    let suite = Suite::start().await;
    let connection = agent::connect(&suite.url).await.unwrap();
    let mut refusals = Vec::new();
    let duplicate = profile(&connection, &mut refusals).await;
    hardship_plan(&connection, &duplicate, &mut refusals).await;
    until_delivered(&suite).await;
    referral(&connection, &duplicate, &mut refusals).await;
    detractor(&connection, &duplicate, &mut refusals).await;
    until_delivered(&suite).await;

    let mut profiles_client = ProfileServiceClient::new(connection.clone());
    let survivor = profiles_client
        .create_customer(profiles::CreateCustomerRequest {
            customer: Some(profiles::Customer {
                legal_name: "Survivor Account Holder".into(),
                locale: "en-GB".into(),
                time_zone: "Europe/London".into(),
                customer_since: Some(common::Date {
                    year: 2012,
                    month: 6,
                    day: 1,
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
    profiles_client
        .merge_customers(profiles::MergeCustomersRequest {
            survivor_customer_id: survivor.clone(),
            duplicate_customer_id: duplicate.clone(),
            reason: "same person, two records".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    profiles_client
        .erase_customer(profiles::EraseCustomerRequest {
            customer_id: survivor.clone(),
            reason: "DSR-2026-0418".into(),
            request_id: String::new(),
        })
        .await
        .unwrap();
    until_delivered(&suite).await;
    assert_eq!(
        referrals_missed_profiles_events(&suite, &connection).await,
        0,
        "profiles' outbox delivers merges and erasures to referrals"
    );

    let words: Vec<String> = seeded_words()
        .into_iter()
        .filter(|w| !FRIENDS_OWN.contains(&w.as_str()))
        .collect();
    let mut remaining = Vec::new();
    let mut allowed = Vec::new();
    for service in &suite.services {
        let storage = storage(&suite, service.name);
        for (column, value) in still_holding(&storage, &words).await {
            let at = format!("{}: {column}", service.name);
            if service.name == "plans" && PLANS_NOT_YET_ERASED.contains(&column.as_str()) {
                allowed.push(format!("{at} holds {value:?}"));
            } else {
                remaining.push(format!("{at} holds {value:?}"));
            }
        }
        storage.close().await;
    }
    suite.stop().await.unwrap();
    // An allow-listed column that no longer holds anything is a stale entry: remove it.
    for column in PLANS_NOT_YET_ERASED {
        assert!(
            allowed
                .iter()
                .any(|a| a.starts_with(&format!("plans: {column} "))),
            "plans now erases {column}: remove it from PLANS_NOT_YET_ERASED (issue 18)"
        );
    }
    assert!(
        remaining.is_empty(),
        "{} seeded values survive the erasure:\n{}",
        remaining.len(),
        remaining.join("\n")
    );
}
