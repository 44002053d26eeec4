//! The page shell and the pieces every form uses: labelled inputs with their errors tied by
//! aria-describedby, the banners, the development notice.

use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html};

use crate::failure::{Failure, code_in_words};
use crate::form::Form;
use crate::session::Agent;

/// What the shell needs to know about the request.
#[derive(Debug, Clone)]
pub(crate) struct Chrome {
    pub agent: Agent,
    pub require_token: bool,
}

/// A whole page: `lang` on `<html>`, a skip link, the navigation, the development banner when
/// no token is required, and `main`.
pub(crate) fn page(chrome: &Chrome, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Rapport desk" }
                link rel="stylesheet" href="/console.css";
            }
            body {
                a class="skip" href="#main" { "Skip to main content" }
                header class="top" {
                    p class="brand" { "Rapport desk" }
                    nav aria-label="Console" {
                        ul {
                            li { a href="/" { "Find a customer" } }
                            li { a href="/follow-ups" { "Follow-ups" } }
                            @if chrome.agent.signed_in() {
                                li {
                                    span class="who" data-testid="signed-in-as" {
                                        "Signed in as " (chrome.agent.subject)
                                    }
                                }
                                li {
                                    form method="post" action="/session/end" class="inline" {
                                        button type="submit" { "Sign out" }
                                    }
                                }
                            } @else if chrome.require_token {
                                li { a href="/sign-in" { "Sign in" } }
                            }
                        }
                    }
                }
                @if !chrome.require_token && !chrome.agent.signed_in() {
                    div class="banner banner-dev" role="note" data-testid="dev-banner" {
                        strong { "Development console: " }
                        "no sign-in is required here, and every call goes to the suite as an anonymous caller. "
                        "In production each agent signs in and the suite checks every call as them. "
                        a href="/sign-in" { "Sign in to call as yourself" }
                    }
                }
                main id="main" tabindex="-1" { (body) }
            }
        }
    }
}

/// A rendered page with its HTTP status.
pub(crate) fn respond(status: http::StatusCode, markup: Markup) -> Response {
    (status, markup).into_response()
}

/// A banner for a refused call that is not about one input: permission, sign-in, or another
/// code in words. `action` says what the agent tried ("record a promise to pay").
pub(crate) fn failure_banner(failure: &Failure, action: &str) -> Markup {
    match failure {
        Failure::Invalid { fields, general } => html! {
            div class="banner banner-error" role="alert" data-testid="form-errors" {
                // Not a heading: the banner appears inside sections at every level.
                p { strong { "Please correct the form." } }
                @if !fields.is_empty() {
                    p { "Each problem is shown beside its field." }
                }
                @if !general.is_empty() {
                    ul { @for sentence in general { li { (sentence) } } }
                }
            }
        },
        Failure::Denied {
            permission,
            message,
        } => html! {
            div class="banner banner-error" role="alert" data-testid="permission-denied" {
                p {
                    strong { "You do not have permission to " (action) }
                    @if let Some(permission) = permission {
                        " (permission " code { (permission) } ")."
                    } @else {
                        " (" (message) ")."
                    }
                }
            }
        },
        Failure::SignIn { message } => html! {
            div class="banner banner-error" role="alert" data-testid="sign-in-needed" {
                p {
                    strong { "Your sign-in is not accepted by the suite" } " (" (message) "). "
                    a href="/sign-in" { "Sign in again" }
                }
            }
        },
        Failure::Other { code, message } => html! {
            div class="banner banner-error" role="alert" data-testid="call-failed" {
                p {
                    strong { "Could not " (action) ": " (code_in_words(*code)) "." }
                    @if !message.is_empty() { " " (message) }
                }
            }
        },
    }
}

/// The kinds of input [`field`] renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind<'a> {
    Text,
    Email,
    Tel,
    Date,
    Number,
    /// An amount of money: text with a decimal keypad.
    Amount,
    TextArea,
    Select(&'a [(String, String)]),
}

/// A labelled input. `form_id` keeps ids unique when a page has several forms; `name` is the
/// posted name. Errors are tied with aria-describedby and aria-invalid; `hint` is read too.
pub(crate) fn field(
    form_id: &str,
    name: &str,
    label: &str,
    kind: Kind<'_>,
    form: &Form,
    failure: Option<&Failure>,
    hint: Option<&str>,
) -> Markup {
    let id = format!("{form_id}-{}", name.replace(['.', '[', ']'], "-"));
    let errors = failure.map_or(&[][..], |f| f.errors_for(name));
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let mut described = Vec::new();
    if hint.is_some() {
        described.push(hint_id.clone());
    }
    if !errors.is_empty() {
        described.push(error_id.clone());
    }
    let described = (!described.is_empty()).then(|| described.join(" "));
    let invalid = (!errors.is_empty()).then_some("true");
    let value = form.get(name);
    html! {
        div class={ "field" @if !errors.is_empty() { " field-invalid" } } {
            label for=(id) { (label) }
            @if let Some(hint) = hint {
                p class="hint" id=(hint_id) { (hint) }
            }
            @if !errors.is_empty() {
                p class="field-error" id=(error_id) {
                    @for (i, error) in errors.iter().enumerate() {
                        @if i > 0 { " " }
                        span { "Error: " (error) }
                    }
                }
            }
            @match kind {
                Kind::TextArea => {
                    textarea id=(id) name=(name) rows="3" dir="auto"
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid] { (value) }
                }
                Kind::Select(options) => {
                    select id=(id) name=(name) aria-describedby=[described.as_deref()] aria-invalid=[invalid] {
                        @for (option_value, option_label) in options {
                            option value=(option_value) selected[value == option_value] { (option_label) }
                        }
                    }
                }
                _ => {
                    input id=(id) name=(name) value=(value)
                        type=(match kind { Kind::Email => "email", Kind::Tel => "tel", Kind::Date => "date", Kind::Number => "number", _ => "text" })
                        inputmode=[match kind { Kind::Amount => Some("decimal"), _ => None }]
                        dir="auto"
                        autocomplete="off"
                        aria-describedby=[described.as_deref()] aria-invalid=[invalid];
                }
            }
        }
    }
}

/// A section of the overview that did not come back OK: said in words, never as "none".
pub(crate) fn section_unavailable(what: &str, status: i32, detail: &str) -> Markup {
    use rapport_proto::desk::v1::SectionStatus;
    let detail = if detail.is_empty() {
        "no detail given"
    } else {
        detail
    };
    let text = match SectionStatus::try_from(status) {
        Ok(SectionStatus::NotPermitted) => {
            format!(
                "You do not have permission to see {} ({detail}).",
                what.to_lowercase()
            )
        }
        Ok(SectionStatus::NotApplicable) => format!("{what}: not applicable ({detail})."),
        _ => {
            // "Follow-ups are unavailable", "Loyalty is unavailable".
            let verb = if plural(what) { "are" } else { "is" };
            format!("{what} {verb} unavailable right now ({detail}).")
        }
    };
    html! { p class="unavailable" data-testid="section-unavailable" { (text) } }
}

/// Whether a section's name is a plural noun ("Accounts", "Promises to pay").
fn plural(what: &str) -> bool {
    matches!(
        what,
        "Customer details"
            | "Protections"
            | "Accounts"
            | "Hardship cases"
            | "Plans"
            | "Promises to pay"
            | "Follow-ups"
            | "Commitments"
            | "Referrals and trust"
    )
}

/// A one-line notice after a successful POST (post-redirect-get carries its code only).
pub(crate) fn notice(code: Option<&str>) -> Markup {
    let text = match code {
        Some("plan-accepted") => "The plan was accepted.",
        Some("promise-recorded") => "The promise to pay was recorded.",
        Some("case-opened") => "The hardship case was opened.",
        Some("statement-saved") => "Income and expenditure were saved; the affordability is below.",
        Some("referred") => "The referral to debt advice was recorded.",
        Some("follow-up-closed") => "The follow-up was closed.",
        Some("signed-out") => "You are signed out.",
        Some("sign-in-again") => "Your sign-in has expired or cannot be used: sign in again.",
        _ => return html! {},
    };
    html! { div class="banner banner-ok" role="status" data-testid="notice" { p { (text) } } }
}
