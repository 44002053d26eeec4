//! Hardship: open a case for an account (GET /customers/{id}/hardship/new, POST
//! /customers/{id}/hardship), and a case's page (GET /customers/{id}/cases/{case}) with its
//! affordability, the income & expenditure form in the shape of the UK Standard Financial
//! Statement (POST …/income-expenditure), the referral to debt advice (POST …/debt-advice) and
//! the way to the payment-plan options.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{StatusCode, Uri};
use maud::{Markup, html};
use rapport_proto::plans::v1 as plans;

use super::{Person, person, request_key};
use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::form::{Form, parse_amount};
use crate::format::{Audience, enum_words, name, words};
use crate::layout::{Kind, failure_banner, field, notice, page as shell, respond};
use crate::session::Agent;

const OPEN_FORM: &str = "open-case";
const STATEMENT_FORM: &str = "statement";
const REFER_FORM: &str = "refer";

const INCOME: &[plans::IncomeCategory] = &[
    plans::IncomeCategory::Earnings,
    plans::IncomeCategory::PartnerEarnings,
    plans::IncomeCategory::Benefits,
    plans::IncomeCategory::Pension,
    plans::IncomeCategory::ChildMaintenance,
    plans::IncomeCategory::Other,
];
const FIXED: &[plans::FixedCostCategory] = &[
    plans::FixedCostCategory::HomeAndContents,
    plans::FixedCostCategory::Utilities,
    plans::FixedCostCategory::CareAndHealth,
    plans::FixedCostCategory::TransportAndTravel,
    plans::FixedCostCategory::School,
    plans::FixedCostCategory::PensionsAndInsurance,
    plans::FixedCostCategory::Professional,
    plans::FixedCostCategory::PriorityDebts,
    plans::FixedCostCategory::OtherEssential,
];
const FLEXIBLE: &[plans::FlexibleCostCategory] = &[
    plans::FlexibleCostCategory::CommunicationsAndLeisure,
    plans::FlexibleCostCategory::FoodAndHousekeeping,
    plans::FlexibleCostCategory::Personal,
];

fn reason_options() -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "Choose a reason".to_owned())];
    for value in 1..=10 {
        if let Ok(reason) = plans::HardshipReason::try_from(value) {
            options.push((
                reason.as_str_name().to_owned(),
                words(reason.as_str_name(), "HARDSHIP_REASON_"),
            ));
        }
    }
    options
}

// ------------------------------------------------------------------ open a case

pub(crate) async fn open_page(
    State(console): State<Console>,
    Path(customer_id): Path<String>,
    agent: Agent,
    uri: Uri,
) -> Response {
    let mut form = Form::default();
    form.set("account_id", super::query(&uri, "account_id"));
    form.set("request_id", request_key());
    render_open(&console, &agent, &customer_id, &form, None).await
}

pub(crate) async fn open(
    State(console): State<Console>,
    Path(customer_id): Path<String>,
    agent: Agent,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let reason = plans::HardshipReason::from_str_name(form.get("reason")).map_or(0, |r| r as i32);
    if reason == 0 {
        let failure = Failure::field("reason", "Choose the reason for the hardship.");
        return render_open(&console, &agent, &customer_id, &form, Some(&failure)).await;
    }
    let request = plans::OpenHardshipCaseRequest {
        customer_id: customer_id.clone(),
        account_ids: vec![form.trimmed("account_id")],
        reason,
        reason_detail: form.trimmed("reason_detail"),
        opened_by: Some(agent.actor()),
        request_id: form.trimmed("request_id"),
    };
    let answer = console
        .suite
        .hardship
        .clone()
        .open_hardship_case(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(answer) => {
            let case_id = answer
                .into_inner()
                .hardship_case
                .map(|c| c.case_id)
                .unwrap_or_default();
            Redirect::to(&format!(
                "/customers/{customer_id}/cases/{case_id}?notice=case-opened"
            ))
            .into_response()
        }
        Err(status) => {
            let mut map = FieldMap::same(&["reason", "reason_detail"]);
            map.add("account_ids", "account_id");
            let failure = Failure::from_status(&status, &map);
            render_open(&console, &agent, &customer_id, &form, Some(&failure)).await
        }
    }
}

async fn render_open(
    console: &Console,
    agent: &Agent,
    customer_id: &str,
    form: &Form,
    failure: Option<&Failure>,
) -> Response {
    let chrome = console.chrome(agent);
    let person = match person(console, agent, customer_id).await {
        Ok(person) => person,
        Err(status) => {
            return load_failed(
                console,
                agent,
                &status,
                "show the open-case form",
                failure.map(|f| (f, "open a hardship case")),
            );
        }
    };
    let accounts = console
        .suite
        .accounts
        .clone()
        .list_accounts(console.suite.request(
            plans::ListAccountsRequest {
                customer_id: customer_id.to_owned(),
                in_arrears_only: false,
                stages: Vec::new(),
                page: None,
            },
            agent,
        ))
        .await
        .map(|a| a.into_inner().accounts)
        .unwrap_or_default();
    let account_options: Vec<(String, String)> = accounts
        .iter()
        .map(|a| {
            (
                a.account_id.clone(),
                format!(
                    "{} {} — arrears {}",
                    words(
                        plans::AccountKind::try_from(a.kind).map_or("", |k| k.as_str_name()),
                        "ACCOUNT_KIND_"
                    ),
                    a.external_account_id,
                    person.audience.money(a.arrears_amount.as_ref())
                ),
            )
        })
        .collect();
    let reasons = reason_options();
    let status = failure.map_or(StatusCode::OK, Failure::http_status);
    let body = html! {
        h1 { "Open a hardship case" }
        p { "For " (name(&person.name, &person.audience.locale)) ". " a href={ "/customers/" (customer_id) } { "Back to the overview" } }
        @if let Some(failure) = failure { (failure_banner(failure, "open a hardship case")) }
        form method="post" action={ "/customers/" (customer_id) "/hardship" } class="stack" data-testid="open-case-form" {
            input type="hidden" name="request_id" value=(form.get("request_id"));
            (field(OPEN_FORM, "account_id", "Account", Kind::Select(&account_options), form, failure, None))
            (field(OPEN_FORM, "reason", "Reason", Kind::Select(&reasons), form, failure, None))
            (field(OPEN_FORM, "reason_detail", "What happened (optional)", Kind::TextArea, form, failure, Some("In the customer's words where possible; at most 4000 characters.")))
            button type="submit" { "Open hardship case" }
        }
    };
    respond(status, shell(&chrome, "Open a hardship case", body))
}

// ------------------------------------------------------------------ the case page

pub(crate) async fn case_page(
    State(console): State<Console>,
    Path((customer_id, case_id)): Path<(String, String)>,
    agent: Agent,
    uri: Uri,
) -> Response {
    let code = super::query(&uri, "notice");
    render_case(
        &console,
        &agent,
        &customer_id,
        &case_id,
        Posted::None,
        Some(&code),
    )
    .await
}

/// Which of the case page's forms was posted, with what was typed and why it was refused.
enum Posted<'a> {
    None,
    Statement(&'a Form, &'a Failure),
    Referral(&'a Form, &'a Failure),
}

impl<'a> Posted<'a> {
    /// The refusal, with what was tried.
    fn failure(&self) -> Option<(&'a Failure, &'static str)> {
        match self {
            Self::None => None,
            Self::Statement(_, failure) => Some((failure, "save income and expenditure")),
            Self::Referral(_, failure) => Some((failure, "refer to debt advice")),
        }
    }
}

pub(crate) async fn submit_statement(
    State(console): State<Console>,
    Path((customer_id, case_id)): Path<(String, String)>,
    agent: Agent,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let currency = form.trimmed("currency");
    let mut statement = plans::IncomeExpenditure::default();
    let mut map = FieldMap::new();
    let mut problems: Option<Failure> = None;
    let mut note = |input: &str, sentence: String| {
        problems = Some(match problems.take() {
            Some(f) => f.merge_field(input, sentence),
            None => Failure::field(input, sentence),
        });
    };
    let mut household = plans::Household::default();
    for (input, slot) in [
        ("household.adults", &mut household.adults),
        ("household.children", &mut household.children),
        ("household.vehicles", &mut household.vehicles),
    ] {
        map.add(format!("income_expenditure.{input}"), input);
        let text = form.trimmed(input);
        if text.is_empty() {
            continue;
        }
        match text.parse::<i32>() {
            Ok(n) if (0..=255).contains(&n) => *slot = n,
            _ => note(input, "Enter a whole number from 0 to 255.".to_owned()),
        }
    }
    statement.household = Some(household);
    let mut amount = |input: &str| -> Option<rapport_proto::common::v1::Money> {
        let text = form.trimmed(input);
        if text.is_empty() {
            return None;
        }
        match parse_amount(&text, &currency) {
            // Checked here as well as by the suite, so every problem is shown at once.
            Ok(money) if money.minor_units < 0 => {
                note(input, "Must not be negative.".to_owned());
                None
            }
            Ok(money) => Some(money),
            Err(sentence) => {
                note(input, sentence);
                None
            }
        }
    };
    for category in INCOME {
        let input = format!(
            "income.{}",
            category_key(category.as_str_name(), "INCOME_CATEGORY_")
        );
        if let Some(money) = amount(&input) {
            map.add(
                format!("income_expenditure.income[{}]", statement.income.len()),
                &input,
            );
            statement.income.push(plans::IncomeLine {
                category: *category as i32,
                description: String::new(),
                monthly_amount: Some(money),
            });
        }
    }
    for category in FIXED {
        let input = format!(
            "fixed.{}",
            category_key(category.as_str_name(), "FIXED_COST_CATEGORY_")
        );
        if let Some(money) = amount(&input) {
            map.add(
                format!(
                    "income_expenditure.fixed_costs[{}]",
                    statement.fixed_costs.len()
                ),
                &input,
            );
            statement.fixed_costs.push(plans::FixedCostLine {
                category: *category as i32,
                description: String::new(),
                monthly_amount: Some(money),
            });
        }
    }
    for category in FLEXIBLE {
        let input = format!(
            "flexible.{}",
            category_key(category.as_str_name(), "FLEXIBLE_COST_CATEGORY_")
        );
        if let Some(money) = amount(&input) {
            map.add(
                format!(
                    "income_expenditure.flexible_costs[{}]",
                    statement.flexible_costs.len()
                ),
                &input,
            );
            statement.flexible_costs.push(plans::FlexibleCostLine {
                category: *category as i32,
                description: String::new(),
                monthly_amount: Some(money),
            });
        }
    }
    statement.savings_allowance = amount("savings_allowance");
    map.add("income_expenditure.savings_allowance", "savings_allowance");
    if let Some(failure) = problems {
        return render_case(
            &console,
            &agent,
            &customer_id,
            &case_id,
            Posted::Statement(&form, &failure),
            None,
        )
        .await;
    }
    let request = plans::SubmitIncomeExpenditureRequest {
        case_id: case_id.clone(),
        income_expenditure: Some(statement),
        submitted_by: Some(agent.actor()),
    };
    let answer = console
        .suite
        .hardship
        .clone()
        .submit_income_expenditure(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!(
            "/customers/{customer_id}/cases/{case_id}?notice=statement-saved#affordability-heading"
        ))
        .into_response(),
        Err(status) => {
            let failure = Failure::from_status(&status, &map);
            render_case(
                &console,
                &agent,
                &customer_id,
                &case_id,
                Posted::Statement(&form, &failure),
                None,
            )
            .await
        }
    }
}

pub(crate) async fn refer(
    State(console): State<Console>,
    Path((customer_id, case_id)): Path<(String, String)>,
    agent: Agent,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let request = plans::ReferToDebtAdviceRequest {
        case_id: case_id.clone(),
        service_id: form.trimmed("service_id"),
        referred_by: Some(agent.actor()),
        customer_consented: form.checked("customer_consented"),
        notes: form.trimmed("notes"),
    };
    let answer = console
        .suite
        .hardship
        .clone()
        .refer_to_debt_advice(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!(
            "/customers/{customer_id}/cases/{case_id}?notice=referred"
        ))
        .into_response(),
        Err(status) => {
            let map = FieldMap::same(&["service_id", "customer_consented", "notes"]);
            let failure = Failure::from_status(&status, &map);
            render_case(
                &console,
                &agent,
                &customer_id,
                &case_id,
                Posted::Referral(&form, &failure),
                None,
            )
            .await
        }
    }
}

/// "INCOME_CATEGORY_PARTNER_EARNINGS" → "PARTNER_EARNINGS": the input's name suffix.
fn category_key<'a>(name: &'a str, prefix: &str) -> &'a str {
    name.strip_prefix(prefix).unwrap_or(name)
}

/// A page that could not be loaded; what the agent had just tried, when it was refused, comes
/// first (that refusal is what they need to read).
fn load_failed(
    console: &Console,
    agent: &Agent,
    status: &tonic::Status,
    action: &str,
    posted: Option<(&Failure, &str)>,
) -> Response {
    let load = Failure::from_status(status, &FieldMap::new());
    let body = html! {
        h1 { "Hardship" }
        @if let Some((failure, tried)) = posted { (failure_banner(failure, tried)) }
        (failure_banner(&load, action))
    };
    let code = posted.map_or_else(|| load.http_status(), |(f, _)| f.http_status());
    respond(code, shell(&console.chrome(agent), "Hardship", body))
}

/// The statement as the form shows it: what was posted, else the case's latest statement.
fn statement_form(statement: Option<&plans::IncomeExpenditure>, currency: &str) -> Form {
    let mut form = Form::default();
    form.set("currency", currency);
    let Some(statement) = statement else {
        return form;
    };
    let decimal = |money: Option<&rapport_proto::common::v1::Money>| -> String {
        money
            .and_then(|m| {
                rapport_money::Currency::parse(&m.currency_code)
                    .ok()
                    .map(|c| rapport_money::Money::from_minor(c, m.minor_units).to_decimal_string())
            })
            .unwrap_or_default()
    };
    if let Some(h) = statement.household.as_ref() {
        form.set("household.adults", h.adults.to_string());
        form.set("household.children", h.children.to_string());
        form.set("household.vehicles", h.vehicles.to_string());
    }
    for line in &statement.income {
        if let Ok(c) = plans::IncomeCategory::try_from(line.category) {
            form.set(
                &format!(
                    "income.{}",
                    category_key(c.as_str_name(), "INCOME_CATEGORY_")
                ),
                decimal(line.monthly_amount.as_ref()),
            );
        }
    }
    for line in &statement.fixed_costs {
        if let Ok(c) = plans::FixedCostCategory::try_from(line.category) {
            form.set(
                &format!(
                    "fixed.{}",
                    category_key(c.as_str_name(), "FIXED_COST_CATEGORY_")
                ),
                decimal(line.monthly_amount.as_ref()),
            );
        }
    }
    for line in &statement.flexible_costs {
        if let Ok(c) = plans::FlexibleCostCategory::try_from(line.category) {
            form.set(
                &format!(
                    "flexible.{}",
                    category_key(c.as_str_name(), "FLEXIBLE_COST_CATEGORY_")
                ),
                decimal(line.monthly_amount.as_ref()),
            );
        }
    }
    form.set(
        "savings_allowance",
        decimal(statement.savings_allowance.as_ref()),
    );
    form
}

async fn render_case(
    console: &Console,
    agent: &Agent,
    customer_id: &str,
    case_id: &str,
    posted: Posted<'_>,
    notice_code: Option<&str>,
) -> Response {
    let chrome = console.chrome(agent);
    let person = match person(console, agent, customer_id).await {
        Ok(person) => person,
        Err(status) => {
            return load_failed(
                console,
                agent,
                &status,
                "show this hardship case",
                posted.failure(),
            );
        }
    };
    let detail = console
        .suite
        .hardship
        .clone()
        .get_hardship_case(console.suite.request(
            plans::GetHardshipCaseRequest {
                case_id: case_id.to_owned(),
            },
            agent,
        ))
        .await;
    let detail = match detail {
        Ok(answer) => answer.into_inner().detail.unwrap_or_default(),
        Err(status) => {
            return load_failed(
                console,
                agent,
                &status,
                "show this hardship case",
                posted.failure(),
            );
        }
    };
    let case = detail.hardship_case.clone().unwrap_or_default();
    let currency = match case.account_ids.first() {
        Some(account_id) => console
            .suite
            .accounts
            .clone()
            .get_account(console.suite.request(
                plans::GetAccountRequest {
                    account_id: account_id.clone(),
                },
                agent,
            ))
            .await
            .ok()
            .and_then(|a| a.into_inner().account)
            .map(|a| a.currency_code)
            .unwrap_or_default(),
        None => String::new(),
    };
    let status = match &posted {
        Posted::None => StatusCode::OK,
        Posted::Statement(_, failure) | Posted::Referral(_, failure) => failure.http_status(),
    };
    let body = html! {
        (notice(notice_code))
        h1 { "Hardship case" }
        p { "For " (name(&person.name, &person.audience.locale)) ". " a href={ "/customers/" (customer_id) } { "Back to the overview" } }
        dl class="facts" {
            dt { "Reason" } dd { (enum_words!(plans::HardshipReason, case.reason, "HARDSHIP_REASON_")) }
            dt { "Status" } dd { (enum_words!(plans::HardshipCaseStatus, case.status, "HARDSHIP_CASE_STATUS_")) }
            dt { "Opened" } dd { (person.audience.time(case.opened_at.as_ref())) }
            @if !case.reason_detail.is_empty() { dt { "What happened" } dd dir="auto" { (case.reason_detail) } }
            dt { "Currency" } dd { (currency) }
        }
        (affordability(&detail, &person.audience))
        (statement_section(&person, customer_id, case_id, &case, &currency, &posted))
        (referral_section(console, customer_id, case_id, &case, &person.audience, &posted))
        (options_section(customer_id, case_id, &case))
    };
    respond(status, shell(&chrome, "Hardship case", body))
}

fn affordability(detail: &plans::HardshipCaseDetail, audience: &Audience) -> Markup {
    html! {
        section aria-labelledby="affordability-heading" data-testid="affordability" {
            h2 id="affordability-heading" { "Affordability" }
            @match detail.affordability.as_ref() {
                None => { p { "No income and expenditure yet: take it below." } }
                Some(a) => {
                    dl class="facts" {
                        dt { "Income" } dd { (audience.money(a.total_income.as_ref())) }
                        dt { "Fixed costs" } dd { (audience.money(a.total_fixed_costs.as_ref())) }
                        dt { "Flexible costs" } dd { (audience.money(a.total_flexible_costs.as_ref())) }
                        dt { "Savings" } dd { (audience.money(a.savings_allowance.as_ref())) }
                        dt { "Disposable income" } dd data-testid="disposable-income" { strong { (audience.money(a.disposable_income.as_ref())) } " a month" }
                        dt { "Headroom" } dd { (audience.money(detail.headroom.as_ref())) }
                    }
                    (super::overview::flagged_costs(a, audience))
                    @if !a.reasons.is_empty() {
                        ul { @for r in &a.reasons { li { (r.message) } } }
                    }
                    p class="meta" { (trigger_figures_words(&a.trigger_figures_version)) }
                }
            }
        }
    }
}

/// "none-configured-USD" (plans' id when it has no figures for a currency) in words; any other
/// id is a version to cite.
fn trigger_figures_words(version: &str) -> String {
    match version.strip_prefix("none-configured-") {
        Some(currency) => format!("No trigger figures are set for {currency}."),
        None if version.is_empty() => "No trigger figures were used.".to_owned(),
        None => format!("Trigger figures {version}."),
    }
}

fn statement_section(
    person: &Person,
    customer_id: &str,
    case_id: &str,
    case: &plans::HardshipCase,
    currency: &str,
    posted: &Posted<'_>,
) -> Markup {
    let (form, failure) = match posted {
        Posted::Statement(form, failure) => ((*form).clone(), Some(*failure)),
        _ => (
            statement_form(case.income_expenditure.as_ref(), currency),
            None,
        ),
    };
    let money_label = |category: &str| format!("{category} ({currency} a month)");
    html! {
        section aria-labelledby="statement-heading" {
            h2 id="statement-heading" { "Income and expenditure" }
            p { "Monthly amounts in " (currency) ", in the shape of the Standard Financial Statement. Leave a line empty when it does not apply." }
            @if let Some(failure) = failure { (failure_banner(failure, "save income and expenditure")) }
            form method="post" action={ "/customers/" (customer_id) "/cases/" (case_id) "/income-expenditure" } class="stack" data-testid="statement-form" {
                input type="hidden" name="currency" value=(form.get("currency"));
                fieldset {
                    legend { "Household" }
                    (field(STATEMENT_FORM, "household.adults", "Adults", Kind::Number, &form, failure, Some("Including the customer.")))
                    (field(STATEMENT_FORM, "household.children", "Children", Kind::Number, &form, failure, None))
                    (field(STATEMENT_FORM, "household.vehicles", "Vehicles", Kind::Number, &form, failure, None))
                }
                fieldset {
                    legend { "Income" }
                    @for c in INCOME {
                        (field(STATEMENT_FORM, &format!("income.{}", category_key(c.as_str_name(), "INCOME_CATEGORY_")), &money_label(&words(c.as_str_name(), "INCOME_CATEGORY_")), Kind::Amount, &form, failure, None))
                    }
                }
                fieldset {
                    legend { "Fixed costs" }
                    @for c in FIXED {
                        (field(STATEMENT_FORM, &format!("fixed.{}", category_key(c.as_str_name(), "FIXED_COST_CATEGORY_")), &money_label(&words(c.as_str_name(), "FIXED_COST_CATEGORY_")), Kind::Amount, &form, failure, None))
                    }
                }
                fieldset {
                    legend { "Flexible costs" }
                    p class="hint" { "Costs above the trigger figures are flagged as a conversation to have; they are never cut or changed." }
                    @for c in FLEXIBLE {
                        (field(STATEMENT_FORM, &format!("flexible.{}", category_key(c.as_str_name(), "FLEXIBLE_COST_CATEGORY_")), &money_label(&words(c.as_str_name(), "FLEXIBLE_COST_CATEGORY_")), Kind::Amount, &form, failure, None))
                    }
                }
                (field(STATEMENT_FORM, "savings_allowance", &money_label("Savings"), Kind::Amount, &form, failure, None))
                button type="submit" { "Save income and expenditure" }
            }
            p class="meta" { "Customer: " (name(&person.name, &person.audience.locale)) }
        }
    }
}

fn referral_section(
    console: &Console,
    customer_id: &str,
    case_id: &str,
    case: &plans::HardshipCase,
    audience: &Audience,
    posted: &Posted<'_>,
) -> Markup {
    let (form, failure) = match posted {
        Posted::Referral(form, failure) => ((*form).clone(), Some(*failure)),
        _ => (Form::default(), None),
    };
    let mut services = vec![(String::new(), "Choose a service".to_owned())];
    services.extend(console.settings.debt_advice.iter().map(|s| {
        (
            s.service_id.clone(),
            format!("{} ({})", s.name, s.jurisdiction),
        )
    }));
    html! {
        section aria-labelledby="referral-heading" {
            h2 id="referral-heading" { "Refer to debt advice" }
            @if !case.debt_advice_referrals.is_empty() {
                ul data-testid="referrals-made" {
                    @for r in &case.debt_advice_referrals {
                        li {
                            (r.service.as_ref().map_or("", |s| s.name.as_str()))
                            @if let Some(s) = r.service.as_ref() { " (" (s.phone) ")" }
                            ", referred " (audience.time(r.referred_at.as_ref()))
                            @if r.customer_consented { ", with the customer's consent" } @else { ", without consent to share details" }
                        }
                    }
                }
            }
            @if let Some(failure) = failure { (failure_banner(failure, "refer to debt advice")) }
            form method="post" action={ "/customers/" (customer_id) "/cases/" (case_id) "/debt-advice" } class="stack" data-testid="referral-form" {
                (field(REFER_FORM, "service_id", "Debt-advice service", Kind::Select(&services), &form, failure, None))
                div class="field checkbox" {
                    input type="checkbox" id="refer-customer_consented" name="customer_consented" value="yes" checked[form.checked("customer_consented")];
                    label for="refer-customer_consented" { "The customer agreed to their details being shared with the service" }
                }
                (field(REFER_FORM, "notes", "Notes (optional)", Kind::TextArea, &form, failure, None))
                button type="submit" { "Refer to debt advice" }
            }
        }
    }
}

fn options_section(customer_id: &str, case_id: &str, case: &plans::HardshipCase) -> Markup {
    html! {
        section aria-labelledby="options-heading" {
            h2 id="options-heading" { "Payment-plan options" }
            @for (i, account_id) in case.account_ids.iter().enumerate() {
                @let id = format!("payday-{i}");
                form method="get" action={ "/customers/" (customer_id) "/accounts/" (account_id) "/options" } class="stack" data-testid="options-form" {
                    input type="hidden" name="case_id" value=(case_id);
                    div class="field" {
                        label for=(id) { "Customer's payday (day of month, optional)" }
                        input type="number" id=(id) name="payday" min="1" max="31" inputmode="numeric";
                    }
                    button type="submit" { "See payment-plan options" @if case.account_ids.len() > 1 { " for account " (i + 1) } }
                }
            }
        }
    }
}
