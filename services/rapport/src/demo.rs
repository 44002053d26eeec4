//! `rapport dev --demo`: a realistic data set, seeded through the suite's own gRPC API (the same
//! paths a bank's systems use), so every command and RPC has something to show.
//!
//! Customers with names in five scripts (Latin with its diacritics, Han, Greek, Cyrillic, Arabic) and tenures from a few months to 18 years (one joined on
//! 29 February); accounts current and in arrears in their own currencies; a hardship case with a
//! plan being paid and one with options waiting; a referral that became a customer and a vouch;
//! survey answers with detractors whose follow-ups wait. Seeded once per data directory.
//!
//! One customer in hardship, [`IN_HARDSHIP`] (Ștefan Ionescu), fills every section of the desk's
//! overview: his account in arrears, a breathing space in force, his open case with income and
//! expenditure, the plan he accepted and began to pay, a promise to pay the next installment, a
//! detractor answer whose follow-up waits, a call-back we promised him, and a friend he referred
//! while still in good standing.
//!
//! A secured suite (`rapport dev --secure DIR --demo`) is seeded over mutual TLS with the
//! development client certificate and a token of its own ([`DEMO_SUBJECT`], [`DEMO_ROLES`]),
//! so the audit trail says the demo did it, and for which named agent.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rapport_proto::common::v1 as common;
use rapport_proto::loyalty::v1 as loyalty;
use rapport_proto::loyalty::v1::loyalty_service_client::LoyaltyServiceClient;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::hardship_service_client::HardshipServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_proto::referrals::v1 as referrals;
use rapport_proto::referrals::v1::referral_service_client::ReferralServiceClient;
use rapport_security::Role;
use rapport_security::dev::DevMaterial;

use crate::agent::{Connection, Credentials};

/// Who seeds a secured suite: a system, named as such in the audit trail.
pub const DEMO_SUBJECT: &str = "rapport-demo";
/// What seeding needs (`policy::GRANTS`): `agent` creates customers, consents, touchpoints,
/// survey answers, hardship cases, plans and referrals; `billing_system` posts accounts,
/// arrears and a plan payment; `service` acts on behalf of the demo's named agents
/// (`agent-demo`, `branch-demo`), since an actor other than the token's subject is refused to
/// anyone else (`rapport_security::actors`).
pub const DEMO_ROLES: [Role; 3] = [Role::Agent, Role::BillingSystem, Role::Service];
/// Long enough to wait for the suite and seed it; the token is never written down.
const DEMO_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// The demo's customer in hardship whose desk overview fills every section.
pub const IN_HARDSHIP: &str = "Ștefan Ionescu";

/// The marker that says this data directory has its demo data.
const MARKER: &str = "demo-seeded";

struct Person {
    name: &'static str,
    locale: &'static str,
    time_zone: &'static str,
    since: (i32, i32, i32),
    /// NPS answer, if they answered a survey.
    nps: Option<i32>,
}

const PEOPLE: &[Person] = &[
    Person {
        name: "Ana Popescu",
        locale: "ro-RO",
        time_zone: "Europe/Bucharest",
        since: (2012, 5, 14),
        nps: Some(10),
    },
    Person {
        name: IN_HARDSHIP,
        locale: "ro-RO",
        time_zone: "Europe/Bucharest",
        since: (2019, 11, 2),
        // A detractor since his hours were cut: the follow-up waits on his desk overview.
        nps: Some(5),
    },
    Person {
        name: "Oliver Smith",
        locale: "en-GB",
        time_zone: "Europe/London",
        since: (2008, 2, 29),
        nps: Some(7),
    },
    Person {
        name: "Siobhán Ní Bhriain",
        locale: "en-IE",
        time_zone: "Europe/Dublin",
        since: (2016, 7, 21),
        nps: Some(4),
    },
    Person {
        name: "José García Márquez",
        locale: "es-ES",
        time_zone: "Europe/Madrid",
        since: (2021, 3, 9),
        nps: None,
    },
    Person {
        name: "李雷",
        locale: "zh-CN",
        time_zone: "Asia/Shanghai",
        since: (2015, 9, 30),
        nps: Some(9),
    },
    Person {
        name: "Αλέξανδρος Παπαδόπουλος",
        locale: "el-GR",
        time_zone: "Europe/Athens",
        since: (2011, 1, 17),
        nps: Some(2),
    },
    Person {
        name: "Дмитрий Иванов",
        locale: "ru-RU",
        time_zone: "Europe/Riga",
        since: (2020, 6, 5),
        nps: Some(7),
    },
    Person {
        name: "محمد علي",
        locale: "ar-AE",
        time_zone: "Asia/Dubai",
        since: (2018, 12, 12),
        nps: Some(9),
    },
    Person {
        name: "Emily Johnson",
        locale: "en-US",
        time_zone: "America/New_York",
        since: (2017, 4, 3),
        nps: Some(6),
    },
    Person {
        name: "Tomasz Wójcik",
        locale: "pl-PL",
        time_zone: "Europe/Warsaw",
        since: (2025, 10, 1),
        nps: None,
    },
];

/// What was seeded, for the banner.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seeded {
    pub customers: usize,
    pub accounts: usize,
    pub in_arrears: usize,
    pub hardship_cases: usize,
    pub plans: usize,
    pub referrals: usize,
    pub answers: usize,
    pub detractors: usize,
}

impl std::fmt::Display for Seeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "demo data: {} customers, {} accounts ({} in arrears), {} hardship cases, {} plan, {} referrals, \
             {} survey answers ({} detractors awaiting follow-up)\n\
             try: rapport customer find popescu · rapport loyalty follow-ups · the desk's overview of {}",
            self.customers,
            self.accounts,
            self.in_arrears,
            self.hardship_cases,
            self.plans,
            self.referrals,
            self.answers,
            self.detractors,
            IN_HARDSHIP
        )
    }
}

fn money(currency: &str, minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: currency.into(),
        minor_units,
    })
}

fn agent(id: &str) -> Option<common::Actor> {
    Some(common::Actor {
        kind: common::ActorKind::Agent as i32,
        id: id.into(),
    })
}

/// Seeds the suite at `connection` unless `data_dir` says it already was; `None` then.
pub async fn seed_once(connection: Connection, data_dir: &Path) -> anyhow::Result<Option<Seeded>> {
    let marker = data_dir.join(MARKER);
    if marker.exists() {
        return Ok(None);
    }
    let seeded = seed(connection).await?;
    std::fs::write(&marker, seeded.to_string()).context("writing the demo marker")?;
    Ok(Some(seeded))
}

async fn seed(connection: Connection) -> anyhow::Result<Seeded> {
    let mut profiles_client = ProfileServiceClient::new(connection.clone());
    let mut loyalty_client = LoyaltyServiceClient::new(connection.clone());
    let mut seeded = Seeded::default();
    let mut ids = Vec::new();
    for (i, p) in PEOPLE.iter().enumerate() {
        let customer = profiles_client
            .create_customer(profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: p.name.into(),
                    locale: p.locale.into(),
                    time_zone: p.time_zone.into(),
                    customer_since: Some(common::Date {
                        year: p.since.0,
                        month: p.since.1,
                        day: p.since.2,
                    }),
                    ..Default::default()
                }),
                request_id: format!("demo-customer-{i}"),
            })
            .await
            .with_context(|| format!("creating {}", p.name))?
            .into_inner()
            .customer
            .context("profiles answered without a customer")?
            .customer_id;
        profiles_client
            .set_consent(profiles::SetConsentRequest {
                consent: Some(profiles::Consent {
                    customer_id: customer.clone(),
                    purpose: profiles::ConsentPurpose::Surveys as i32,
                    status: profiles::ConsentStatus::Granted as i32,
                    source: profiles::ConsentSource::Web as i32,
                    ..Default::default()
                }),
                request_id: format!("demo-consent-{i}"),
            })
            .await
            .context("survey consent")?;
        profiles_client
            .record_interaction(profiles::RecordInteractionRequest {
                interaction: Some(profiles::Interaction {
                    customer_id: customer.clone(),
                    channel: common::Channel::Phone as i32,
                    direction: common::Direction::Inbound as i32,
                    topic: "account_question".into(),
                    agent_id: "agent-demo".into(),
                    sentiment: if p.nps.is_some_and(|n| n >= 9) {
                        common::Sentiment::Positive
                    } else {
                        common::Sentiment::Neutral
                    } as i32,
                    ..Default::default()
                }),
                request_id: format!("demo-call-{i}"),
            })
            .await
            .context("a touchpoint")?;
        if let Some(nps) = p.nps {
            loyalty_client
                .record_survey_response(loyalty::RecordSurveyResponseRequest {
                    response: Some(loyalty::SurveyResponse {
                        customer_id: customer.clone(),
                        kind: loyalty::SurveyKind::Relationship as i32,
                        nps: Some(nps),
                        touchpoint: "relationship".into(),
                        channel: common::Channel::Email as i32,
                        locale: p.locale.into(),
                        ..Default::default()
                    }),
                    request_id: format!("demo-survey-{i}"),
                })
                .await
                .context("a survey answer")?;
            seeded.answers += 1;
            if nps <= 6 {
                seeded.detractors += 1;
            }
        }
        if p.name == IN_HARDSHIP {
            // Before his arrears are reported: only a customer in good standing gets a code.
            refer_a_friend(&connection, &customer).await?;
            seeded.referrals += 1;
        }
        ids.push(customer);
    }
    seeded.customers = ids.len();

    // Accounts: (customer index, currency, balance, contractual payment, days past due).
    let mut accounts_client = AccountServiceClient::new(connection.clone());
    let mut accounts = Vec::new();
    for (n, (who, currency, jurisdiction, balance, payment, days_late)) in [
        (1, "RON", "RO", 850_000, 60_000, 35),
        (4, "EUR", "ES", 420_000, 25_000, 65),
        (9, "USD", "US", 310_000, 18_000, 20),
        (2, "GBP", "GB", 120_000, 10_000, 0),
        (5, "CNY", "CN", 900_000, 50_000, 0),
        // Currencies without a minor unit and with three decimals, so screens and commands show
        // each with its own exponent (ISO 4217: JPY 0, KWD 3).
        (5, "JPY", "JP", 1_500_000, 50_000, 0),
        (8, "KWD", "KW", 1_234_567, 100_000, 0),
    ]
    .into_iter()
    .enumerate()
    {
        let account = accounts_client
            .upsert_account(plans::UpsertAccountRequest {
                source_system: "demo-cards".into(),
                external_account_id: format!("DEMO-{n}"),
                customer_id: ids[who].clone(),
                kind: plans::AccountKind::CreditCard as i32,
                currency_code: currency.into(),
                balance: money(currency, balance),
                contractual_payment: money(currency, payment),
                annual_rate: "0.199".into(),
                due_day: 10,
                remaining_term_months: 0,
                jurisdiction: jurisdiction.into(),
                as_of: None,
            })
            .await
            .context("an account")?
            .into_inner()
            .account
            .context("plans answered without an account")?
            .account_id;
        if days_late > 0 {
            accounts_client
                .report_arrears(plans::ReportArrearsRequest {
                    account_id: account.clone(),
                    days_past_due: days_late,
                    arrears_amount: money(currency, payment * 2),
                    as_of: None,
                })
                .await
                .context("arrears")?;
            seeded.in_arrears += 1;
        }
        accounts.push((who, account, currency));
        seeded.accounts += 1;
    }

    // Two hardship cases: Ștefan's with a plan he chose and has begun to pay, José's with options.
    let mut hardship = HardshipServiceClient::new(connection.clone());
    let mut plan_client = PlanServiceClient::new(connection.clone());
    for (who, account, currency) in accounts.iter().take(2) {
        let case = hardship
            .open_hardship_case(plans::OpenHardshipCaseRequest {
                customer_id: ids[*who].clone(),
                account_ids: vec![account.clone()],
                reason: plans::HardshipReason::JobLoss as i32,
                reason_detail: String::new(),
                opened_by: agent("agent-demo"),
                request_id: format!("demo-case-{who}"),
            })
            .await
            .context("a hardship case")?
            .into_inner()
            .hardship_case
            .context("plans answered without a case")?
            .case_id;
        hardship
            .submit_income_expenditure(plans::SubmitIncomeExpenditureRequest {
                case_id: case.clone(),
                income_expenditure: Some(plans::IncomeExpenditure {
                    household: Some(plans::Household {
                        adults: 2,
                        children: 1,
                        vehicles: 0,
                    }),
                    income: vec![plans::IncomeLine {
                        category: plans::IncomeCategory::Earnings as i32,
                        description: String::new(),
                        monthly_amount: money(currency, 450_000),
                    }],
                    fixed_costs: vec![plans::FixedCostLine {
                        category: plans::FixedCostCategory::HomeAndContents as i32,
                        description: String::new(),
                        monthly_amount: money(currency, 250_000),
                    }],
                    flexible_costs: vec![plans::FlexibleCostLine {
                        category: plans::FlexibleCostCategory::FoodAndHousekeeping as i32,
                        description: String::new(),
                        monthly_amount: money(currency, 120_000),
                    }],
                    ..Default::default()
                }),
                submitted_by: agent("agent-demo"),
            })
            .await
            .context("income and expenditure")?;
        seeded.hardship_cases += 1;
        if *who == 1 {
            let options = plan_client
                .get_plan_options(plans::GetPlanOptionsRequest {
                    account_id: account.clone(),
                    case_id: case.clone(),
                    payday: 0,
                    locale: String::new(),
                })
                .await
                .context("plan options")?
                .into_inner()
                .options;
            let chosen = options.first().context("no plan options")?;
            let plan = plan_client
                .accept_plan(plans::AcceptPlanRequest {
                    account_id: account.clone(),
                    case_id: case.clone(),
                    option_id: chosen.option_id.clone(),
                    accepted_by: agent("agent-demo"),
                    agreement: Some(plans::CustomerAgreement {
                        method: plans::AgreementMethod::RecordedCall as i32,
                        evidence_ref: "demo-call".into(),
                        agreed_at: None,
                    }),
                    request_id: "demo-accept".into(),
                })
                .await
                .context("accepting a plan")?
                .into_inner()
                .plan
                .context("plans answered without a plan")?;
            if let Some(first) = plan.schedule.first() {
                plan_client
                    .record_plan_payment(plans::RecordPlanPaymentRequest {
                        plan_id: plan.plan_id.clone(),
                        idempotency_key: "demo-payment-1".into(),
                        amount: first.amount.clone(),
                        received_at: None,
                        source_reference: String::new(),
                    })
                    .await
                    .context("a plan payment")?;
            }
            seeded.plans += 1;
            if let Some(next) = plan.schedule.get(1) {
                keep_in_touch(&connection, &ids[*who], account, &case, next).await?;
            }
        }
    }

    // Ana refers Tomasz, who signs up; she vouches for him.
    seeded.referrals += 1;
    let mut referral_client = ReferralServiceClient::new(connection);
    let code = referral_client
        .issue_referral_code(referrals::IssueReferralCodeRequest {
            customer_id: ids[0].clone(),
        })
        .await
        .context("a referral code")?
        .into_inner()
        .referral_code
        .context("referrals answered without a code")?
        .code;
    let referral = referral_client
        .create_referral(referrals::CreateReferralRequest {
            referrer_customer_id: ids[0].clone(),
            code: code.clone(),
            prospect: Some(referrals::ProspectContact {
                name: "Tomasz Wójcik".into(),
                email: "tomasz.wojcik@example.pl".into(),
                ..Default::default()
            }),
            device: None,
            request_id: "demo-referral".into(),
        })
        .await
        .context("a referral")?
        .into_inner()
        .referral
        .context("referrals answered without a referral")?;
    let vouch = referral_client
        .request_vouch(referrals::RequestVouchRequest {
            voucher_customer_id: ids[0].clone(),
            prospect: Some(referrals::request_vouch_request::Prospect::ProspectId(
                referral.prospect_id.clone(),
            )),
            requested_by: agent("branch-demo"),
            request_id: "demo-vouch".into(),
        })
        .await
        .context("a vouch request")?
        .into_inner()
        .vouch
        .context("referrals answered without a vouch")?;
    referral_client
        .respond_to_vouch(referrals::RespondToVouchRequest {
            vouch_id: vouch.vouch_id,
            answer: referrals::VouchAnswer::Vouch as i32,
            relationship: referrals::Relationship::Colleague as i32,
            years_known: 6,
            comment: String::new(),
        })
        .await
        .context("a vouch")?;
    referral_client
        .attribute_signup(referrals::AttributeSignupRequest {
            code,
            referee_customer_id: ids[10].clone(),
            referral_id: referral.referral_id,
            request_id: "demo-signup".into(),
            ..Default::default()
        })
        .await
        .context("attributing the sign-up")?;
    Ok(seeded)
}

/// The customer in hardship refers a friend (a prospect who has not signed up yet).
async fn refer_a_friend(connection: &Connection, customer: &str) -> anyhow::Result<()> {
    let mut referral_client = ReferralServiceClient::new(connection.clone());
    let code = referral_client
        .issue_referral_code(referrals::IssueReferralCodeRequest {
            customer_id: customer.to_owned(),
        })
        .await
        .context("a referral code for the customer in hardship")?
        .into_inner()
        .referral_code
        .context("referrals answered without a code")?
        .code;
    referral_client
        .create_referral(referrals::CreateReferralRequest {
            referrer_customer_id: customer.to_owned(),
            code,
            prospect: Some(referrals::ProspectContact {
                name: "Ioana Marin".into(),
                email: "ioana.marin@example.ro".into(),
                ..Default::default()
            }),
            device: None,
            request_id: "demo-referral-in-hardship".into(),
        })
        .await
        .context("a referral by the customer in hardship")?;
    Ok(())
}

/// After the customer in hardship accepted his plan: a breathing space while he finds work (unless
/// the plan he chose already holds one), his promise to pay the next installment on its due date,
/// and the call-back the agent promised him for that day.
async fn keep_in_touch(
    connection: &Connection,
    customer: &str,
    account: &str,
    case: &str,
    next: &plans::Installment,
) -> anyhow::Result<()> {
    let mut hardship = HardshipServiceClient::new(connection.clone());
    let in_force = hardship
        .list_protections(plans::ListProtectionsRequest {
            customer_id: customer.to_owned(),
            ..Default::default()
        })
        .await
        .context("the protections in force")?
        .into_inner()
        .protections;
    if in_force.is_empty() {
        hardship
            .set_protection(plans::SetProtectionRequest {
                customer_id: customer.to_owned(),
                account_ids: vec![account.to_owned()],
                kind: plans::ProtectionKind::BreathingSpace as i32,
                starts_at: None,
                reference: "DEMO-BS-0001".into(),
                reason: String::new(),
                case_id: case.to_owned(),
                set_by: agent("agent-demo"),
                request_id: "demo-breathing-space".into(),
            })
            .await
            .context("a breathing space")?;
    }
    PlanServiceClient::new(connection.clone())
        .record_promise_to_pay(plans::RecordPromiseToPayRequest {
            account_id: account.to_owned(),
            amount: next.amount.clone(),
            promised_date: next.due_date,
            channel: common::Channel::Phone as i32,
            recorded_by: agent("agent-demo"),
            note: String::new(),
            request_id: "demo-promise".into(),
        })
        .await
        .context("a promise to pay")?;
    ProfileServiceClient::new(connection.clone())
        .record_commitment(profiles::RecordCommitmentRequest {
            commitment: Some(profiles::Commitment {
                customer_id: customer.to_owned(),
                description: "Call back on the next payment date to check the plan still fits."
                    .into(),
                promised_by: agent("agent-demo"),
                due_date: next.due_date,
                ..Default::default()
            }),
            request_id: "demo-commitment".into(),
        })
        .await
        .context("a commitment to the customer")?;
    Ok(())
}

/// Where and how the demo reaches the suite `rapport dev` serves at `address`: in plaintext
/// without a token, or with `security` over mutual TLS with the development client certificate
/// and a fresh [`DEMO_SUBJECT`] token signed with the development secret.
pub fn target(
    address: SocketAddr,
    security: Option<&DevMaterial>,
) -> anyhow::Result<(String, Credentials)> {
    // Listening on every interface: the demo, on the same machine, uses loopback.
    let ip = match address.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    let address = SocketAddr::new(ip, address.port());
    let Some(material) = security else {
        return Ok((format!("http://{address}"), Credentials::default()));
    };
    let secret = rapport_security::token::read_secret(&material.secret)
        .context("reading the development token secret")?;
    let token =
        rapport_security::dev::mint_hs256(&secret, DEMO_SUBJECT, &DEMO_ROLES, DEMO_TOKEN_LIFETIME)
            .context("minting the demo's token")?;
    Ok((
        format!("https://{address}"),
        Credentials {
            token: Some(token),
            tls: rapport_clients::ClientSettings {
                ca_file: Some(material.ca.clone()),
                certificate_file: Some(material.client_certificate.clone()),
                key_file: Some(material.client_key.clone()),
                // The development server certificate's name (see `DevMaterial::ensure`).
                domain_name: Some("localhost".to_owned()),
                token_file: None,
            },
        },
    ))
}

/// Waits (up to 30 s) until the suite at `url` answers, then seeds it once.
pub async fn seed_when_ready(url: &str, data_dir: &Path) -> anyhow::Result<Option<Seeded>> {
    seed_when_ready_with(url, &Credentials::default(), data_dir).await
}

/// As [`seed_when_ready`], for a secured suite: with TLS and a token (see [`target`]).
pub async fn seed_when_ready_with(
    url: &str,
    credentials: &Credentials,
    data_dir: &Path,
) -> anyhow::Result<Option<Seeded>> {
    let mut last = None;
    for _ in 0..300 {
        if let Ok(connection) = crate::agent::connect_with(url, credentials).await {
            // Calls answer UNAVAILABLE until every service's storage is migrated.
            match LoyaltyServiceClient::new(connection.clone())
                .get_nps(loyalty::GetNpsRequest::default())
                .await
            {
                Ok(_) => return seed_once(connection, data_dir).await,
                Err(status) => last = Some(status.message().to_owned()),
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!(
        "the suite did not become ready: {}",
        last.unwrap_or_default()
    )
}
