//! Refused authentications (issue 21, item 4), counted in memory per (source, service) between
//! their audit entries: the first of a window is written at once, the rest as one entry with a
//! count when the window closes (the guard's flush worker), so a flood cannot grow the trail
//! without bound.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use rapport_audit::targets::capped;
use rapport_audit::{AuditLog, NewEntry};
use rapport_proto::audit::v1::audit_service_server;
use rapport_security::{TokenError, policy};
use tonic::body::Body;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};

use super::Guard;

/// How long one entry covers a source's refused authentications to one service: the first is
/// written at once, the rest are counted and written together when the window closes.
const REFUSAL_WINDOW: Duration = Duration::from_secs(60);
/// How often the flush worker looks for closed windows.
pub(super) const FLUSH_EVERY: Duration = Duration::from_secs(5);
/// (source, service) pairs counted on their own, all services together. Past this, refusals
/// from new sources share one window per service whose entries say `source=other`, until windows
/// close and free places: the trail stays bounded (at most this many entries, plus one per
/// service, a window) and no refusal goes uncounted.
const MAX_REFUSAL_SOURCES: usize = 1024;
/// Distinct RPCs and reasons named in one entry; the count covers the rest.
const MAX_REFUSAL_DETAILS: usize = 8;
/// The actor of a refused authentication's entry (its role is `none`): the caller proved no
/// identity.
const UNAUTHENTICATED_ACTOR: &str = "unauthenticated";
const UNAUTHENTICATED_OUTCOME: &str = "UNAUTHENTICATED";

/// Where refused calls came from: the peer address of the connection (the load balancer's,
/// behind one; a forwarded-for header is the caller's word, so it is not taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) enum Source {
    Address(IpAddr),
    /// A transport that names no address.
    Unknown,
    /// Past [`MAX_REFUSAL_SOURCES`].
    Other,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Address(address) => write!(f, "{address}"),
            Self::Unknown => f.write_str("unknown"),
            Self::Other => f.write_str("other"),
        }
    }
}

/// The source address of a request: tonic puts the connection's info in its extensions, over
/// TLS wrapped in `TlsConnectInfo`.
pub(super) fn source_of(request: &http::Request<Body>) -> Source {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|info| info.get_ref().remote_addr())
        })
        .map_or(Source::Unknown, |address| {
            Source::Address(address.ip().to_canonical())
        })
}

/// Why a token was refused, as the trail records it: the error's kind, never the token.
fn refusal_reason(error: &TokenError) -> &'static str {
    match error {
        TokenError::Missing => "missing",
        TokenError::NotBearer => "not_bearer",
        TokenError::Malformed => "malformed",
        TokenError::Expired => "expired",
        TokenError::NotYetValid => "not_yet_valid",
        TokenError::WrongIssuer => "wrong_issuer",
        TokenError::WrongAudience => "wrong_audience",
        TokenError::BadSignature => "bad_signature",
        TokenError::UntrustedKey => "untrusted_key",
        TokenError::MissingClaim(_) => "missing_claim",
    }
}

/// The refusals one entry covers.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RefusalCount {
    source: Source,
    service: &'static str,
    /// The distinct RPCs refused, the first first (it is the entry's RPC).
    rpcs: Vec<String>,
    reasons: Vec<&'static str>,
    count: u64,
    first_at: jiff::Timestamp,
    last_at: jiff::Timestamp,
    /// The first refusal's trace id, when the entry covers it alone.
    trace_id: String,
}

impl RefusalCount {
    fn one(source: Source, service: &'static str, refusal: &Refusal) -> Self {
        Self {
            source,
            service,
            rpcs: vec![refusal.rpc.clone()],
            reasons: vec![refusal.reason],
            count: 1,
            first_at: refusal.at,
            last_at: refusal.at,
            trace_id: refusal.trace_id.clone(),
        }
    }

    fn add(&mut self, other: &Self) {
        for rpc in &other.rpcs {
            if !self.rpcs.contains(rpc) && self.rpcs.len() < MAX_REFUSAL_DETAILS {
                self.rpcs.push(rpc.clone());
            }
        }
        for reason in &other.reasons {
            if !self.reasons.contains(reason) && self.reasons.len() < MAX_REFUSAL_DETAILS {
                self.reasons.push(reason);
            }
        }
        self.count += other.count;
        self.first_at = self.first_at.min(other.first_at);
        self.last_at = self.last_at.max(other.last_at);
        if self.count > 1 {
            self.trace_id.clear();
        }
    }

    fn entry(&self) -> NewEntry {
        let mut targets = vec![format!("source={}", self.source)];
        targets.extend(self.reasons.iter().map(|reason| format!("reason={reason}")));
        targets.push(format!("count={}", self.count));
        if self.count > 1 {
            targets.push(format!("first_refused_at={}", self.first_at));
            targets.push(format!("last_refused_at={}", self.last_at));
        }
        targets.extend(self.rpcs.iter().skip(1).map(|rpc| format!("rpc={rpc}")));
        NewEntry {
            recorded_at_micros: rapport_clock::to_unix_micros(jiff::Timestamp::now()),
            actor: UNAUTHENTICATED_ACTOR.to_owned(),
            role: "none".to_owned(),
            rpc: self.rpcs.first().cloned().unwrap_or_default(),
            targets: capped(targets),
            outcome: UNAUTHENTICATED_OUTCOME.to_owned(),
            trace_id: self.trace_id.clone(),
        }
    }
}

/// One refused authentication, as the guard saw it.
#[derive(Debug, Clone)]
struct Refusal {
    rpc: String,
    reason: &'static str,
    at: jiff::Timestamp,
    trace_id: String,
}

/// The refusals of one source to one service since its window opened.
#[derive(Debug)]
struct RefusalWindow {
    opened: Instant,
    /// Counted and not yet written; `None` when everything so far is in the trail.
    unwritten: Option<RefusalCount>,
}

/// Which windows a flush writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Flush {
    /// Those older than [`REFUSAL_WINDOW`].
    Closed,
    /// Every one (shutdown).
    All,
}

/// Refused authentications counted in memory, per (source, service), between their entries.
#[derive(Debug, Default)]
pub(crate) struct Refusals {
    windows: Mutex<HashMap<(Source, &'static str), RefusalWindow>>,
}

impl Refusals {
    /// Counts one refusal; what to write now: the refusal itself when it opens a window, or the
    /// count of a window that closed without the worker having written it yet.
    fn note(
        &self,
        source: Source,
        service: &'static str,
        refusal: &Refusal,
        now: Instant,
    ) -> Option<RefusalCount> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let source =
            if windows.contains_key(&(source, service)) || windows.len() < MAX_REFUSAL_SOURCES {
                source
            } else {
                Source::Other
            };
        let counted = RefusalCount::one(source, service, refusal);
        let Some(window) = windows.get_mut(&(source, service)) else {
            windows.insert(
                (source, service),
                RefusalWindow {
                    opened: now,
                    unwritten: None,
                },
            );
            return Some(counted);
        };
        if now.duration_since(window.opened) < REFUSAL_WINDOW {
            match &mut window.unwritten {
                Some(unwritten) => unwritten.add(&counted),
                None => window.unwritten = Some(counted),
            }
            return None;
        }
        // The window closed and the worker has not come by yet.
        window.opened = now;
        match window.unwritten.take() {
            Some(closed) => {
                window.unwritten = Some(counted);
                Some(closed)
            }
            None => Some(counted),
        }
    }

    /// Takes the counts of the windows `flush` selects; a closed window with nothing to write is
    /// forgotten, freeing its place.
    fn take(&self, flush: Flush, now: Instant) -> Vec<RefusalCount> {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let mut taken = Vec::new();
        windows.retain(|_, window| {
            let closed = now.duration_since(window.opened) >= REFUSAL_WINDOW;
            if !closed && flush == Flush::Closed {
                return true;
            }
            match window.unwritten.take() {
                Some(count) => {
                    taken.push(count);
                    // A source still refused keeps its place; the next window starts now.
                    window.opened = now;
                    true
                }
                None => false,
            }
        });
        taken
    }

    /// Puts back a count that could not be written, to be tried again with the next flush.
    fn restore(&self, count: RefusalCount, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        let window = windows
            .entry((count.source, count.service))
            .or_insert(RefusalWindow {
                opened: now,
                unwritten: None,
            });
        match &mut window.unwritten {
            Some(unwritten) => unwritten.add(&count),
            None => window.unwritten = Some(count),
        }
    }
}

impl Guard {
    /// Records a call refused for its token: at once when it opens its source's window,
    /// otherwise counted for the window's entry.
    pub(super) async fn refused_authentication(
        &self,
        source: Source,
        trace_id: String,
        method: &str,
        error: &TokenError,
    ) {
        let reason = refusal_reason(error);
        let Some(service) = self.refusal_service(method) else {
            // No trail to write to (reflection, or a service this process does not serve).
            tracing::warn!(rpc = %method, %source, reason, "unauthenticated call refused");
            return;
        };
        let refusal = Refusal {
            rpc: method.to_owned(),
            reason,
            at: jiff::Timestamp::now(),
            trace_id,
        };
        let Some(count) = self
            .refusals
            .note(source, service, &refusal, Instant::now())
        else {
            // Counted; the window's entry will say so. A flood is not logged line by line either.
            tracing::debug!(rpc = %method, %source, reason, "unauthenticated call refused");
            return;
        };
        tracing::warn!(rpc = %method, %source, reason, "unauthenticated call refused");
        self.write_refusals(count).await;
    }

    /// The service (as the trails know it, so it lives as long as they do) whose trail a refused
    /// call to `method` goes to.
    fn refusal_service(&self, method: &str) -> Option<&'static str> {
        let service = policy::service_of(method);
        if service == audit_service_server::SERVICE_NAME && !self.unit_trails.is_empty() {
            return Some(audit_service_server::SERVICE_NAME);
        }
        self.trails.get_key_value(service).map(|(name, _)| *name)
    }

    /// Writes the counts `flush` selects.
    pub(super) async fn flush_refusals(&self, flush: Flush) {
        for count in self.refusals.take(flush, Instant::now()) {
            self.write_refusals(count).await;
        }
    }

    /// Appends one entry for `count` to its service's trail; a refused read of the audit service
    /// goes to every trail, since the request that would say which one was never read. Kept to
    /// be tried again if a trail refuses it.
    async fn write_refusals(&self, count: RefusalCount) {
        let trails: Vec<&AuditLog> = if count.service == audit_service_server::SERVICE_NAME {
            self.unit_trails.values().collect()
        } else {
            self.trails.get(count.service).into_iter().collect()
        };
        let entry = count.entry();
        let mut failed = false;
        for trail in trails {
            if let Err(error) = trail.append(&entry).await {
                tracing::error!(rpc = %entry.rpc, error = %rapport_errors::chain(&error), "cannot write the audit entry of refused authentications; kept for the next flush");
                failed = true;
            }
        }
        if failed {
            self.refusals.restore(count, Instant::now());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILES: &str = "rapport.profiles.v1.ProfileService";

    fn refusal(reason: &'static str) -> Refusal {
        Refusal {
            rpc: "/rapport.profiles.v1.ProfileService/CreateCustomer".to_owned(),
            reason,
            at: jiff::Timestamp::now(),
            trace_id: String::new(),
        }
    }

    fn address(last: u8) -> Source {
        Source::Address(IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn a_source_s_first_refusal_is_written_at_once_and_the_rest_once_its_window_closes() {
        let refusals = Refusals::default();
        let start = Instant::now();
        let first = refusals
            .note(address(1), PROFILES, &refusal("expired"), start)
            .expect("the first refusal opens the window and is written");
        assert_eq!(first.count, 1);
        for second in 1..=999 {
            let at = start + Duration::from_millis(second * 50);
            assert_eq!(
                refusals.note(address(1), PROFILES, &refusal("bad_signature"), at),
                None
            );
        }
        // Still open: nothing to write; closed: one count for the 999.
        assert!(
            refusals
                .take(Flush::Closed, start + Duration::from_secs(59))
                .is_empty()
        );
        let closed = refusals.take(Flush::Closed, start + REFUSAL_WINDOW);
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].count, 999);
        assert_eq!(closed[0].reasons, ["bad_signature"]);
        let entry = closed[0].entry();
        assert_eq!(
            (
                entry.actor.as_str(),
                entry.role.as_str(),
                entry.outcome.as_str()
            ),
            ("unauthenticated", "none", "UNAUTHENTICATED")
        );
        assert_eq!(
            &entry.targets[..3],
            ["source=10.0.0.1", "reason=bad_signature", "count=999"]
        );
        // A window that closes with nothing counted is forgotten: the next refusal is a first.
        assert!(
            refusals
                .take(Flush::Closed, start + 2 * REFUSAL_WINDOW)
                .is_empty()
        );
        assert!(
            refusals
                .note(
                    address(1),
                    PROFILES,
                    &refusal("missing"),
                    start + 3 * REFUSAL_WINDOW
                )
                .is_some()
        );
    }

    #[test]
    fn a_refusal_after_a_closed_window_writes_that_window_s_count_and_is_counted_itself() {
        let refusals = Refusals::default();
        let start = Instant::now();
        refusals.note(address(1), PROFILES, &refusal("expired"), start);
        refusals.note(address(1), PROFILES, &refusal("expired"), start);
        refusals.note(address(1), PROFILES, &refusal("expired"), start);
        let closed = refusals
            .note(
                address(1),
                PROFILES,
                &refusal("missing"),
                start + REFUSAL_WINDOW,
            )
            .expect("the closed window's count");
        assert_eq!(
            (closed.count, closed.reasons.as_slice()),
            (2, ["expired"].as_slice())
        );
        let at_shutdown = refusals.take(Flush::All, start + REFUSAL_WINDOW);
        assert_eq!(at_shutdown.len(), 1);
        assert_eq!(
            (at_shutdown[0].count, at_shutdown[0].reasons.as_slice()),
            (1, ["missing"].as_slice())
        );
    }

    #[test]
    fn past_the_cap_new_sources_share_one_count_and_none_is_lost() {
        let refusals = Refusals::default();
        let start = Instant::now();
        let mut written = 0;
        let sources = u32::try_from(MAX_REFUSAL_SOURCES).expect("small") + 500;
        for n in 0..sources {
            let source = Source::Address(IpAddr::from(std::net::Ipv4Addr::from(n + 1)));
            for _ in 0..3 {
                written += refusals
                    .note(source, PROFILES, &refusal("missing"), start)
                    .map_or(0, |count| count.count);
            }
        }
        let flushed = refusals.take(Flush::All, start);
        let counted: u64 = flushed.iter().map(|count| count.count).sum();
        assert_eq!(
            written + counted,
            u64::from(sources) * 3,
            "every refusal is in some entry"
        );
        // One entry per tracked source at once, one for the sources past the cap.
        assert_eq!(
            written,
            u64::try_from(MAX_REFUSAL_SOURCES).expect("small") + 1
        );
        let other: Vec<_> = flushed
            .iter()
            .filter(|count| count.source == Source::Other)
            .collect();
        assert_eq!(other.len(), 1);
        assert_eq!(other[0].count, 500 * 3 - 1);
        assert_eq!(other[0].entry().targets[0], "source=other");
    }

    #[test]
    fn a_count_that_could_not_be_written_is_kept_for_the_next_flush() {
        let refusals = Refusals::default();
        let start = Instant::now();
        let first = refusals
            .note(address(2), PROFILES, &refusal("expired"), start)
            .expect("first");
        refusals.note(address(2), PROFILES, &refusal("expired"), start);
        refusals.restore(first, start);
        let flushed = refusals.take(Flush::All, start);
        assert_eq!(flushed.len(), 1);
        assert_eq!(flushed[0].count, 2);
    }

    #[test]
    fn the_reason_is_the_error_s_kind_never_the_token() {
        assert_eq!(refusal_reason(&TokenError::BadSignature), "bad_signature");
        assert_eq!(
            refusal_reason(&TokenError::MissingClaim("sub")),
            "missing_claim"
        );
        assert_eq!(Source::Unknown.to_string(), "unknown");
        let mapped = Source::Address(
            "::ffff:192.0.2.7"
                .parse::<IpAddr>()
                .expect("ip")
                .to_canonical(),
        );
        assert_eq!(mapped.to_string(), "192.0.2.7");
    }
}
