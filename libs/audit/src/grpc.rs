//! `rapport.audit.v1.AuditService` over the trails one process holds (one per service it runs).

use std::collections::BTreeMap;

use rapport_errors::Validation;
use rapport_paging::Page;
use rapport_proto::audit::v1 as pb;
use rapport_proto::audit::v1::audit_service_server::AuditService;
use tonic::{Request, Response, Status};

use crate::chain::Entry;
use crate::store::{AuditError, AuditLog, Filter};

/// The trails of the services this process runs, by service name (`profiles`, `plans`, ...).
#[derive(Debug, Clone, Default)]
pub struct AuditTrails {
    trails: BTreeMap<&'static str, AuditLog>,
}

impl AuditTrails {
    pub fn new(trails: BTreeMap<&'static str, AuditLog>) -> Self {
        Self { trails }
    }

    /// The trail a request names; empty is allowed when there is only one.
    fn trail(&self, service: &str) -> Result<&AuditLog, Status> {
        let known = || self.trails.keys().copied().collect::<Vec<_>>().join(", ");
        if service.is_empty() {
            let mut only = self.trails.values();
            return match (only.next(), only.next()) {
                (Some(trail), None) => Ok(trail),
                _ => Err(Validation::single(
                    "service",
                    format!("name the service whose trail to read: one of {}", known()),
                )
                .into()),
            };
        }
        self.trails.get(service).ok_or_else(|| {
            Validation::single(
                "service",
                format!("this process keeps no trail for it; it keeps: {}", known()),
            )
            .into()
        })
    }
}

fn failed(error: &AuditError) -> Status {
    match error {
        AuditError::Storage(storage) => storage.fault().status(error),
        // Other writers kept winning the race for the head: busy, safe to retry.
        AuditError::Contended(_) => rapport_errors::Fault::Unavailable.status(error),
        // Written with other appends: judged by what failed them.
        AuditError::Batch(cause) => failed(cause),
        _ => rapport_errors::Fault::Bug.status(error),
    }
}

fn entry_to_pb(entry: Entry) -> pb::AuditEntry {
    let recorded_at = rapport_clock::from_unix_micros(entry.entry.recorded_at_micros)
        .map(rapport_wire::timestamp_to_pb);
    pb::AuditEntry {
        sequence: entry.seq,
        recorded_at,
        actor: entry.entry.actor,
        role: entry.entry.role,
        rpc: entry.entry.rpc,
        targets: entry.entry.targets,
        outcome: entry.entry.outcome,
        trace_id: entry.entry.trace_id,
        previous_hash: entry.previous_hash,
        hash: entry.hash,
    }
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

#[tonic::async_trait]
impl AuditService for AuditTrails {
    #[tracing::instrument(skip_all)]
    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        let request = request.into_inner();
        let trail = self.trail(&request.service)?;
        let mut validation = Validation::new();
        let page = Page::parse(request.page.as_ref(), &mut validation);
        let before_seq = page.after_one::<i64>(&mut validation);
        validation.finish()?;
        let filter = Filter {
            actor: non_empty(request.actor),
            rpc: non_empty(request.rpc),
            target_id: non_empty(request.target_id),
            before_seq,
            limit: page.fetch_limit(),
        };
        let entries = trail.list(&filter).await.map_err(|e| failed(&e))?;
        let (entries, page) = page.finish(entries, |entry| vec![entry.seq.to_string()]);
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries: entries.into_iter().map(entry_to_pb).collect(),
            page,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn verify_audit_chain(
        &self,
        request: Request<pb::VerifyAuditChainRequest>,
    ) -> Result<Response<pb::VerifyAuditChainResponse>, Status> {
        let trail = self.trail(&request.get_ref().service)?;
        let verification = trail.verify().await.map_err(|e| failed(&e))?;
        let (first_broken_sequence, problem) = verification.broken.unwrap_or_default();
        Ok(Response::new(pb::VerifyAuditChainResponse {
            intact: first_broken_sequence == 0,
            entries_checked: verification.entries_checked,
            first_broken_sequence,
            problem,
            head_hash: verification.head_hash,
        }))
    }
}
