//! Sign-in (GET /sign-in, POST /session) and sign-out (POST /session/end). The agent pastes
//! their bearer token (`rapport token` in development; the bank's identity provider in
//! production); it is kept only in a session cookie and sent with every call.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, Uri, header};
use maud::{Markup, html};

use crate::Console;
use crate::failure::Failure;
use crate::form::Form;
use crate::layout::{Kind, failure_banner, field, notice, page as shell, respond};
use crate::session::{self, Agent};

const FORM: &str = "sign-in";

pub(crate) async fn page(State(console): State<Console>, uri: Uri) -> Response {
    let code = super::query(&uri, "notice");
    let chrome = console.chrome(&Agent::anonymous());
    respond(
        StatusCode::OK,
        shell(
            &chrome,
            "Sign in",
            html! { (notice(Some(code.as_str()))) (form(&console, None)) },
        ),
    )
}

pub(crate) async fn sign_in(State(console): State<Console>, body: Bytes) -> Response {
    let form = Form::parse(&body);
    let token = form.trimmed("token");
    let now = jiff::Timestamp::now().as_second();
    match Agent::from_token(&token, now) {
        Ok(_) => (
            [(
                header::SET_COOKIE,
                session::set_cookie(&token, console.settings.secure_cookie),
            )],
            Redirect::to("/"),
        )
            .into_response(),
        Err(problem) => {
            let failure = Failure::field("token", problem.to_string());
            let chrome = console.chrome(&Agent::anonymous());
            respond(
                StatusCode::UNPROCESSABLE_ENTITY,
                shell(&chrome, "Sign in", form_markup(&console, Some(&failure))),
            )
        }
    }
}

pub(crate) async fn sign_out(State(console): State<Console>, _headers: HeaderMap) -> Response {
    (
        [(
            header::SET_COOKIE,
            session::clear_cookie(console.settings.secure_cookie),
        )],
        Redirect::to("/sign-in?notice=signed-out"),
    )
        .into_response()
}

fn form(console: &Console, failure: Option<&Failure>) -> Markup {
    form_markup(console, failure)
}

/// The token is never rendered back into the page, even after a mistake: it is a secret.
fn form_markup(console: &Console, failure: Option<&Failure>) -> Markup {
    let empty = Form::default();
    html! {
        h1 { "Sign in" }
        @if !console.settings.require_token {
            p { "This development console does not need a sign-in; sign in to call the suite as yourself." }
        }
        @if let Some(failure) = failure { (failure_banner(failure, "sign in")) }
        form method="post" action="/session" class="stack" data-testid="sign-in-form" {
            (field(FORM, "token", "Bearer token", Kind::TextArea, &empty, failure,
                Some("Paste the token your identity provider issued you (in development: `rapport token --role agent --subject YOUR-ID`). It is kept only for this browser session.")))
            button type="submit" { "Sign in" }
        }
    }
}
