//! A per-call deadline: the server's own limit, or the caller's `grpc-timeout` when that is
//! sooner. A call that ran out of time is `DEADLINE_EXCEEDED` in gRPC's status vocabulary, which
//! clients retry differently; tonic's own timeout (which also reads `grpc-timeout`, outside our
//! layers) answers `CANCELLED "Timeout expired"`, so this layer fires 1 ms before the caller's
//! deadline and its answer is the one sent (found by the grpc-js conformance run, issue 16).
//!
//! When the deadline fires the handler's future is dropped, so handlers keep work that must
//! finish in one transaction (STYLE.md 11).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tonic::body::Body;
use tower::Service;
use tower_layer::Layer;

/// When the call's handler is stopped at the latest (a request extension for the layers
/// inside this one: the guard's audit sweep waits until then).
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallDeadline(pub(crate) std::time::SystemTime);

#[derive(Debug, Clone, Copy)]
pub(crate) struct DeadlineLayer {
    limit: Duration,
}

impl DeadlineLayer {
    pub(crate) fn new(limit: Duration) -> Self {
        Self { limit }
    }
}

impl<S> Layer<S> for DeadlineLayer {
    type Service = DeadlineService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        DeadlineService {
            inner,
            limit: self.limit,
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct DeadlineService<S> {
    inner: S,
    limit: Duration,
}

impl<S, B> Service<http::Request<B>> for DeadlineService<S>
where
    S: Service<http::Request<B>, Response = http::Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: http::Request<B>) -> Self::Future {
        let limit = self.limit;
        let callers = request
            .headers()
            .get("grpc-timeout")
            .and_then(|value| value.to_str().ok())
            .and_then(grpc_timeout)
            // Before tonic's timer for the same deadline (see the module's comment).
            .map(|timeout| timeout.saturating_sub(Duration::from_millis(1)));
        let (wait, whose) = match callers {
            Some(callers) if callers < limit => (callers, "the caller's deadline"),
            _ => (limit, "the server's limit"),
        };
        request
            .extensions_mut()
            .insert(CallDeadline(std::time::SystemTime::now() + wait));
        let call = self.inner.call(request);
        Box::pin(async move {
            match tokio::time::timeout(wait, call).await {
                Ok(result) => result,
                Err(_) => Ok(tonic::Status::deadline_exceeded(format!(
                    "the call did not finish within {whose} ({} ms)",
                    wait.as_millis()
                ))
                .into_http()),
            }
        })
    }
}

/// A `grpc-timeout` header's duration: at most 8 digits and a unit (gRPC's PROTOCOL-HTTP2:
/// H, M, S, m, u, n); `None` when malformed.
fn grpc_timeout(text: &str) -> Option<Duration> {
    let (digits, unit) = text.split_at(text.len().checked_sub(1)?);
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let amount: u64 = digits.parse().ok()?;
    Some(match unit {
        "H" => Duration::from_secs(amount.checked_mul(3600)?),
        "M" => Duration::from_secs(amount.checked_mul(60)?),
        "S" => Duration::from_secs(amount),
        "m" => Duration::from_millis(amount),
        "u" => Duration::from_micros(amount),
        "n" => Duration::from_nanos(amount),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grpc_timeouts_are_read_in_every_unit_and_malformed_ones_ignored() {
        assert_eq!(grpc_timeout("1m"), Some(Duration::from_millis(1)));
        assert_eq!(grpc_timeout("2S"), Some(Duration::from_secs(2)));
        assert_eq!(grpc_timeout("3M"), Some(Duration::from_secs(180)));
        assert_eq!(grpc_timeout("1H"), Some(Duration::from_secs(3600)));
        assert_eq!(grpc_timeout("500u"), Some(Duration::from_micros(500)));
        assert_eq!(
            grpc_timeout("99999999n"),
            Some(Duration::from_nanos(99_999_999))
        );
        for bad in ["", "m", "123456789m", "1x", "-1m", "1.5S"] {
            assert_eq!(grpc_timeout(bad), None, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn a_callers_deadline_ends_the_call_as_deadline_exceeded() {
        let slow = tower::service_fn(|_request: http::Request<()>| async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            Ok::<_, std::convert::Infallible>(http::Response::new(Body::empty()))
        });
        let mut service = DeadlineLayer::new(Duration::from_secs(30)).layer(slow);
        let request = http::Request::builder()
            .header("grpc-timeout", "20m")
            .body(())
            .expect("a request");
        let response = service.call(request).await.expect("an answer");
        assert_eq!(
            rapport_telemetry::grpc_status_code(response.headers()),
            Some(tonic::Code::DeadlineExceeded as i32)
        );
    }
}
