//! Reading gRPC responses, shared by the guard (audit outcomes) and the metrics layer.

use bytes::Bytes;
use http_body::Frame;
use http_body_util::StreamBody;
use tonic::Code;
use tonic::body::Body;

/// The body of a unary response rebuilt from what a layer collected, as gRPC's PROTOCOL-HTTP2
/// wants it on the wire: a message is DATA then trailers; no message and no trailers is
/// Trailers-Only, where the status is already in the headers and the body must be *known* to be
/// empty, so that the headers go out with END_STREAM. A stream that merely yields nothing makes
/// hyper send the headers open and then an empty DATA frame with END_STREAM and no trailers,
/// which C-core clients (grpcio) read as `UNKNOWN "Stream removed"` (issue 16).
pub(crate) fn unary_body(data: Bytes, trailers: Option<http::HeaderMap>) -> Body {
    if data.is_empty() && trailers.is_none() {
        return Body::empty();
    }
    let mut frames = Vec::with_capacity(2);
    if !data.is_empty() {
        frames.push(Ok::<_, std::convert::Infallible>(Frame::data(data)));
    }
    if let Some(trailers) = trailers {
        frames.push(Ok(Frame::trailers(trailers)));
    }
    Body::new(StreamBody::new(tokio_stream::iter(frames)))
}

/// The code of a response, from its headers (trailers-only) or its trailers.
pub(crate) fn status(headers: &http::HeaderMap) -> Option<Code> {
    rapport_telemetry::grpc_status_code(headers).map(Code::from_i32)
}

/// The canonical name of a gRPC code, as the audit trail records it and metrics label it
/// (`rpc.response.status_code`).
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_response_is_trailers_only_and_a_message_keeps_its_trailers() {
        use http_body::Body as _;
        assert!(
            unary_body(Bytes::new(), None).is_end_stream(),
            "no message: the headers must carry END_STREAM"
        );
        let mut trailers = http::HeaderMap::new();
        trailers.insert("grpc-status", http::HeaderValue::from_static("0"));
        let body = unary_body(Bytes::from_static(b"\0\0\0\0\0"), Some(trailers));
        assert!(!body.is_end_stream());
    }

    #[test]
    fn codes_have_their_canonical_names_and_are_read_from_headers() {
        for (number, name) in [
            (0, "OK"),
            (3, "INVALID_ARGUMENT"),
            (14, "UNAVAILABLE"),
            (16, "UNAUTHENTICATED"),
        ] {
            assert_eq!(code_name(Code::from_i32(number)), name);
        }
        let mut headers = http::HeaderMap::new();
        assert_eq!(status(&headers), None);
        headers.insert("grpc-status", http::HeaderValue::from_static("5"));
        assert_eq!(status(&headers), Some(Code::NotFound));
    }
}
