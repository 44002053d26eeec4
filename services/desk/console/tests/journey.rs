//! An agent's journey through the console against the real suite, in-process: profiles, plans,
//! referrals, loyalty and desk on one free port (as `rapport dev` runs them), the console's
//! routes called as a browser would (forms, redirects, Origin). Find the customer, see the
//! overview, open a hardship case, take income and expenditure, see the options, accept one
//! (twice: once accepted), and record a promise to pay.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rapport_clock::ManualClock;
use rapport_desk_console::{ConsoleSettings, router};
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;
use rapport_proto::plans::v1::account_service_client::AccountServiceClient;
use rapport_proto::plans::v1::plan_service_client::PlanServiceClient;
use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;
use rapport_security::Role;
use rapport_server::ServerSettings;
use rapport_server::testing::TestServer;
use rapport_storage::testing::TestDatabase;
use tower::ServiceExt;

const CONSOLE: &str = "http://console.test";

const SECRET: &str = "console-journey-test-secret-0123456789-abcdefgh";

struct Suite {
    server: TestServer,
    _databases: Vec<TestDatabase>,
    _keys: Option<tempfile::TempDir>,
}

fn mint(subject: &str, roles: &[Role]) -> String {
    rapport_security::dev::mint_hs256(
        SECRET.as_bytes(),
        subject,
        roles,
        std::time::Duration::from_secs(3600),
    )
    .expect("a token")
}

/// `message` with `token` as its bearer token, when there is one.
fn with<T>(token: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(token) = token {
        request.metadata_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header text"),
        );
    }
    request
}

/// The four and desk on one address, on a clock stopped on Monday 2 March 2026, 09:00 UTC;
/// `secured`: checking HS256 bearer tokens, as `rapport dev --secure` does.
async fn suite(secured: bool) -> Suite {
    let mut settings = ServerSettings::default();
    let mut client = rapport_clients::ClientSettings::default();
    let keys = secured.then(|| tempfile::tempdir().expect("a directory"));
    if let Some(dir) = &keys {
        let secret_file = dir.path().join("secret");
        std::fs::write(&secret_file, SECRET).expect("written");
        let service_token = dir.path().join("service.token");
        std::fs::write(&service_token, mint("rapport-suite", &[Role::Service])).expect("written");
        settings.auth = rapport_security::AuthSettings {
            mode: rapport_security::AuthMode::Jwt,
            issuer: rapport_security::dev::DEV_ISSUER.to_owned(),
            audience: rapport_security::dev::DEV_AUDIENCE.to_owned(),
            hs256_secret_file: Some(secret_file),
            ..rapport_security::AuthSettings::default()
        };
        client.token_file = Some(service_token);
    }
    let clock = Arc::new(ManualClock::new(
        "2026-03-02T09:00:00Z".parse().expect("an instant"),
    ));
    let databases: Vec<TestDatabase> = (0..4).map(|_| TestDatabase::sqlite()).collect();
    let server = TestServer::start_with(settings.clone(), |address| {
        let url = format!("http://{address}");
        let profiles = rapport_profiles::assemble(
            &rapport_profiles::Settings {
                server: settings.clone(),
                storage: databases[0].settings.clone(),
                client: client.clone(),
                loyalty_url: url.clone(),
                plans_url: url.clone(),
                referrals_url: url.clone(),
                ..rapport_profiles::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let plans = rapport_plans::assemble(
            &rapport_plans::Settings {
                server: settings.clone(),
                storage: databases[1].settings.clone(),
                client: client.clone(),
                profiles_url: url.clone(),
                loyalty_url: url.clone(),
                referrals_url: url.clone(),
                ..rapport_plans::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let referrals = rapport_referrals::assemble(
            &rapport_referrals::Settings {
                server: settings.clone(),
                storage: databases[2].settings.clone(),
                client: client.clone(),
                profiles_url: url.clone(),
                loyalty_url: url.clone(),
                ..rapport_referrals::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let loyalty = rapport_loyalty::assemble(
            &rapport_loyalty::Settings {
                server: settings.clone(),
                storage: databases[3].settings.clone(),
                client: client.clone(),
                profiles_url: url.clone(),
                ..rapport_loyalty::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        let desk = rapport_desk::assemble(
            &rapport_desk::Settings {
                server: settings.clone(),
                client: rapport_clients::ClientSettings {
                    token_file: None,
                    ..client.clone()
                },
                desk: rapport_desk::DeskSettings {
                    profiles_url: url.clone(),
                    plans_url: url.clone(),
                    referrals_url: url.clone(),
                    loyalty_url: url,
                    // Generous: the test machine compiles other crates meanwhile.
                    budget_ms: 3_000,
                    console_listen: None,
                },
                ..rapport_desk::Settings::default()
            },
            clock.clone(),
        )
        .map_err(|e| e.to_string())?;
        Ok::<_, String>(vec![profiles, plans, referrals, loyalty, desk])
    })
    .await;
    Suite {
        server,
        _databases: databases,
        _keys: keys,
    }
}

fn ron(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "RON".into(),
        minor_units,
    })
}

/// Ana, in Bucharest, 35 days behind on a RON card: as core banking and billing report her.
async fn ana(suite: &Suite, token: Option<&str>) -> (String, String) {
    let channel = suite.server.channel.clone();
    let customer_id = ProfileServiceClient::new(channel.clone())
        .create_customer(with(
            token,
            profiles::CreateCustomerRequest {
                customer: Some(profiles::Customer {
                    legal_name: "Ana Popescu".into(),
                    locale: "ro-RO".into(),
                    time_zone: "Europe/Bucharest".into(),
                    ..Default::default()
                }),
                request_id: String::new(),
            },
        ))
        .await
        .expect("created")
        .into_inner()
        .customer
        .expect("a customer")
        .customer_id;
    let mut accounts = AccountServiceClient::new(channel);
    let account_id = accounts
        .upsert_account(with(
            token,
            plans::UpsertAccountRequest {
                source_system: "cards".into(),
                external_account_id: "CARD-1".into(),
                customer_id: customer_id.clone(),
                kind: plans::AccountKind::CreditCard as i32,
                currency_code: "RON".into(),
                balance: ron(120_000),
                contractual_payment: ron(10_000),
                annual_rate: "0.199".into(),
                due_day: 10,
                remaining_term_months: 0,
                jurisdiction: "GB".into(),
                as_of: None,
            },
        ))
        .await
        .expect("upserted")
        .into_inner()
        .account
        .expect("an account")
        .account_id;
    accounts
        .report_arrears(with(
            token,
            plans::ReportArrearsRequest {
                account_id: account_id.clone(),
                days_past_due: 35,
                arrears_amount: ron(20_000),
                as_of: None,
            },
        ))
        .await
        .expect("reported");
    (customer_id, account_id)
}

struct Page {
    status: StatusCode,
    location: Option<String>,
    html: String,
}

async fn send(app: &Router, request: Request<Body>) -> Page {
    let response = app.clone().oneshot(request).await.expect("a response");
    let status = response.status();
    let location = response
        .headers()
        .get(header::LOCATION)
        .map(|l| l.to_str().expect("text").to_owned());
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    Page {
        status,
        location,
        html: String::from_utf8_lossy(&body).into_owned(),
    }
}

async fn get(app: &Router, path: &str) -> Page {
    get_as(app, path, None).await
}

async fn get_as(app: &Router, path: &str, cookie: Option<&str>) -> Page {
    let mut request = Request::get(format!("{CONSOLE}{path}")).header(header::HOST, "console.test");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::empty()).expect("request")).await
}

async fn post(app: &Router, path: &str, form: &[(&str, &str)]) -> Page {
    post_as(app, path, form, None).await
}

async fn post_as(app: &Router, path: &str, form: &[(&str, &str)], cookie: Option<&str>) -> Page {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut request = Request::post(format!("{CONSOLE}{path}"))
        .header(header::HOST, "console.test")
        .header(header::ORIGIN, CONSOLE)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(cookie) = cookie {
        request = request.header(header::COOKIE, cookie);
    }
    send(app, request.body(Body::from(body)).expect("request")).await
}

/// Signs in with `token` and returns the session cookie to send back.
async fn sign_in(app: &Router, token: &str) -> String {
    let response = app
        .clone()
        .oneshot(
            Request::post(format!("{CONSOLE}/session"))
                .header(header::HOST, "console.test")
                .header(header::ORIGIN, CONSOLE)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(Body::from(format!("token={token}")))
                .expect("request"),
        )
        .await
        .expect("a response");
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let cookie = response.headers()[header::SET_COOKIE]
        .to_str()
        .expect("text")
        .to_owned();
    cookie.split(';').next().expect("name=value").to_owned()
}

/// The value of the first `<input … name="{name}" value="…">` at or after `from` in `html`.
fn input_value(html: &str, name: &str, from: usize) -> String {
    let needle = format!(r#"name="{name}" value=""#);
    let start = html[from..].find(&needle).expect(name) + from + needle.len();
    let end = html[start..].find('"').expect("closing quote") + start;
    html[start..end].to_owned()
}

#[tokio::test]
async fn an_agent_finds_a_customer_opens_a_case_and_agrees_a_plan_once() {
    let suite = suite(false).await;
    let (customer_id, account_id) = ana(&suite, None).await;
    let app = router(ConsoleSettings::for_suite(
        &format!("http://{}", suite.server.address),
        rapport_clients::ClientSettings::default(),
        false,
    ))
    .expect("valid settings");

    // Find: by name without her diacritics or case, POSTed and answered at once.
    let found = post(&app, "/search", &[("name", "ana")]).await;
    assert_eq!(found.status, StatusCode::OK, "{}", found.html);
    let overview_path = format!("/customers/{customer_id}");
    assert!(found.html.contains(&format!(r#"href="{overview_path}""#)));
    assert!(
        found
            .html
            .contains(r#"<bdi lang="ro-RO" dir="auto">Ana Popescu</bdi>"#)
    );

    // Overview: money in her locale, and the way into hardship.
    let overview = get(&app, &overview_path).await;
    assert_eq!(overview.status, StatusCode::OK, "{}", overview.html);
    assert!(overview.html.contains("1.200,00 RON"), "{}", overview.html);
    assert!(overview.html.contains("200,00 RON (35 days past due"));
    let open_path = format!("/customers/{customer_id}/hardship/new?account_id={account_id}");
    assert!(overview.html.contains(&open_path), "{}", overview.html);

    // Open a case; the same form sent twice opens one case.
    let form = get(&app, &open_path).await;
    let request_id = input_value(&form.html, "request_id", 0);
    let fields = [
        ("request_id", request_id.as_str()),
        ("account_id", account_id.as_str()),
        ("reason", "HARDSHIP_REASON_REDUCED_INCOME"),
        ("reason_detail", "Hours cut at work"),
    ];
    let opened = post(&app, &format!("/customers/{customer_id}/hardship"), &fields).await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.html);
    let case_location = opened.location.expect("to the case");
    let again = post(&app, &format!("/customers/{customer_id}/hardship"), &fields).await;
    assert_eq!(again.location.as_deref(), Some(case_location.as_str()));
    let case_path = case_location.split('?').next().expect("a path").to_owned();
    let case_id = case_path.rsplit('/').next().expect("an id").to_owned();

    // Income and expenditure: a mistake is shown beside its field with everything kept.
    let statement_path = format!("{case_path}/income-expenditure");
    let wrong = post(
        &app,
        &statement_path,
        &[
            ("currency", "RON"),
            ("household.adults", "1"),
            ("income.EARNINGS", "4500"),
            ("fixed.HOME_AND_CONTENTS", "2500"),
            ("flexible.FOOD_AND_HOUSEKEEPING", "1000.555"),
        ],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        wrong
            .html
            .contains(r#"id="statement-flexible-FOOD_AND_HOUSEKEEPING-error""#)
    );
    assert!(
        wrong
            .html
            .contains(r#"aria-describedby="statement-flexible-FOOD_AND_HOUSEKEEPING-error""#)
    );
    assert!(
        wrong
            .html
            .contains(r#"name="income.EARNINGS" value="4500""#)
    );
    let saved = post(
        &app,
        &statement_path,
        &[
            ("currency", "RON"),
            ("household.adults", "1"),
            ("income.EARNINGS", "4500"),
            ("fixed.HOME_AND_CONTENTS", "2500"),
            ("flexible.FOOD_AND_HOUSEKEEPING", "1000"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.html);
    let case = get(&app, &case_path).await;
    assert!(
        case.html.contains("1.000,00 RON</strong> a month"),
        "{}",
        case.html
    );

    // Options for the case; accepting the first twice (a double click) makes one plan.
    let options = get(
        &app,
        &format!("/customers/{customer_id}/accounts/{account_id}/options?case_id={case_id}"),
    )
    .await;
    assert_eq!(options.status, StatusCode::OK, "{}", options.html);
    assert!(options.html.contains("Option 1: "));
    assert!(
        options
            .html
            .contains("Ana, thank you for talking this through with me.")
    );
    let form_at = options
        .html
        .find(r#"data-testid="accept-form""#)
        .expect("an accept form");
    let option_id = input_value(&options.html, "option_id", form_at);
    let request_id = input_value(&options.html, "request_id", form_at);
    let accept = [
        ("option_id", option_id.as_str()),
        ("request_id", request_id.as_str()),
        ("case_id", case_id.as_str()),
        ("rank", "1"),
        ("agreement.method", "AGREEMENT_METHOD_RECORDED_CALL"),
        ("agreement.evidence_ref", "call-0001"),
    ];
    let plan_path = format!("/customers/{customer_id}/accounts/{account_id}/plan");
    for _ in 0..2 {
        let accepted = post(&app, &plan_path, &accept).await;
        assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.html);
        assert_eq!(
            accepted.location.as_deref(),
            Some(format!("{overview_path}?notice=plan-accepted").as_str())
        );
    }
    let plans = PlanServiceClient::new(suite.server.channel.clone())
        .list_plans(plans::ListPlansRequest {
            account_id: account_id.clone(),
            ..Default::default()
        })
        .await
        .expect("listed")
        .into_inner()
        .plans;
    assert_eq!(plans.len(), 1, "one plan however often the form is sent");
    let after = get(&app, &format!("{overview_path}?notice=plan-accepted")).await;
    assert!(after.html.contains("The plan was accepted."));
    assert!(after.html.contains("— active"), "{}", after.html);

    // A promise to pay: a past date is refused beside the date, the amount kept.
    let promise_path = format!("/customers/{customer_id}/accounts/{account_id}/promise");
    let form = get(&app, &promise_path).await;
    let request_id = input_value(&form.html, "request_id", 0);
    let past = post(
        &app,
        &promise_path,
        &[
            ("request_id", request_id.as_str()),
            ("currency", "RON"),
            ("amount", "150,50"),
            ("promised_date", "2026-02-01"),
        ],
    )
    .await;
    assert_eq!(
        past.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        past.html
    );
    assert!(
        past.html.contains(r#"id="promise-promised_date-error""#),
        "{}",
        past.html
    );
    assert!(past.html.contains(r#"name="amount" value="150,50""#));
    let promised = post(
        &app,
        &promise_path,
        &[
            ("request_id", request_id.as_str()),
            ("currency", "RON"),
            ("amount", "150,50"),
            ("promised_date", "2026-03-10"),
        ],
    )
    .await;
    assert_eq!(promised.status, StatusCode::SEE_OTHER, "{}", promised.html);
    let last = get(&app, &overview_path).await;
    assert!(last.html.contains("150,50 RON by"), "{}", last.html);
}

#[tokio::test]
async fn with_tokens_each_agent_acts_as_themselves_and_a_missing_permission_is_named() {
    let suite = suite(true).await;
    let billing = mint("core-banking", &[Role::BillingSystem, Role::Agent]);
    let (customer_id, account_id) = ana(&suite, Some(&billing)).await;
    let app = router(ConsoleSettings::for_suite(
        &format!("http://{}", suite.server.address),
        rapport_clients::ClientSettings::default(),
        true,
    ))
    .expect("valid settings");

    let anonymous = get(&app, &format!("/customers/{customer_id}")).await;
    assert_eq!(anonymous.status, StatusCode::SEE_OTHER);
    assert_eq!(anonymous.location.as_deref(), Some("/sign-in"));

    // An agent opens a case: the suite checks the actor against the agent's own token.
    let agent = sign_in(&app, &mint("agent-42", &[Role::Agent])).await;
    let found = post_as(&app, "/search", &[("name", "popescu")], Some(&agent)).await;
    assert!(
        found.html.contains(&format!("/customers/{customer_id}")),
        "{}",
        found.html
    );
    let fields = [
        ("request_id", "journey-open-1"),
        ("account_id", account_id.as_str()),
        ("reason", "HARDSHIP_REASON_ILLNESS"),
    ];
    let opened = post_as(
        &app,
        &format!("/customers/{customer_id}/hardship"),
        &fields,
        Some(&agent),
    )
    .await;
    assert_eq!(opened.status, StatusCode::SEE_OTHER, "{}", opened.html);

    // An auditor may not: the refusal names the permission at the action.
    let auditor = sign_in(&app, &mint("auditor-7", &[Role::Auditor])).await;
    let refused = post_as(
        &app,
        &format!("/customers/{customer_id}/hardship"),
        &[
            ("request_id", "journey-open-2"),
            ("account_id", account_id.as_str()),
            ("reason", "HARDSHIP_REASON_ILLNESS"),
        ],
        Some(&auditor),
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.html);
    assert!(
        refused
            .html
            .contains("You do not have permission to open a hardship case"),
        "{}",
        refused.html
    );
    assert!(
        refused.html.contains("(permission <code>"),
        "{}",
        refused.html
    );

    // Each session is its own agent's.
    let overview = get_as(&app, &format!("/customers/{customer_id}"), Some(&agent)).await;
    assert_eq!(overview.status, StatusCode::OK);
    assert!(overview.html.contains("Signed in as agent-42"));
}
