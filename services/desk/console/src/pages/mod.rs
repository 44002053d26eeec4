//! One file per page; every route is listed here (and in docs/console.md).

mod find;
mod follow_ups;
mod hardship;
mod options;
mod overview;
mod promise;
mod sign_in;

use axum::Router;
use axum::routing::{get, post};
use http::Uri;
use rapport_proto::profiles::v1 as profiles;

use crate::Console;
use crate::format::{Audience, display_name};
use crate::session::Agent;

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/", get(find::page))
        .route("/search", post(find::search))
        .route("/sign-in", get(sign_in::page))
        .route("/session", post(sign_in::sign_in))
        .route("/session/end", post(sign_in::sign_out))
        .route("/customers/{customer_id}", get(overview::page))
        .route(
            "/customers/{customer_id}/hardship/new",
            get(hardship::open_page),
        )
        .route("/customers/{customer_id}/hardship", post(hardship::open))
        .route(
            "/customers/{customer_id}/cases/{case_id}",
            get(hardship::case_page),
        )
        .route(
            "/customers/{customer_id}/cases/{case_id}/income-expenditure",
            post(hardship::submit_statement),
        )
        .route(
            "/customers/{customer_id}/cases/{case_id}/debt-advice",
            post(hardship::refer),
        )
        .route(
            "/customers/{customer_id}/accounts/{account_id}/options",
            get(options::page),
        )
        .route(
            "/customers/{customer_id}/accounts/{account_id}/plan",
            post(options::accept),
        )
        .route(
            "/customers/{customer_id}/accounts/{account_id}/promise",
            get(promise::page).post(promise::record),
        )
        .route("/follow-ups", get(follow_ups::page))
        .route("/follow-ups/{follow_up_id}/close", post(follow_ups::close))
        .fallback(not_found)
}

/// Any other address: a page in the same shell (lang, headings, navigation), with the way back.
async fn not_found(
    axum::extract::State(console): axum::extract::State<Console>,
    headers: http::HeaderMap,
) -> axum::response::Response {
    let agent = console
        .agent(&headers)
        .unwrap_or_else(|_| Agent::anonymous());
    let body = maud::html! {
        h1 { "Page not found" }
        p data-testid="page-not-found" { "There is no page at this address in the console." }
        p { a href="/" { "Find a customer" } }
    };
    crate::layout::respond(
        http::StatusCode::NOT_FOUND,
        crate::layout::page(&console.chrome(&agent), "Page not found", body),
    )
}

/// The query string's value for `name` ("" when absent): only ids, codes and a payday day
/// ever travel in a URL.
pub(crate) fn query(uri: &Uri, name: &str) -> String {
    uri.query()
        .map(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
                .unwrap_or_default()
        })
        .unwrap_or_default()
}

/// Who a page is about: their name as they like it, and their locale and time zone.
#[derive(Debug, Clone)]
pub(crate) struct Person {
    pub customer_id: String,
    pub name: String,
    pub audience: Audience,
}

impl Person {
    pub fn from_customer(customer: &profiles::Customer) -> Self {
        Self {
            customer_id: customer.customer_id.clone(),
            name: display_name(&customer.legal_name, &customer.preferred_name),
            audience: Audience {
                locale: customer.locale.clone(),
                time_zone: customer.time_zone.clone(),
            },
        }
    }
}

/// The customer (BASIC view) a page is about.
pub(crate) async fn person(
    console: &Console,
    agent: &Agent,
    customer_id: &str,
) -> Result<Person, tonic::Status> {
    let request = profiles::GetCustomerRequest {
        customer_id: customer_id.to_owned(),
        view: profiles::CustomerView::Basic as i32,
    };
    let customer = console
        .suite
        .profiles
        .clone()
        .get_customer(console.suite.request(request, agent))
        .await?
        .into_inner()
        .customer
        .ok_or_else(|| tonic::Status::internal("profiles answered without a customer"))?;
    Ok(Person::from_customer(&customer))
}

/// A fresh idempotency key for a form, made when the form is rendered: a double click or a
/// retry sends the same key, and the suite acts once.
pub(crate) fn request_key() -> String {
    uuid::Uuid::now_v7().to_string()
}
