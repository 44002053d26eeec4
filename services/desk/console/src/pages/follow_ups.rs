//! Follow-ups (GET /follow-ups, POST /follow-ups/{id}/close): the queue of overdue and open
//! detractor follow-ups (LoyaltyService/ListFollowUps) with each customer's name beside it, and
//! closing one with what the customer was told (CloseFollowUp).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{StatusCode, Uri};
use maud::{Markup, html};
use rapport_proto::loyalty::v1 as loyalty;

use super::{Person, person};
use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::form::Form;
use crate::format::{Audience, enum_words, name, short_id, words};
use crate::layout::{Kind, failure_banner, field, notice, page as shell, respond};
use crate::session::Agent;

pub(crate) async fn page(State(console): State<Console>, agent: Agent, uri: Uri) -> Response {
    let code = super::query(&uri, "notice");
    render(&console, &agent, None, Some(&code)).await
}

pub(crate) async fn close(
    State(console): State<Console>,
    Path(follow_up_id): Path<String>,
    agent: Agent,
    body: Bytes,
) -> Response {
    let form = Form::parse(&body);
    let outcome =
        loyalty::FollowUpOutcome::from_str_name(form.get("outcome")).map_or(0, |o| o as i32);
    if outcome == 0 {
        let failure = Failure::field("outcome", "Choose how the follow-up ended.");
        return render(
            &console,
            &agent,
            Some((&follow_up_id, &form, &failure)),
            None,
        )
        .await;
    }
    let request = loyalty::CloseFollowUpRequest {
        follow_up_id: follow_up_id.clone(),
        customer_told: form.trimmed("customer_told"),
        outcome,
        closed_by: Some(agent.actor()),
        closed_at: None,
    };
    let answer = console
        .suite
        .loyalty
        .clone()
        .close_follow_up(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(_) => Redirect::to("/follow-ups?notice=follow-up-closed").into_response(),
        Err(status) => {
            let failure =
                Failure::from_status(&status, &FieldMap::same(&["customer_told", "outcome"]));
            render(
                &console,
                &agent,
                Some((&follow_up_id, &form, &failure)),
                None,
            )
            .await
        }
    }
}

fn outcomes() -> Vec<(String, String)> {
    let mut options = vec![(String::new(), "Choose an outcome".to_owned())];
    for value in 1..=5 {
        if let Ok(o) = loyalty::FollowUpOutcome::try_from(value) {
            options.push((
                o.as_str_name().to_owned(),
                words(o.as_str_name(), "FOLLOW_UP_OUTCOME_"),
            ));
        }
    }
    options
}

async fn list(
    console: &Console,
    agent: &Agent,
    status: loyalty::FollowUpStatus,
) -> Result<Vec<loyalty::FollowUp>, tonic::Status> {
    let request = loyalty::ListFollowUpsRequest {
        status: status as i32,
        owner_id: String::new(),
        customer_id: String::new(),
        page: Some(rapport_proto::common::v1::PageRequest {
            page_size: 100,
            page_token: String::new(),
        }),
    };
    Ok(console
        .suite
        .loyalty
        .clone()
        .list_follow_ups(console.suite.request(request, agent))
        .await?
        .into_inner()
        .follow_ups)
}

async fn render(
    console: &Console,
    agent: &Agent,
    posted: Option<(&str, &Form, &Failure)>,
    notice_code: Option<&str>,
) -> Response {
    let chrome = console.chrome(agent);
    let (overdue, open) = tokio::join!(
        list(console, agent, loyalty::FollowUpStatus::Overdue),
        list(console, agent, loyalty::FollowUpStatus::Open)
    );
    let (overdue, open) = match (overdue, open) {
        (Ok(overdue), Ok(open)) => (overdue, open),
        (Err(status), _) | (_, Err(status)) => {
            let failure = Failure::from_status(&status, &FieldMap::new());
            let body = html! { h1 { "Follow-ups" } (failure_banner(&failure, "list follow-ups")) };
            return respond(failure.http_status(), shell(&chrome, "Follow-ups", body));
        }
    };
    // OPEN may include overdue ones on some servers: show each once, overdue first.
    let open: Vec<_> = open
        .into_iter()
        .filter(|f| !overdue.iter().any(|o| o.follow_up_id == f.follow_up_id))
        .collect();
    let mut ids: Vec<&str> = overdue
        .iter()
        .chain(open.iter())
        .map(|f| f.customer_id.as_str())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let people: HashMap<String, Person> =
        futures_util::future::join_all(ids.iter().map(|id| person(console, agent, id)))
            .await
            .into_iter()
            .filter_map(Result::ok)
            .map(|p| (p.customer_id.clone(), p))
            .collect();
    let status = posted.map_or(StatusCode::OK, |(_, _, f)| f.http_status());
    let outcomes = outcomes();
    let body = html! {
        (notice(notice_code))
        h1 { "Follow-ups" }
        p { "Every detractor answer opens a follow-up with a 48-hour target; closing it records what the customer was told." }
        section aria-labelledby="overdue-heading" data-testid="overdue-follow-ups" {
            h2 id="overdue-heading" { "Overdue (" (overdue.len()) ")" }
            @if overdue.is_empty() { p { "None overdue." } }
            @for f in &overdue { (card(f, &people, posted, &outcomes)) }
        }
        section aria-labelledby="open-heading" data-testid="open-follow-ups" {
            h2 id="open-heading" { "Open (" (open.len()) ")" }
            @if open.is_empty() { p { "None open." } }
            @for f in &open { (card(f, &people, posted, &outcomes)) }
        }
    };
    respond(status, shell(&chrome, "Follow-ups", body))
}

fn card(
    follow_up: &loyalty::FollowUp,
    people: &HashMap<String, Person>,
    posted: Option<(&str, &Form, &Failure)>,
    outcomes: &[(String, String)],
) -> Markup {
    let person = people.get(&follow_up.customer_id);
    let audience = person.map_or_else(Audience::default, |p| p.audience.clone());
    let empty = Form::default();
    let (form, failure) = match posted {
        Some((id, form, failure)) if id == follow_up.follow_up_id => (form, Some(failure)),
        _ => (&empty, None),
    };
    let form_id = format!("close-{}", follow_up.follow_up_id);
    html! {
        article class="card" data-testid="follow-up" {
            h3 {
                @match person {
                    Some(p) => { a href={ "/customers/" (p.customer_id) } { (name(&p.name, &p.audience.locale)) } }
                    None => { "Customer " (short_id(&follow_up.customer_id)) " (name unavailable right now)" }
                }
            }
            dl class="facts" {
                dt { "Status" } dd { (enum_words!(loyalty::FollowUpStatus, follow_up.status, "FOLLOW_UP_STATUS_")) }
                dt { "Score given" } dd { "NPS " (follow_up.nps) " of 10" }
                dt { "Opened" } dd { (audience.time(follow_up.opened_at.as_ref())) }
                dt { "Due" } dd { (audience.time(follow_up.due_at.as_ref())) }
                @if !follow_up.owner_id.is_empty() { dt { "Owner" } dd { (follow_up.owner_id) } }
            }
            @if let Some(failure) = failure { (failure_banner(failure, "close this follow-up")) }
            form method="post" action={ "/follow-ups/" (follow_up.follow_up_id) "/close" } class="stack" data-testid="close-follow-up-form" {
                (field(&form_id, "customer_told", "What the customer was told", Kind::TextArea, form, failure, None))
                (field(&form_id, "outcome", "Outcome", Kind::Select(outcomes), form, failure, None))
                button type="submit" { "Close follow-up" }
            }
        }
    }
}
