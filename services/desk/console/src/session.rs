//! The signed-in agent: their bearer token, kept only in a session cookie (HttpOnly,
//! SameSite=Strict, Path=/, no Max-Age, Secure over HTTPS), and what the console reads of it
//! to name them as the actor of a request. The console never verifies the token: the suite
//! does, on every call; reading `sub` and `roles` here only fills `Actor` fields, which the
//! suite checks against the same token (issue 21).

use base64::Engine;
use http::HeaderMap;
use rapport_proto::common::v1 as common;
use serde::Deserialize;

pub(crate) const COOKIE: &str = "rapport_console_session";
/// Who acts when no one is signed in (the name the suite's guard gives such a caller).
const ANONYMOUS: &str = "anonymous";

/// The agent behind a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agent {
    token: Option<String>,
    pub subject: String,
    pub roles: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Claims {
    sub: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    exp: Option<i64>,
}

/// Why a pasted token cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum TokenProblem {
    #[error("This is not a bearer token (a JWT has three parts separated by dots).")]
    Malformed,
    #[error("The token names no one (it has no sub claim).")]
    NoSubject,
    #[error("The token has expired: get a new one and sign in again.")]
    Expired,
}

impl Agent {
    /// No one signed in: development without tokens.
    pub fn anonymous() -> Self {
        Self {
            token: None,
            subject: ANONYMOUS.to_owned(),
            roles: Vec::new(),
        }
    }

    /// Reads a token's claims (not its signature: the suite checks that).
    pub fn from_token(token: &str, now_unix: i64) -> Result<Self, TokenProblem> {
        let token = token.trim();
        // Base64url and dots only: the token goes into a cookie and a header as it is, so
        // nothing in it may end or extend either (";", spaces, line breaks).
        if !token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '='))
        {
            return Err(TokenProblem::Malformed);
        }
        let parts: Vec<&str> = token.split('.').collect();
        if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
            return Err(TokenProblem::Malformed);
        }
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(parts[1].trim_end_matches('='))
            .map_err(|_| TokenProblem::Malformed)?;
        let claims: Claims =
            serde_json::from_slice(&payload).map_err(|_| TokenProblem::Malformed)?;
        let subject = claims
            .sub
            .filter(|s| !s.trim().is_empty())
            .ok_or(TokenProblem::NoSubject)?;
        if claims.exp.is_some_and(|exp| exp <= now_unix) {
            return Err(TokenProblem::Expired);
        }
        Ok(Self {
            token: Some(token.to_owned()),
            subject,
            roles: claims.roles,
        })
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    pub fn signed_in(&self) -> bool {
        self.token.is_some()
    }

    /// The agent as the actor of a change: a supervisor only when that is their one staff
    /// role, an agent otherwise (the suite refuses SUPERVISOR without the role).
    pub fn actor(&self) -> common::Actor {
        let supervisor = self.roles.iter().any(|r| r == "supervisor")
            && !self.roles.iter().any(|r| r == "agent");
        let kind = if supervisor {
            common::ActorKind::Supervisor
        } else {
            common::ActorKind::Agent
        };
        common::Actor {
            kind: kind as i32,
            id: self.subject.clone(),
        }
    }
}

/// The session cookie's value, if the request has one.
pub(crate) fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty())
}

/// `Set-Cookie` for a signed-in agent: a session cookie (no Max-Age, no Expires) the page's
/// scripts cannot read and other sites cannot send.
pub(crate) fn set_cookie(token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/{secure}")
}

/// `Set-Cookie` that ends the session.
pub(crate) fn clear_cookie(secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0{secure}")
}

/// Whether a POST comes from the console's own pages: its `Origin` (or, when a browser sent
/// none, its `Referer`) names the host the request was sent to. Neither = refused.
pub(crate) fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_ascii_lowercase)
    else {
        return false;
    };
    let source = headers
        .get(http::header::ORIGIN)
        .or_else(|| headers.get(http::header::REFERER))
        .and_then(|h| h.to_str().ok());
    let Some(source) = source else {
        return false;
    };
    let Some((_, rest)) = source.split_once("://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    authority.to_ascii_lowercase() == host
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(claims: &str) -> String {
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        format!(
            "{}.{}.{}",
            engine.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
            engine.encode(claims),
            engine.encode("signature")
        )
    }

    #[test]
    fn the_actor_is_the_tokens_subject_as_an_agent_or_a_supervisor() {
        let agent = Agent::from_token(&token(r#"{"sub":"agent-42","roles":["agent"]}"#), 0)
            .expect("a token");
        assert_eq!(agent.actor().id, "agent-42");
        assert_eq!(agent.actor().kind, common::ActorKind::Agent as i32);
        let supervisor = Agent::from_token(&token(r#"{"sub":"sup-1","roles":["supervisor"]}"#), 0)
            .expect("a token");
        assert_eq!(
            supervisor.actor().kind,
            common::ActorKind::Supervisor as i32
        );
    }

    #[test]
    fn tokens_without_a_subject_expired_or_not_jwts_are_refused() {
        assert_eq!(
            Agent::from_token("not-a-token", 0),
            Err(TokenProblem::Malformed)
        );
        let with_attribute = format!("{}; Domain=evil.example", token(r#"{"sub":"a"}"#));
        assert_eq!(
            Agent::from_token(&with_attribute, 0),
            Err(TokenProblem::Malformed),
            "nothing may ride along into the cookie"
        );
        assert_eq!(
            Agent::from_token(&token(r#"{"roles":["agent"]}"#), 0),
            Err(TokenProblem::NoSubject)
        );
        assert_eq!(
            Agent::from_token(&token(r#"{"sub":"a","exp":100}"#), 100),
            Err(TokenProblem::Expired)
        );
    }

    #[test]
    fn the_cookie_is_a_strict_http_only_session_cookie() {
        let cookie = set_cookie("abc", true);
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Strict"));
        assert!(cookie.contains("Path=/"));
        assert!(cookie.contains("Secure"));
        assert!(!cookie.contains("Max-Age"));
        assert!(!set_cookie("abc", false).contains("Secure"));
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::COOKIE,
            format!("other=1; {COOKIE}=abc").parse().expect("header"),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("abc"));
    }

    #[test]
    fn posts_from_another_origin_or_from_nowhere_are_refused() {
        let headers = |pairs: &[(http::header::HeaderName, &str)]| {
            let mut map = HeaderMap::new();
            for (name, value) in pairs {
                map.insert(name.clone(), value.parse().expect("header"));
            }
            map
        };
        use http::header::{HOST, ORIGIN, REFERER};
        assert!(same_origin(&headers(&[
            (HOST, "127.0.0.1:8080"),
            (ORIGIN, "http://127.0.0.1:8080")
        ])));
        assert!(same_origin(&headers(&[
            (HOST, "127.0.0.1:8080"),
            (REFERER, "http://127.0.0.1:8080/customers/x")
        ])));
        assert!(!same_origin(&headers(&[
            (HOST, "127.0.0.1:8080"),
            (ORIGIN, "http://evil.example")
        ])));
        assert!(!same_origin(&headers(&[
            (HOST, "127.0.0.1:8080"),
            (ORIGIN, "null")
        ])));
        assert!(!same_origin(&headers(&[(HOST, "127.0.0.1:8080")])));
    }
}
