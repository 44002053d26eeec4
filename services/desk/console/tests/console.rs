//! The console against a desk that answers over real gRPC (a stand-in DeskService on port 0):
//! sign-in, the agent's token on the call, CSRF, headers, and the overview as rendered. The
//! full journey against the whole suite is the browser tests' (tests/console/).

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use base64::Engine;
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use rapport_desk_console::{ConsoleSettings, router};
use rapport_proto::desk::v1 as desk;
use rapport_proto::desk::v1::desk_service_server::{DeskService, DeskServiceServer};
use rapport_proto::profiles::v1 as profiles;
use tower::ServiceExt;

const CONSOLE: &str = "http://console.test";

/// A desk that records the `authorization` each call carried.
#[derive(Clone, Default)]
struct StandInDesk {
    seen_authorization: Arc<Mutex<Vec<String>>>,
}

#[tonic::async_trait]
impl DeskService for StandInDesk {
    async fn get_customer_overview(
        &self,
        request: tonic::Request<desk::GetCustomerOverviewRequest>,
    ) -> Result<tonic::Response<desk::GetCustomerOverviewResponse>, tonic::Status> {
        let authorization = request
            .metadata()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        self.seen_authorization
            .lock()
            .expect("not poisoned")
            .push(authorization);
        let id = request.into_inner().customer_id;
        if id == "not-an-id" {
            return Err(tonic::Status::invalid_argument(
                "customer_id is not a valid id",
            ));
        }
        if id == "forbidden" {
            return Err(tonic::Status::permission_denied(
                "missing permission customers.read (roles held: billing_system)",
            ));
        }
        let ok = |service: &str| {
            Some(desk::SectionState {
                status: desk::SectionStatus::Ok as i32,
                service: service.to_owned(),
                detail: String::new(),
            })
        };
        Ok(tonic::Response::new(desk::GetCustomerOverviewResponse {
            customer_id: id.clone(),
            customer: Some(desk::CustomerSection {
                state: ok("profiles"),
                customer: Some(profiles::Customer {
                    customer_id: id,
                    legal_name: "Ștefan Ionescu".into(),
                    locale: "ro-RO".into(),
                    time_zone: "Europe/Bucharest".into(),
                    ..Default::default()
                }),
            }),
            loyalty: Some(desk::LoyaltySection {
                state: Some(desk::SectionState {
                    status: desk::SectionStatus::Unavailable as i32,
                    service: "loyalty".into(),
                    detail: "loyalty did not answer within 150 ms".into(),
                }),
                score: None,
            }),
            ..Default::default()
        }))
    }
}

/// The stand-in desk on a free port, and the console's routes pointed at it.
async fn console(require_token: bool) -> (Router, StandInDesk) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let address = listener.local_addr().expect("bound");
    let desk = StandInDesk::default();
    let service = DeskServiceServer::new(desk.clone());
    tokio::spawn(async move {
        let _ = tonic::transport::Server::builder()
            .add_service(service)
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener))
            .await;
    });
    let settings = ConsoleSettings::for_suite(
        &format!("http://{address}"),
        rapport_clients::ClientSettings::default(),
        require_token,
    );
    (router(settings).expect("valid settings"), desk)
}

fn token(subject: &str) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    format!(
        "{}.{}.{}",
        engine.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        engine.encode(format!(r#"{{"sub":"{subject}","roles":["agent"]}}"#)),
        engine.encode("signature-checked-by-the-suite")
    )
}

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.expect("a response");
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn get(path: &str) -> http::request::Builder {
    Request::get(format!("{CONSOLE}{path}")).header(header::HOST, "console.test")
}

fn post(path: &str, origin: Option<&str>) -> http::request::Builder {
    let builder = Request::post(format!("{CONSOLE}{path}"))
        .header(header::HOST, "console.test")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    match origin {
        Some(origin) => builder.header(header::ORIGIN, origin),
        None => builder,
    }
}

#[tokio::test]
async fn a_signed_in_agent_sees_the_overview_asked_with_their_own_token() {
    let (app, desk) = console(true).await;

    let (status, headers, _) = send(
        &app,
        get("/customers/c-1").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "no token: sign in first");
    assert_eq!(headers[header::LOCATION], "/sign-in");

    let token = token("agent-42");
    let (status, headers, _) = send(
        &app,
        post("/session", Some(CONSOLE))
            .body(Body::from(format!("token={token}")))
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let cookie = headers[header::SET_COOKIE]
        .to_str()
        .expect("text")
        .to_owned();
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Path=/")
    );
    assert!(!cookie.contains("Max-Age"), "a session cookie: {cookie}");
    let pair = cookie.split(';').next().expect("name=value").to_owned();

    let (status, headers, html) = send(
        &app,
        get("/customers/c-1")
            .header(header::COOKIE, pair)
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{html}");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(html.contains(r#"<bdi lang="ro-RO" dir="auto">Ștefan Ionescu</bdi>"#));
    assert!(
        html.contains("Loyalty is unavailable right now (loyalty did not answer within 150 ms).")
    );
    assert!(html.contains("Signed in as agent-42"));
    assert!(
        !html.contains("dev-banner"),
        "no development banner once a token is required"
    );
    assert_eq!(
        desk.seen_authorization
            .lock()
            .expect("not poisoned")
            .as_slice(),
        [format!("Bearer {token}")]
    );
}

#[tokio::test]
async fn without_a_token_requirement_the_console_says_it_calls_anonymously() {
    let (app, desk) = console(false).await;
    let (status, headers, html) = send(
        &app,
        get("/customers/c-1").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(html.contains(r#"data-testid="dev-banner""#));
    assert_eq!(
        desk.seen_authorization
            .lock()
            .expect("not poisoned")
            .as_slice(),
        [String::new()]
    );
}

#[tokio::test]
async fn a_refusal_names_the_missing_permission_at_the_action() {
    let (app, _) = console(false).await;
    let (status, _, html) = send(
        &app,
        get("/customers/forbidden")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert!(
        html.contains("You do not have permission to show this customer's overview"),
        "{html}"
    );
    assert!(
        html.contains("(permission <code>customers.read</code>)"),
        "{html}"
    );
}

#[tokio::test]
async fn posts_from_another_site_or_from_nowhere_are_refused() {
    let (app, _) = console(false).await;
    for origin in [Some("http://evil.example"), None] {
        let (status, _, _) = send(
            &app,
            post("/search", origin)
                .body(Body::from("name=ana"))
                .expect("request"),
        )
        .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "origin {origin:?}");
    }
}

#[tokio::test]
async fn a_failed_search_keeps_what_was_typed_escaped_and_out_of_the_url() {
    // The stand-in serves no ProfileService: the search is refused (UNIMPLEMENTED).
    let (app, _) = console(false).await;
    let (status, headers, html) = send(
        &app,
        post("/search", Some(CONSOLE))
            .body(Body::from(
                "name=%3Cscript%3Ealert(1)%3C%2Fscript%3E&phone=%2B40721234567",
            ))
            .expect("request"),
    )
    .await;
    assert_ne!(
        status,
        StatusCode::SEE_OTHER,
        "results and errors are rendered from the POST"
    );
    assert!(headers.get(header::LOCATION).is_none());
    assert!(html.contains(r#"data-testid="call-failed""#), "{html}");
    assert!(!html.contains("<script>alert(1)</script>"));
    assert!(
        html.contains(r#"value="&lt;script&gt;alert(1)&lt;/script&gt;""#),
        "{html}"
    );
    assert!(html.contains(r#"value="+40721234567""#));
}

#[tokio::test]
async fn a_wrong_customer_id_or_address_gets_a_plain_page_with_the_way_back() {
    let (app, _) = console(false).await;
    let (status, _, html) = send(
        &app,
        get("/customers/not-an-id")
            .body(Body::empty())
            .expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("This is not a customer id"), "{html}");
    assert!(!html.contains("Please correct the form"), "{html}");
    assert!(
        html.contains(r#"<a href="/">Find a customer</a>"#),
        "{html}"
    );

    let (status, _, html) = send(
        &app,
        get("/nowhere/at/all").body(Body::empty()).expect("request"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(html.contains(r#"<html lang="en">"#), "{html}");
    assert!(html.contains("<h1>Page not found</h1>"), "{html}");
    assert!(
        html.contains(r#"<a href="/">Find a customer</a>"#),
        "{html}"
    );
}
