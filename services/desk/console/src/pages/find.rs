//! Find (GET /, POST /search): search by name, phone, email or external reference. The search
//! is POSTed and its results rendered from the POST itself, so no personal data is ever in a
//! URL (browser history, proxy logs); the results link to the overview by id.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::{StatusCode, Uri};
use maud::{Markup, html};
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as profiles;

use crate::Console;
use crate::failure::{Failure, FieldMap};
use crate::form::Form;
use crate::format::{Audience, display_name, enum_words, name};
use crate::layout::{Kind, failure_banner, field, notice, page as shell, respond};
use crate::session::Agent;

const FORM: &str = "find";

pub(crate) async fn page(State(console): State<Console>, agent: Agent, uri: Uri) -> Response {
    let code = super::query(&uri, "notice");
    let body = html! {
        (notice(Some(code.as_str())))
        (search_form(&Form::default(), None))
    };
    respond(
        StatusCode::OK,
        shell(&console.chrome(&agent), "Find a customer", body),
    )
}

pub(crate) async fn search(State(console): State<Console>, agent: Agent, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let system = form.trimmed("external_ref.system");
    let external_id = form.trimmed("external_ref.external_id");
    let chrome = console.chrome(&agent);
    if [
        &form.trimmed("name"),
        &form.trimmed("email"),
        &form.trimmed("phone"),
        &system,
        &external_id,
    ]
    .iter()
    .all(|v| v.is_empty())
    {
        // Said before calling, in words: the suite's own message names its request fields.
        let failure = Failure::field(
            "name",
            "Fill in at least one detail: a name, an email, a phone number, or a reference in another system.",
        );
        return respond(
            failure.http_status(),
            shell(
                &chrome,
                "Find a customer",
                search_form(&form, Some(&failure)),
            ),
        );
    }
    let request = profiles::SearchCustomersRequest {
        name: form.trimmed("name"),
        email: form.trimmed("email"),
        phone: form.trimmed("phone"),
        external_ref: (!system.is_empty() || !external_id.is_empty()).then_some(
            profiles::ExternalRef {
                system,
                external_id,
            },
        ),
        include_closed: form.checked("include_closed"),
        view: profiles::CustomerView::Basic as i32,
        page: Some(common::PageRequest {
            page_size: 25,
            page_token: String::new(),
        }),
    };
    let answer = console
        .suite
        .profiles
        .clone()
        .search_customers(console.suite.request(request, &agent))
        .await;
    match answer {
        Ok(answer) => {
            let answer = answer.into_inner();
            let more = answer
                .page
                .as_ref()
                .is_some_and(|p| !p.next_page_token.is_empty());
            let body = html! {
                (search_form(&form, None))
                (results(&answer.customers, more))
            };
            respond(StatusCode::OK, shell(&chrome, "Search results", body))
        }
        Err(status) => {
            let map = FieldMap::same(&[
                "name",
                "email",
                "phone",
                "external_ref.system",
                "external_ref.external_id",
                "include_closed",
            ]);
            let failure = Failure::from_status(&status, &map);
            let body = search_form(&form, Some(&failure));
            respond(
                failure.http_status(),
                shell(&chrome, "Find a customer", body),
            )
        }
    }
}

fn search_form(form: &Form, failure: Option<&Failure>) -> Markup {
    html! {
        h1 { "Find a customer" }
        @if let Some(failure) = failure { (failure_banner(failure, "search for customers")) }
        form method="post" action="/search" class="stack" data-testid="search-form" {
            p class="hint" { "Fill in any of these; all that are filled in must match. Names match without regard to case or accents (“stefan” finds “Ștefan”)." }
            (field(FORM, "name", "Name", Kind::Text, form, failure, None))
            (field(FORM, "phone", "Phone", Kind::Tel, form, failure, Some("International format, e.g. +40721234567")))
            (field(FORM, "email", "Email", Kind::Email, form, failure, None))
            fieldset {
                legend { "External reference" }
                (field(FORM, "external_ref.system", "System", Kind::Text, form, failure, Some("e.g. core-banking")))
                (field(FORM, "external_ref.external_id", "Reference in that system", Kind::Text, form, failure, None))
            }
            div class="field checkbox" {
                input type="checkbox" id="find-include_closed" name="include_closed" value="yes" checked[form.checked("include_closed")];
                label for="find-include_closed" { "Include closed customers" }
            }
            button type="submit" { "Search" }
        }
    }
}

fn results(customers: &[profiles::Customer], more: bool) -> Markup {
    html! {
        section aria-labelledby="results-heading" data-testid="search-results" {
            h2 id="results-heading" { "Results" }
            @if customers.is_empty() {
                p data-testid="no-results" { "No customer matches this search." }
            } @else {
                p role="status" { (customers.len()) @if customers.len() == 1 { " customer matches." } @else { " customers match." } }
                ul class="results" {
                    @for customer in customers {
                        @let audience = Audience { locale: customer.locale.clone(), time_zone: customer.time_zone.clone() };
                        li {
                            a href={ "/customers/" (customer.customer_id) } {
                                (name(&display_name(&customer.legal_name, &customer.preferred_name), &customer.locale))
                            }
                            @if !customer.preferred_name.is_empty() && customer.preferred_name != customer.legal_name {
                                " (legal name " (name(&customer.legal_name, &customer.locale)) ")"
                            }
                            span class="meta" {
                                " · " (enum_words!(profiles::CustomerStatus, customer.status, "CUSTOMER_STATUS_"))
                                " · customer since " (audience.date(customer.customer_since.as_ref()))
                                " · " (customer.locale) ", " (customer.time_zone)
                            }
                        }
                    }
                }
                @if more {
                    p { "More customers match than are shown: add another detail to narrow the search." }
                }
            }
        }
    }
}
