//! The business clock's admin routes, present only when the process runs a movable clock
//! (`rapport dev --clock`, or `rapport serve` with `server.business_clock` and
//! `server.insecure = true`). They live on the admin port, beside `/metrics`, rather than in a
//! gRPC service: moving time is an operator's act on one process, never part of the contract
//! that foreign clients see (no proto, no reflection entry), and the route does not exist at all
//! where time is real.
//!
//! - `GET /clock`: the business time and speed;
//! - `POST /clock/advance` with a duration (`31d`, `2h 30m`; days are 24 hours);
//! - `POST /clock/set` with an RFC 3339 instant (forward only);
//! - `POST /clock/speed` with a number (1 = real time, 0 = stopped).

use std::sync::Arc;

use axum::http::StatusCode;
use axum::routing::{get, post};
use jiff::{SignedDuration, Span, SpanRelativeTo, Timestamp};
use rapport_clock::{Clock, MovableClock};

pub(crate) fn routes(clock: Arc<MovableClock>) -> axum::Router {
    let (read, advance, set, speed) = (clock.clone(), clock.clone(), clock.clone(), clock);
    axum::Router::new()
        .route(
            "/clock",
            get(move || async move { (StatusCode::OK, describe(&read)) }),
        )
        .route(
            "/clock/advance",
            post(move |body: String| async move {
                answer(
                    &advance,
                    parse_duration(body.trim())
                        .and_then(|by| advance.advance(by).map_err(|e| e.to_string())),
                )
            }),
        )
        .route(
            "/clock/set",
            post(move |body: String| async move {
                answer(
                    &set,
                    body.trim()
                        .parse::<Timestamp>()
                        .map_err(|e| format!("not an RFC 3339 instant: {e}"))
                        .and_then(|to| set.set(to).map_err(|e| e.to_string())),
                )
            }),
        )
        .route(
            "/clock/speed",
            post(move |body: String| async move {
                let moved = body
                    .trim()
                    .parse::<f64>()
                    .map_err(|e| format!("not a number: {e}"))
                    .and_then(|to| speed.set_speed(to).map_err(|e| e.to_string()))
                    .map(|()| speed.now());
                answer(&speed, moved)
            }),
        )
}

fn describe(clock: &MovableClock) -> String {
    format!("business time {} (speed {})\n", clock.now(), clock.speed())
}

fn answer(clock: &MovableClock, moved: Result<Timestamp, String>) -> (StatusCode, String) {
    match moved {
        Ok(to) => {
            tracing::warn!(business_time = %to, speed = clock.speed(), "the business clock was moved");
            (StatusCode::OK, describe(clock))
        }
        Err(why) => (StatusCode::BAD_REQUEST, format!("{why}\n")),
    }
}

/// `31d`, `36h`, `2h 30m`, `1 week`: jiff's friendly durations, days and weeks of 24 hours.
pub fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let span: Span = text
        .parse()
        .map_err(|e| format!("not a duration like 31d or 2h 30m: {e}"))?;
    span.to_duration(SpanRelativeTo::days_are_24_hours())
        .map_err(|e| format!("not a duration like 31d or 2h 30m: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(
            parse_duration("31d"),
            Ok(SignedDuration::from_hours(31 * 24))
        );
        assert_eq!(parse_duration("2h 30m"), Ok(SignedDuration::from_mins(150)));
        assert_eq!(
            parse_duration("1 week"),
            Ok(SignedDuration::from_hours(7 * 24))
        );
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("1 month").is_err());
    }
}
