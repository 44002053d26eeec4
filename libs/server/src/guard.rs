//! The guard every call passes (DESIGN.md, Operations: security), as one async tower layer:
//!
//! 1. health is open to all; everything else needs a valid bearer token (`UNAUTHENTICATED`);
//! 2. the caller's rate limit (`RESOURCE_EXHAUSTED`, with the wait);
//! 3. the request size limit (`RESOURCE_EXHAUSTED`);
//! 4. the permission the RPC needs, from `rapport_security::policy` — raised for a sensitive
//!    view — held by one of the caller's roles (`PERMISSION_DENIED` names it);
//! 5. after the call, changes and sensitive reads go to the service's audit trail, with the ids
//!    the request and response name and the status the call ended with. A sensitive read whose
//!    entry cannot be written is not answered.
//!
//! Without authentication (`rapport dev`, tests) steps 1, 2 and 4 let everything through as
//! `anonymous`, and the trail is still written.
//!
//! A call refused at step 1 is an invalid access attempt (PCI DSS 10.2.1.4; SOC 2 CC6/CC7), so it
//! goes to the trail of the service it called too, whatever the RPC (a read included: the caller
//! proved nothing, and probing with reads is an attempt all the same), with its source address
//! and why the token was refused, never the token (`refusals`). A flood does not grow the trail
//! without bound: one entry per source and service a minute at most, with a count.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use rapport_audit::targets::{Descriptors, capped, string_field, varint_field};
use rapport_audit::{AuditLog, NewEntry, PendingCall};
use rapport_proto::audit::v1::audit_service_server;
use rapport_security::actors::{self, Verdict, actor_field};
use rapport_security::policy::{self, Access, Permission};
use rapport_security::rate_limit::RateLimiter;
use rapport_security::{Caller, Verifier};
use tonic::Status;
use tonic::body::Body;
use tower::Service;
use tower_layer::Layer;

mod refusals;
use refusals::{FLUSH_EVERY, Flush, Refusals, source_of};

/// The actor recorded when authentication is off.
const ANONYMOUS: &str = "anonymous";

/// What the guard checks with; shared by every connection.
#[derive(Debug)]
pub(crate) struct Guard {
    /// `None` when authentication is off.
    pub verifier: Option<Verifier>,
    pub limiter: RateLimiter,
    pub max_message_bytes: usize,
    /// Each gRPC service's trail (the trail of the unit that serves it).
    pub trails: HashMap<&'static str, AuditLog>,
    /// Each unit's trail by unit name: a read of a trail is audited in the trail it read.
    pub unit_trails: BTreeMap<&'static str, AuditLog>,
    pub descriptors: Descriptors,
    /// Refused authentications counted since their source's last entry.
    pub refusals: Refusals,
}

#[derive(Debug, Clone)]
pub(crate) struct GuardLayer {
    guard: Arc<Guard>,
}

impl GuardLayer {
    pub fn new(guard: Guard) -> Self {
        Self {
            guard: Arc::new(guard),
        }
    }

    /// Writes the refused authentications counted in memory: each window's count once it closes
    /// (checked every [`FLUSH_EVERY`]), and every count at shutdown, after the last call and
    /// before storage closes. Run it as one of the server's workers.
    pub fn flush_refusals(
        &self,
        mut stopping: crate::unit::Stopping,
    ) -> impl Future<Output = ()> + Send + 'static {
        let guard = self.guard.clone();
        async move {
            if guard.verifier.is_none() {
                // Without authentication nothing is refused for its token.
                return;
            }
            loop {
                tokio::select! {
                    () = stopping.stopped() => {
                        guard.flush_refusals(Flush::All).await;
                        return;
                    }
                    () = tokio::time::sleep(FLUSH_EVERY) => guard.flush_refusals(Flush::Closed).await,
                }
            }
        }
    }
}

impl<S> Layer<S> for GuardLayer {
    type Service = GuardService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: self.guard.clone(),
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct GuardService<S> {
    inner: S,
    guard: Arc<Guard>,
}

type BoxFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, E>> + Send>>;

impl<S> Service<http::Request<Body>> for GuardService<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        // The clone that was polled ready handles this call (tower's usual swap).
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let guard = self.guard.clone();
        Box::pin(async move {
            match guard.admit(request).await {
                Admitted::Pass(request) => {
                    let mut inner = inner;
                    inner.call(request).await
                }
                Admitted::Refused(status) => Ok(status.into_http()),
                Admitted::Checked(call) => {
                    let mut inner = inner;
                    // The handler runs in its unit's storage scope: its storage errors reach
                    // the unit's health, and a change's transaction commits the audit entry's
                    // pending half with it.
                    let scope = guard.scope_of(&call);
                    let running = inner.call(call.request);
                    let response = match scope {
                        Some(scope) => scope.run(running).await?,
                        None => running.await?,
                    };
                    Ok(guard.finish(call.audit, response).await)
                }
            }
        })
    }
}

// Lives for one call and is matched at once; boxing would only add an allocation per call.
#[allow(clippy::large_enum_variant)]
enum Admitted {
    /// Not a Rapport RPC (health, reflection): passed on untouched.
    Pass(http::Request<Body>),
    Refused(Status),
    Checked(Checked),
}

struct Checked {
    request: http::Request<Body>,
    /// Set when the call is audited.
    audit: Option<Pending>,
    /// The trail, and so the storage, the call belongs to (for the audit service: the unit
    /// whose trail it reads), audited or not.
    trail: Option<AuditLog>,
}

/// What is known of an audited call before it runs.
struct Pending {
    caller: Caller,
    role: String,
    method: String,
    access: Access,
    request_body: Bytes,
    trace_id: String,
    /// For a change: the entry's half its transaction commits with it.
    call: Option<PendingCall>,
    /// The person the `service` role acts for, as the request names them (issue 21).
    on_behalf_of: Option<String>,
}

/// How long after a call's deadline its pending audit half waits before the sweep writes the
/// entry without an outcome: the guard's own append after the handler finishes fits in it.
const SETTLE_MARGIN: Duration = Duration::from_secs(5);

impl Guard {
    async fn admit(&self, request: http::Request<Body>) -> Admitted {
        let method = request.uri().path().to_owned();
        let service = policy::service_of(&method);
        if policy::OPEN_SERVICES.contains(&service) {
            return Admitted::Pass(request);
        }
        let caller = match &self.verifier {
            None => Caller {
                subject: ANONYMOUS.to_owned(),
                roles: Vec::new(),
            },
            Some(verifier) => {
                let header = request
                    .headers()
                    .get(http::header::AUTHORIZATION)
                    .and_then(|value| value.to_str().ok());
                match Verifier::bearer(header).and_then(|token| verifier.verify(token)) {
                    Ok(caller) => caller,
                    Err(error) => {
                        // Read before the await: a request body is not `Sync`.
                        let (source, trace_id) = (source_of(&request), trace_id(request.headers()));
                        self.refused_authentication(source, trace_id, &method, &error)
                            .await;
                        return Admitted::Refused(Status::unauthenticated(error.to_string()));
                    }
                }
            }
        };
        if self.verifier.is_some()
            && let Err(wait) = self
                .limiter
                .check(&caller.subject, &caller.roles, Instant::now())
        {
            tracing::warn!(rpc = %method, caller = %caller.subject, "rate limit exceeded");
            return Admitted::Refused(Status::resource_exhausted(format!(
                "rate limit for this caller exceeded; retry in {} ms",
                wait.as_millis().max(1)
            )));
        }
        if policy::AUTHENTICATED_SERVICES.contains(&service) {
            return Admitted::Pass(request);
        }

        let (parts, body) = request.into_parts();
        // The 5-byte gRPC frame header comes on top of the message.
        let body = match Limited::new(body, self.max_message_bytes + 5)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(error) if error.is::<http_body_util::LengthLimitError>() => {
                return Admitted::Refused(Status::resource_exhausted(format!(
                    "the request is larger than the limit of {} bytes",
                    self.max_message_bytes
                )));
            }
            Err(_) => return Admitted::Refused(Status::cancelled("the request body broke off")),
        };
        let mut request = http::Request::from_parts(parts, Body::new(Full::new(body.clone())));

        let Some(rpc) = policy::rpc_of(&method) else {
            // A method the contract does not have reaches nothing: tonic answers UNIMPLEMENTED,
            // to an authenticated caller as to anyone (gRPC interop `unimplemented_method`).
            return Admitted::Checked(Checked {
                request,
                audit: None,
                trail: None,
            });
        };
        let (permission, access) = match rpc.elevated {
            Some(elevated) if varint_field(&body, elevated.field) == Some(elevated.value) => {
                (elevated.permission, elevated.access)
            }
            _ => (rpc.permission, rpc.access),
        };
        let authorized = self.authorize(&caller, permission).and_then(|role| {
            // The person a request names as acting is the caller (issue 21).
            let verdict = match actor_field(&method) {
                Some(field) if self.verifier.is_some() => match grpc_message(&body) {
                    Some(message) => actors::check(field, message, &caller),
                    None => Verdict::Refuse(format!(
                        "{} cannot be checked in a compressed request; send it uncompressed",
                        field.name()
                    )),
                },
                _ => Verdict::Pass,
            };
            match verdict {
                Verdict::Refuse(why) => Err(Status::permission_denied(why)),
                verdict => Ok((role, verdict)),
            }
        });
        let (role, verdict) = match authorized {
            Ok(authorized) => authorized,
            Err(status) => {
                if access != Access::Read {
                    let pending = Pending {
                        role: roles_text(&caller),
                        caller,
                        method,
                        access,
                        request_body: body,
                        trace_id: trace_id(request.headers()),
                        call: None,
                        on_behalf_of: None,
                    };
                    // A refused change or sensitive read is audited too, with whom it was about.
                    let targets = self
                        .descriptors
                        .request_targets(&pending.method, &pending.request_body);
                    self.record(&pending, "PERMISSION_DENIED", targets).await;
                }
                return Admitted::Refused(status);
            }
        };
        let on_behalf_of = match verdict {
            Verdict::OnBehalfOf(id) => Some(id),
            Verdict::Pass | Verdict::Refuse(_) => None,
        };
        let trail = self.trail_of(&method, &body).cloned();
        request.extensions_mut().insert(caller.clone());
        // Only an audited call needs its trace id (formatting it was 3 % of a plain read's CPU,
        // issue 23).
        let audit = (access != Access::Read).then(|| {
            let mut pending = Pending {
                trace_id: trace_id(request.headers()),
                caller,
                role,
                method,
                access,
                request_body: body,
                call: None,
                on_behalf_of,
            };
            if access == Access::Change {
                let deadline = request
                    .extensions()
                    .get::<crate::deadline::CallDeadline>()
                    .map_or_else(std::time::SystemTime::now, |deadline| deadline.0);
                let targets = self
                    .descriptors
                    .request_targets(&pending.method, &pending.request_body);
                let before = self.entry(&pending, "", targets);
                let finish_by = (deadline + SETTLE_MARGIN)
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |since| {
                        i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
                    });
                pending.call = Some(PendingCall::new(&before, finish_by));
            }
            pending
        });
        Admitted::Checked(Checked {
            request,
            audit,
            trail,
        })
    }

    /// The storage scope a checked call runs in: its unit's storage health, and for an audited
    /// change the hook that commits the entry's pending half with the change.
    fn scope_of(&self, call: &Checked) -> Option<rapport_storage::CallScope> {
        let trail = call.trail.as_ref()?;
        Some(rapport_storage::CallScope {
            health: trail.storage().health().clone(),
            on_commit: call
                .audit
                .as_ref()
                .and_then(|pending| pending.call.as_ref())
                .map(PendingCall::commit_row),
        })
    }

    /// The role under which `caller` may use `permission`.
    fn authorize(&self, caller: &Caller, permission: Permission) -> Result<String, Status> {
        if self.verifier.is_none() {
            return Ok("none".to_owned());
        }
        caller
            .roles
            .iter()
            .find(|role| policy::grants(**role, permission))
            .map(|role| role.as_str().to_owned())
            .ok_or_else(|| {
                Status::permission_denied(format!(
                    "missing permission {permission} (roles held: {})",
                    roles_text(caller)
                ))
            })
    }

    async fn finish(
        self: &Arc<Self>,
        audit: Option<Pending>,
        response: http::Response<Body>,
    ) -> http::Response<Body> {
        let Some(pending) = audit else {
            return response;
        };
        let (parts, body) = response.into_parts();
        // Unary responses only: a message and trailers (or trailers only, for an error).
        let collected = match body.collect().await {
            Ok(collected) => collected,
            Err(_) => {
                self.record(&pending, "CANCELLED", Vec::new()).await;
                return Status::cancelled("the response broke off").into_http();
            }
        };
        let trailers = collected.trailers().cloned();
        let data = collected.to_bytes();
        let code = crate::grpc::status(&parts.headers)
            .or_else(|| trailers.as_ref().and_then(crate::grpc::status))
            .unwrap_or(tonic::Code::Ok);
        let mut targets = self
            .descriptors
            .request_targets(&pending.method, &pending.request_body);
        if code == tonic::Code::Ok {
            for target in self.descriptors.response_targets(&pending.method, &data) {
                if !targets.contains(&target) {
                    targets.push(target);
                }
            }
        }
        if pending.access == Access::Change && is_fault(code) {
            // The storage may be what failed: answer now, after one timeout, and write the
            // entry behind the answer, retrying while the storage recovers (issue 20). A change
            // that committed has its pending half, which the sweep turns into an entry anyway.
            let guard = Arc::clone(self);
            tokio::spawn(async move {
                guard
                    .record_retrying(&pending, crate::grpc::code_name(code), targets)
                    .await;
            });
            return http::Response::from_parts(parts, crate::grpc::unary_body(data, trailers));
        }
        let written = self
            .record(&pending, crate::grpc::code_name(code), targets)
            .await;
        if !written && pending.access == Access::SensitiveRead && code == tonic::Code::Ok {
            return Status::unavailable(
                "the audit trail cannot be written, so sensitive data is not returned; retry later",
            )
            .into_http();
        }
        http::Response::from_parts(parts, crate::grpc::unary_body(data, trailers))
    }

    /// [`Guard::record`], tried again with backoff (1 s doubling to 30 s, for about five
    /// minutes) while the trail cannot be written; then the entry is given up with an error log.
    async fn record_retrying(&self, pending: &Pending, outcome: &str, targets: Vec<String>) {
        let mut wait = Duration::from_secs(1);
        for _ in 0..14 {
            if self.record(pending, outcome, targets.clone()).await {
                return;
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(30));
        }
        tracing::error!(rpc = %pending.method, outcome, "audit entry given up after five minutes of retries");
    }

    /// The trail (and so the storage) a call belongs to: its service's unit's, or for the audit
    /// service the unit whose trail it reads.
    fn trail_of(&self, method: &str, request_body: &Bytes) -> Option<&AuditLog> {
        let service = policy::service_of(method);
        if service == audit_service_server::SERVICE_NAME {
            // `service` (field 1) names the trail read; empty = the only one.
            match string_field(request_body, 1).filter(|name| !name.is_empty()) {
                Some(name) => self.unit_trails.get(name.as_str()),
                None if self.unit_trails.len() == 1 => self.unit_trails.values().next(),
                None => None,
            }
        } else {
            self.trails.get(service)
        }
    }

    fn entry(&self, pending: &Pending, outcome: &str, targets: Vec<String>) -> NewEntry {
        let mut targets = capped(targets);
        // After the record ids, and never capped away: whom the service acted for.
        if let Some(person) = &pending.on_behalf_of {
            targets.push(format!("on_behalf_of={person}"));
        }
        NewEntry {
            recorded_at_micros: rapport_clock::to_unix_micros(jiff::Timestamp::now()),
            actor: pending.caller.subject.clone(),
            role: pending.role.clone(),
            rpc: pending.method.clone(),
            targets,
            outcome: outcome.to_owned(),
            trace_id: pending.trace_id.clone(),
        }
    }

    /// Appends one entry to the trail of the RPC's service (settling the call's pending half);
    /// whether it was written.
    async fn record(&self, pending: &Pending, outcome: &str, targets: Vec<String>) -> bool {
        let Some(trail) = self.trail_of(&pending.method, &pending.request_body) else {
            // A unit without storage (some tests) keeps no trail; a refused read of a trail
            // that does not exist has nothing to protect.
            return true;
        };
        let entry = self.entry(pending, outcome, targets);
        let appended = match &pending.call {
            Some(call) => trail.append_for(call, &entry).await,
            None => trail.append(&entry).await,
        };
        match appended {
            Ok(_) => true,
            Err(error) => {
                tracing::error!(rpc = %pending.method, error = %rapport_errors::chain(&error), "cannot write the audit entry");
                false
            }
        }
    }
}

/// Codes a failing storage (or a call cut off by its deadline) answers with.
fn is_fault(code: tonic::Code) -> bool {
    matches!(
        code,
        tonic::Code::Unavailable
            | tonic::Code::ResourceExhausted
            | tonic::Code::DataLoss
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Internal
            | tonic::Code::Unknown
    )
}

/// The message of a unary gRPC request body (one frame: a compression flag, a 4-byte length,
/// the message); `None` when it is compressed or not one whole frame.
fn grpc_message(body: &Bytes) -> Option<&[u8]> {
    let (header, message) = body.split_at_checked(5)?;
    let length = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    (header[0] == 0 && length == message.len()).then_some(message)
}

fn roles_text(caller: &Caller) -> String {
    if caller.roles.is_empty() {
        return "none".to_owned();
    }
    caller
        .roles
        .iter()
        .map(|role| role.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// The trace id of the call: from the current span's context, or the caller's `traceparent`.
fn trace_id(headers: &http::HeaderMap) -> String {
    let traceparent = rapport_telemetry::current_traceparent().or_else(|| {
        headers
            .get("traceparent")
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    });
    traceparent
        .as_deref()
        .and_then(|text| text.split('-').nth(1))
        .filter(|id| id.len() == 32 && *id != "00000000000000000000000000000000")
        .unwrap_or_default()
        .to_owned()
}
