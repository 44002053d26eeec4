//! Promise (GET/POST /customers/{id}/accounts/{account}/promise): PlanService/
//! RecordPromiseToPay, with an idempotency key made when the form is rendered.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::StatusCode;
use maud::html;
use rapport_proto::common::v1 as common;
use rapport_proto::plans::v1 as plans;

use super::{person, request_key};
use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::form::{Form, amount_example, parse_amount, parse_date};
use crate::format::name;
use crate::layout::{Kind, failure_banner, field, page as shell, respond};
use crate::session::Agent;

const FORM: &str = "promise";

pub(crate) async fn page(
    State(console): State<Console>,
    Path((customer_id, account_id)): Path<(String, String)>,
    agent: Agent,
) -> Response {
    let mut form = Form::default();
    form.set("request_id", request_key());
    render(&console, &agent, &customer_id, &account_id, &form, None).await
}

pub(crate) async fn record(
    State(console): State<Console>,
    Path((customer_id, account_id)): Path<(String, String)>,
    agent: Agent,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    // Every input the console reads is checked before calling, so all problems show at once.
    let amount = parse_amount(form.get("amount"), form.get("currency")).and_then(|money| {
        if money.minor_units > 0 {
            Ok(money)
        } else {
            Err("Enter an amount above 0.".to_owned())
        }
    });
    let date = parse_date(form.get("promised_date"));
    let (amount, date) = match (amount, date) {
        (Ok(amount), Ok(date)) => (amount, date),
        (amount, date) => {
            let mut failure: Option<Failure> = None;
            if let Err(sentence) = amount {
                failure = Some(Failure::field("amount", sentence));
            }
            if let Err(sentence) = date {
                failure = Some(match failure {
                    Some(f) => f.merge_field("promised_date", sentence),
                    None => Failure::field("promised_date", sentence),
                });
            }
            return render(
                &console,
                &agent,
                &customer_id,
                &account_id,
                &form,
                failure.as_ref(),
            )
            .await;
        }
    };
    let request = plans::RecordPromiseToPayRequest {
        account_id: account_id.clone(),
        amount: Some(amount),
        promised_date: Some(date),
        channel: common::Channel::Phone as i32,
        recorded_by: Some(agent.actor()),
        note: form.trimmed("note"),
        request_id: form.trimmed("request_id"),
    };
    let answer = console
        .suite
        .plans
        .clone()
        .record_promise_to_pay(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(_) => Redirect::to(&format!("/customers/{customer_id}?notice=promise-recorded"))
            .into_response(),
        Err(status) => {
            let failure = Failure::from_status(
                &status,
                &FieldMap::same(&["amount", "promised_date", "note"]),
            );
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

async fn render(
    console: &Console,
    agent: &Agent,
    customer_id: &str,
    account_id: &str,
    form: &Form,
    failure: Option<&Failure>,
) -> Response {
    let chrome = console.chrome(agent);
    let person = person(console, agent, customer_id).await;
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
        .await;
    let (person, account) = match (person, account) {
        (Ok(person), Ok(account)) => (person, account.into_inner().account.unwrap_or_default()),
        (Err(status), _) | (_, Err(status)) => {
            // What the agent tried comes first: its refusal is what they need to read.
            let load = Failure::from_status(&status, &FieldMap::new());
            let shown = failure.unwrap_or(&load);
            let body = html! {
                h1 { "Record a promise to pay" }
                (failure_banner(shown, "record a promise to pay"))
                @if failure.is_some() { (failure_banner(&load, "show this account")) }
            };
            return respond(
                shown.http_status(),
                shell(&chrome, "Record a promise to pay", body),
            );
        }
    };
    let currency = account.currency_code.clone();
    let status = failure.map_or(StatusCode::OK, Failure::http_status);
    let audience = &person.audience;
    let body = html! {
        h1 { "Record a promise to pay" }
        p { "For " (name(&person.name, &audience.locale)) ". " a href={ "/customers/" (customer_id) } { "Back to the overview" } }
        dl class="facts" {
            dt { "Arrears" } dd { (audience.money(account.arrears_amount.as_ref())) }
            dt { "Balance" } dd { (audience.money(account.balance.as_ref())) }
        }
        @if let Some(failure) = failure { (failure_banner(failure, "record a promise to pay")) }
        form method="post" action={ "/customers/" (customer_id) "/accounts/" (account_id) "/promise" } class="stack" data-testid="promise-form" {
            input type="hidden" name="request_id" value=(form.get("request_id"));
            input type="hidden" name="currency" value=(currency);
            (field(FORM, "amount", &format!("Amount ({currency})"), Kind::Amount, form, failure, Some(&format!("e.g. {}", amount_example(&currency, &audience.locale)))))
            (field(FORM, "promised_date", "Date the customer will pay", Kind::Date, form, failure, Some("Today or later.")))
            (field(FORM, "note", "Note (optional)", Kind::TextArea, form, failure, None))
            button type="submit" { "Record promise" }
        }
    };
    respond(status, shell(&chrome, "Record a promise to pay", body))
}
