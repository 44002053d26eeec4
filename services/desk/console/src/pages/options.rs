//! Options (GET /customers/{id}/accounts/{account}/options?case_id=&payday=): PlanService/
//! GetPlanOptions, ranked, each with its schedule, what it costs and waives, the headroom it
//! leaves, and a script to read aloud; accepting one (POST …/plan) carries an idempotency key
//! made when the page was rendered, so a double click or a retry accepts once.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{StatusCode, Uri};
use maud::{Markup, html};
use rapport_proto::plans::v1 as plans;

use super::{Person, person, request_key};
use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::form::Form;
use crate::format::{Audience, enum_words, name};
use crate::layout::{Kind, failure_banner, field, page as shell, respond};
use crate::session::Agent;

pub(crate) async fn page(
    State(console): State<Console>,
    Path((customer_id, account_id)): Path<(String, String)>,
    agent: Agent,
    uri: Uri,
) -> Response {
    let mut form = Form::default();
    form.set("case_id", super::query(&uri, "case_id"));
    form.set("payday", super::query(&uri, "payday"));
    form.set("agreement.method", "AGREEMENT_METHOD_RECORDED_CALL");
    render(&console, &agent, &customer_id, &account_id, &form, None).await
}

pub(crate) async fn accept(
    State(console): State<Console>,
    Path((customer_id, account_id)): Path<(String, String)>,
    agent: Agent,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let method =
        plans::AgreementMethod::from_str_name(form.get("agreement.method")).map_or(0, |m| m as i32);
    let request = plans::AcceptPlanRequest {
        account_id: account_id.clone(),
        case_id: form.trimmed("case_id"),
        option_id: form.trimmed("option_id"),
        accepted_by: Some(agent.actor()),
        agreement: Some(plans::CustomerAgreement {
            method,
            evidence_ref: form.trimmed("agreement.evidence_ref"),
            agreed_at: None,
        }),
        request_id: form.trimmed("request_id"),
    };
    let answer = console
        .suite
        .plans
        .clone()
        .accept_plan(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(_) => {
            Redirect::to(&format!("/customers/{customer_id}?notice=plan-accepted")).into_response()
        }
        Err(status) => {
            let mut map = FieldMap::same(&["agreement.method", "agreement.evidence_ref"]);
            map.add("agreement", "agreement.method");
            let failure = Failure::from_status(&status, &map);
            render(
                &console,
                &agent,
                &customer_id,
                &account_id,
                &form,
                Some(&failure),
            )
            .await
        }
    }
}

fn agreement_methods() -> Vec<(String, String)> {
    [
        (
            plans::AgreementMethod::RecordedCall,
            "Said yes on a recorded call",
        ),
        (plans::AgreementMethod::InApp, "In the app"),
        (plans::AgreementMethod::Web, "On the website"),
        (plans::AgreementMethod::Written, "In writing"),
        (
            plans::AgreementMethod::DebtAdviser,
            "Through a debt adviser",
        ),
    ]
    .into_iter()
    .map(|(m, label)| (m.as_str_name().to_owned(), label.to_owned()))
    .collect()
}

async fn render(
    console: &Console,
    agent: &Agent,
    customer_id: &str,
    account_id: &str,
    form: &Form,
    failure: Option<&Failure>,
) -> Response {
    let chrome = console.chrome(agent);
    let person = match person(console, agent, customer_id).await {
        Ok(person) => person,
        Err(status) => {
            let load = Failure::from_status(&status, &FieldMap::new());
            let body = html! {
                h1 { "Payment-plan options" }
                @if let Some(failure) = failure { (failure_banner(failure, "accept a plan")) }
                (failure_banner(&load, "show payment-plan options"))
            };
            let status = failure.map_or_else(|| load.http_status(), Failure::http_status);
            return respond(status, shell(&chrome, "Payment-plan options", body));
        }
    };
    let payday_text = form.trimmed("payday");
    let payday = if payday_text.is_empty() {
        0
    } else {
        match payday_text.parse::<i32>() {
            Ok(day) if (1..=31).contains(&day) => day,
            _ => {
                // Never silently ignored: the agent sees why the payday was not used.
                let payday_failure = Failure::field(
                    "payday",
                    "Enter a day of the month from 1 to 31, or leave it empty.",
                );
                let body = html! {
                    h1 { "Payment-plan options" }
                    p { "For " (name(&person.name, &person.audience.locale)) ". " a href={ "/customers/" (customer_id) } { "Back to the overview" } }
                    (failure_banner(&payday_failure, "show payment-plan options"))
                    (payday_form(customer_id, account_id, form, Some(&payday_failure)))
                };
                return respond(
                    payday_failure.http_status(),
                    shell(&chrome, "Payment-plan options", body),
                );
            }
        }
    };
    let request = plans::GetPlanOptionsRequest {
        account_id: account_id.to_owned(),
        case_id: form.trimmed("case_id"),
        payday,
        locale: person.audience.locale.clone(),
    };
    let answer = console
        .suite
        .plans
        .clone()
        .get_plan_options(console.suite.request(request, agent))
        .await;
    let back = html! { p { "For " (name(&person.name, &person.audience.locale)) ". " a href={ "/customers/" (customer_id) } { "Back to the overview" } } };
    let options = match answer {
        Ok(answer) => answer.into_inner(),
        Err(status) => {
            let map = FieldMap::same(&["payday", "case_id"]);
            let options_failure = Failure::from_status(&status, &map);
            let body = html! {
                h1 { "Payment-plan options" }
                (back)
                @if let Some(failure) = failure { (failure_banner(failure, "accept a plan")) }
                (failure_banner(&options_failure, "show payment-plan options"))
                (payday_form(customer_id, account_id, form, Some(&options_failure)))
            };
            return respond(
                options_failure.http_status(),
                shell(&chrome, "Payment-plan options", body),
            );
        }
    };
    let status = failure.map_or(StatusCode::OK, Failure::http_status);
    let audience = &person.audience;
    let active_plan = active_plan(console, agent, account_id).await;
    let methods = agreement_methods();
    let body = html! {
        h1 { "Payment-plan options" }
        (back)
        @if let Some(failure) = failure { (failure_banner(failure, "accept a plan")) }
        @if let Some(plan) = active_plan.as_ref() {
            p class="banner banner-info" role="note" data-testid="active-plan-note" {
                strong { "This account already has an active plan" }
                @if let Some(plan) = plan {
                    " (" (enum_words!(plans::PlanOptionKind, plan.kind, "PLAN_OPTION_KIND_")) ", " (audience.money(plan.monthly_amount.as_ref())) " a month)"
                }
                ": accepting an option here would replace it."
            }
        }
        @if let Some(a) = options.affordability.as_ref() {
            p { "Built on a disposable income of " strong { (audience.money(a.disposable_income.as_ref())) } " a month." }
        }
        (payday_form(customer_id, account_id, form, None))
        @for option in &options.options {
            (option_card(customer_id, account_id, &person, option, form, failure, &methods))
        }
        @if !options.excluded.is_empty() {
            section aria-labelledby="excluded-heading" {
                h2 id="excluded-heading" { "Considered but not offered" }
                ul {
                    @for x in &options.excluded {
                        li {
                            (enum_words!(plans::PlanOptionKind, x.kind, "PLAN_OPTION_KIND_")) ": "
                            @for (i, r) in x.reasons.iter().enumerate() { @if i > 0 { " " } (r.message) }
                        }
                    }
                }
            }
        }
        p class="meta" { "Write-off would recover " (audience.money(options.write_off_baseline.as_ref())) "." }
    };
    respond(status, shell(&chrome, "Payment-plan options", body))
}

/// The account's active plan, if it has one: `Some(None)` when the plan itself could not be read.
/// Best effort: the options are shown whatever this finds.
async fn active_plan(
    console: &Console,
    agent: &Agent,
    account_id: &str,
) -> Option<Option<plans::Plan>> {
    let account = console
        .suite
        .accounts
        .clone()
        .get_account(console.suite.request(
            plans::GetAccountRequest {
                account_id: account_id.to_owned(),
            },
            agent,
        ))
        .await
        .ok()?
        .into_inner()
        .account?;
    if account.active_plan_id.is_empty() {
        return None;
    }
    let plan = console
        .suite
        .plans
        .clone()
        .get_plan(console.suite.request(
            plans::GetPlanRequest {
                plan_id: account.active_plan_id,
            },
            agent,
        ))
        .await
        .ok()
        .and_then(|p| p.into_inner().plan);
    Some(plan)
}

fn payday_form(
    customer_id: &str,
    account_id: &str,
    form: &Form,
    failure: Option<&Failure>,
) -> Markup {
    html! {
        form method="get" action={ "/customers/" (customer_id) "/accounts/" (account_id) "/options" } class="inline-form" data-testid="payday-form" {
            input type="hidden" name="case_id" value=(form.get("case_id"));
            (field("options", "payday", "Customer's payday (day of month, optional)", Kind::Number, form, failure, None))
            button type="submit" { "Show options for this payday" }
        }
    }
}

/// What the agent can read aloud: the customer's name, the option's own plain-language
/// summary, what it leaves them each month, and no pressure.
pub(crate) fn script(first_name: &str, summary: &str, headroom: &str) -> String {
    format!(
        "{first_name}, thank you for talking this through with me. Based on what you have told us about your income and outgoings, here is one option we can offer: {summary} After this payment you would still have {headroom} a month. Would this work for you? You do not have to decide now, and you can ask me about any of the other options."
    )
}

fn option_card(
    customer_id: &str,
    account_id: &str,
    person: &Person,
    option: &plans::PlanOption,
    form: &Form,
    failure: Option<&Failure>,
    methods: &[(String, String)],
) -> Markup {
    let audience: &Audience = &person.audience;
    let form_id = format!("accept-{}", option.rank);
    // What was typed, and why it was refused, belong to the option that was posted; the
    // others show their defaults.
    let defaults = default_accept_form(form);
    let posted_here = form.get("rank") == option.rank.to_string();
    let (form, failure) = if posted_here || form.get("rank").is_empty() {
        (form, failure)
    } else {
        (&defaults, None)
    };
    let heading_id = format!("option-{}-heading", option.rank);
    let first_name = person
        .name
        .split_whitespace()
        .next()
        .unwrap_or(&person.name);
    let script = script(
        first_name,
        &option.summary,
        &audience.money(option.affordability_headroom.as_ref()),
    );
    html! {
        section class="card option" aria-labelledby=(heading_id) data-testid="plan-option" {
            h2 id=(heading_id) { "Option " (option.rank) ": " (enum_words!(plans::PlanOptionKind, option.kind, "PLAN_OPTION_KIND_")) }
            dl class="facts" {
                dt { "Monthly amount" } dd { (audience.money(option.monthly_amount.as_ref())) }
                dt { "Months" } dd { (option.months) }
                dt { "Total payable" } dd { (audience.money(option.total_payable.as_ref())) }
                dt { "Interest waived" } dd { (audience.money(option.interest_waived.as_ref())) }
                dt { "Fees waived" } dd { (audience.money(option.fees_waived.as_ref())) }
                dt { "Headroom left each month" } dd { (audience.money(option.affordability_headroom.as_ref())) }
                dt { "First payment" } dd { (audience.date(option.first_payment_date.as_ref())) }
                @if option.review_date.is_some() { dt { "Review" } dd { (audience.date(option.review_date.as_ref())) } }
                dt { "After the plan" } dd { (enum_words!(plans::AfterPlan, option.after_plan, "AFTER_PLAN_")) ", " (audience.money(option.remaining_balance.as_ref())) " remaining" }
                @if option.includes_debt_advice_referral { dt { "Debt advice" } dd { "Includes a referral to free debt advice" } }
            }
            p data-testid="option-summary" { (option.summary) }
            h3 { "Read aloud" }
            blockquote class="script" data-testid="script" lang="en" { p { (script) } }
            @if !option.schedule.is_empty() {
                h3 { "Schedule" }
                div class="table-wrap" {
                    table {
                        caption { "Schedule for option " (option.rank) ", " (option.schedule.len()) " payments" }
                        thead { tr { th scope="col" { "No." } th scope="col" { "Due" } th scope="col" { "Amount" } th scope="col" { "Principal" } th scope="col" { "Interest" } th scope="col" { "Balance after" } } }
                        tbody {
                            @for i in &option.schedule {
                                tr {
                                    th scope="row" { (i.sequence) }
                                    td { (audience.date(i.due_date.as_ref())) }
                                    td { (audience.money(i.amount.as_ref())) }
                                    td { (audience.money(i.principal.as_ref())) }
                                    td { (audience.money(i.interest.as_ref())) }
                                    td { (audience.money(i.closing_balance.as_ref())) }
                                }
                            }
                        }
                    }
                }
            }
            @if !option.reasons.is_empty() {
                h3 { "Why offered" }
                ul { @for r in &option.reasons { li { (r.message) } } }
            }
            @if let (true, Some(failure)) = (posted_here, failure) { (failure_banner(failure, "accept a plan")) }
            form method="post" action={ "/customers/" (customer_id) "/accounts/" (account_id) "/plan" } class="stack" data-testid="accept-form" {
                input type="hidden" name="option_id" value=(option.option_id);
                input type="hidden" name="request_id" value=(request_key());
                input type="hidden" name="case_id" value=(form.get("case_id"));
                input type="hidden" name="payday" value=(form.get("payday"));
                input type="hidden" name="rank" value=(option.rank);
                (field(&form_id, "agreement.method", "How the customer agreed", Kind::Select(methods), form, failure, None))
                (field(&form_id, "agreement.evidence_ref", "Call recording or document id (optional)", Kind::Text, form, failure, None))
                button type="submit" { "Accept option " (option.rank) }
            }
            p class="meta" { "Offer valid until " (audience.time(option.expires_at.as_ref())) "." }
        }
    }
}

/// An accept form as first rendered: the case and payday of the page, agreement by recorded call.
fn default_accept_form(form: &Form) -> Form {
    let mut defaults = Form::default();
    defaults.set("case_id", form.get("case_id"));
    defaults.set("payday", form.get("payday"));
    defaults.set("agreement.method", "AGREEMENT_METHOD_RECORDED_CALL");
    defaults
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_names_the_customer_and_reads_the_summary_without_pressure() {
        let text = script("Ana", "Pay EUR 120.00 a month for 12 months.", "EUR 30.00");
        assert!(text.starts_with("Ana,"));
        assert!(text.contains("Pay EUR 120.00 a month for 12 months."));
        assert!(text.contains("EUR 30.00 a month"));
        assert!(text.contains("You do not have to decide now"));
    }
}
