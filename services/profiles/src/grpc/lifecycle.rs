//! Merging duplicates, data-subject export, erasure.

use jiff::Timestamp;
use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;
use rapport_reasons::{Reason, ReasonEffect};

use super::convert::{
    self, commitment_to_pb, consent_to_pb, customer_to_pb, interaction_to_pb, timestamp_to_pb,
};
use super::{ProfileApi, commit, not_found};
use crate::domain::consent::Consent;
use crate::domain::customer::{CustomerStatus, View};
use crate::domain::events::ProfileEvent;
use crate::domain::merge;
use crate::domain::preferences::ContactPreferences;
use crate::domain::tenure;
use crate::domain::vulnerability::VulnerabilityRecord;
use crate::error::ProfilesError;
use crate::store::{self, lifecycle::Moved};

/// The survivor's protections after a merge, computed before the move.
struct MergedProtections {
    preferences: Option<ContactPreferences>,
    vulnerability: Option<VulnerabilityRecord>,
    carried_refusals: Vec<Consent>,
}

async fn merged_protections(
    conn: &mut store::Conn,
    survivor: Id,
    duplicate: Id,
    now: Timestamp,
) -> Result<MergedProtections, ProfilesError> {
    use store::preferences::{load_preferences, load_vulnerability};
    let (s_pref, d_pref) = (
        load_preferences(conn, survivor).await?,
        load_preferences(conn, duplicate).await?,
    );
    let (s_vuln, d_vuln) = (
        load_vulnerability(conn, survivor).await?,
        load_vulnerability(conn, duplicate).await?,
    );
    let s_history = store::consents::history(conn, survivor, None, None, i64::MAX).await?;
    let d_history = store::consents::history(conn, duplicate, None, None, i64::MAX).await?;
    Ok(MergedProtections {
        preferences: merge::preferences(s_pref.as_ref(), d_pref.as_ref(), now),
        vulnerability: merge::vulnerability(s_vuln.as_ref(), d_vuln.as_ref()),
        carried_refusals: merge::carried_refusals(&s_history, &d_history, survivor, duplicate, now),
    })
}

impl MergedProtections {
    async fn save(
        &self,
        conn: &mut store::Conn,
        survivor: Id,
        duplicate: Id,
    ) -> Result<(), ProfilesError> {
        if let Some(preferences) = &self.preferences {
            store::preferences::save_preferences(conn, survivor, preferences).await?;
        }
        if let Some(record) = &self.vulnerability {
            store::preferences::save_vulnerability(conn, survivor, record).await?;
        }
        store::preferences::clear_preferences(conn, duplicate).await?;
        store::preferences::clear_vulnerability(conn, duplicate).await?;
        for refusal in &self.carried_refusals {
            store::consents::insert(conn, refusal, None).await?;
        }
        Ok(())
    }
}

/// What an erased customer's legal name becomes.
const PSEUDONYM: &str = "erased customer";

impl ProfileApi {
    #[tracing::instrument(
        skip_all,
        fields(
            survivor_customer_id = super::traced_id(&request.survivor_customer_id),
            duplicate_customer_id = super::traced_id(&request.duplicate_customer_id)
        )
    )]
    pub(super) async fn merge(
        &self,
        request: pb::MergeCustomersRequest,
    ) -> Result<pb::MergeCustomersResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let survivor = convert::id(
            "survivor_customer_id",
            &request.survivor_customer_id,
            &mut v,
        );
        let duplicate = convert::id(
            "duplicate_customer_id",
            &request.duplicate_customer_id,
            &mut v,
        );
        let request_id = convert::request_id("request_id", &request.request_id, &mut v);
        let reason =
            convert::optional_text("reason", &request.reason, convert::MAX_TEXT_CHARS, &mut v);
        if survivor.is_some() && survivor == duplicate {
            v.add(
                "duplicate_customer_id",
                "must differ from survivor_customer_id",
            );
        }
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let (survivor, duplicate) = (
            survivor.ok_or_else(invalid)?,
            duplicate.ok_or_else(invalid)?,
        );

        let mut tx = self.write().await?;
        // A retry (same request id, or the same pair again) answers with the first merge.
        if let Some((earlier_survivor, earlier_duplicate, moved)) =
            store::lifecycle::earlier_merge(&mut tx, request_id.as_deref(), duplicate).await?
        {
            if earlier_duplicate == duplicate && earlier_survivor == survivor {
                let merged = store::customers::resolve(&mut tx, survivor, View::Full)
                    .await?
                    .ok_or_else(|| not_found(survivor))?;
                return Ok(merge_response(&merged, moved));
            }
            return Err(ProfilesError::FailedPrecondition(format!(
                "customer {earlier_duplicate} was already merged into {earlier_survivor}"
            )));
        }
        for (id, role) in [(survivor, "survivor"), (duplicate, "duplicate")] {
            let customer = store::customers::load(&mut tx, id, View::Basic)
                .await?
                .ok_or_else(|| not_found(id))?;
            if matches!(
                customer.profile.status,
                CustomerStatus::Merged | CustomerStatus::Erased
            ) {
                return Err(ProfilesError::FailedPrecondition(format!(
                    "the {role} {id} is {} and cannot take part in a merge",
                    customer.profile.status.as_str()
                )));
            }
        }
        // The most protective choice of either record wins (domain/merge.rs), read before the
        // histories become one.
        let protections = merged_protections(&mut tx, survivor, duplicate, now).await?;
        let moved = store::lifecycle::merge(
            &mut tx,
            survivor,
            duplicate,
            reason.as_deref().unwrap_or(""),
            request_id.as_deref(),
            now,
        )
        .await?;
        protections.save(&mut tx, survivor, duplicate).await?;
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::CustomerMerged {
                survivor_id: survivor,
                duplicate_id: duplicate,
            },
            now,
        )
        .await?;
        let merged = store::customers::load(&mut tx, survivor, View::Full)
            .await?
            .ok_or_else(|| not_found(survivor))?;
        commit(tx).await?;
        tracing::info!(%survivor, %duplicate, "customers merged");
        Ok(merge_response(&merged, moved))
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn export(
        &self,
        request: pb::ExportCustomerRequest,
    ) -> Result<pb::ExportCustomerResponse, ProfilesError> {
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(v))?;

        let now = self.now();
        let mut conn = self.read().await?;
        let customer = store::customers::resolve(&mut conn, customer_id, View::WithVulnerability)
            .await?
            .ok_or_else(|| not_found(customer_id))?;
        let today = tenure::today_in(&customer.profile.time_zone.time_zone(), now);
        let interactions = store::interactions::all_for(&mut conn, customer.id).await?;
        let commitments = store::commitments::all_for(&mut conn, customer.id).await?;
        let consents =
            store::consents::history(&mut conn, customer.id, None, None, i64::MAX).await?;
        let merged = store::lifecycle::merged_into(&mut conn, customer.id).await?;
        Ok(pb::ExportCustomerResponse {
            customer: Some(customer_to_pb(&customer, View::WithVulnerability)),
            interactions: interactions.iter().map(interaction_to_pb).collect(),
            commitments: commitments
                .iter()
                .map(|c| commitment_to_pb(c, today))
                .collect(),
            consents: consents.iter().map(consent_to_pb).collect(),
            merged_customer_ids: merged.iter().map(ToString::to_string).collect(),
            exported_at: Some(timestamp_to_pb(now)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn erase(
        &self,
        request: pb::EraseCustomerRequest,
    ) -> Result<pb::EraseCustomerResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        convert::required_text("reason", &request.reason, convert::MAX_TEXT_CHARS, &mut v);
        convert::request_id("request_id", &request.request_id, &mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(v))?;

        let mut tx = self.write().await?;
        let customer = store::customers::resolve(&mut tx, customer_id, View::Basic)
            .await?
            .ok_or_else(|| not_found(customer_id))?;
        // Erasing twice is a retry: it answers with the first erasure.
        let erased_at = match store::lifecycle::erased_at(&mut tx, customer.id).await? {
            Some(micros) => store::instant(micros)?,
            None => {
                store::lifecycle::erase(&mut tx, customer.id, PSEUDONYM, now).await?;
                rapport_outbox::append(
                    &mut tx,
                    &ProfileEvent::CustomerErased {
                        customer_id: customer.id,
                    },
                    now,
                )
                .await?;
                now
            }
        };
        commit(tx).await?;
        Ok(pb::EraseCustomerResponse {
            customer_id: customer.id.to_string(),
            erased_at: Some(timestamp_to_pb(erased_at)),
            retained: retained_reasons(),
        })
    }
}

fn merge_response(
    survivor: &crate::domain::customer::Customer,
    moved: Moved,
) -> pb::MergeCustomersResponse {
    let count = |n: u64| i32::try_from(n).unwrap_or(i32::MAX);
    pb::MergeCustomersResponse {
        survivor: Some(customer_to_pb(survivor, View::Full)),
        interactions_moved: count(moved.interactions),
        commitments_moved: count(moved.commitments),
        consents_moved: count(moved.consents),
        external_refs_moved: count(moved.external_refs),
    }
}

/// What erasure keeps, and why (GDPR art. 17(3)(b) and (e): legal obligations and claims).
fn retained_reasons() -> Vec<common::Reason> {
    let reason = |code: &'static str, message: &str, rule_ref: &'static str| {
        rapport_wire::reason_to_pb(&Reason::new(code, ReasonEffect::Neutral, rule_ref, message))
    };
    vec![
        reason(
            "CUSTOMER_ID_KEPT",
            "The customer id stays so accounts, plans and audit records that refer to it remain consistent; it identifies no one by itself.",
            "GDPR art. 4(5) (pseudonymisation)",
        ),
        reason(
            "EXTERNAL_REFERENCES_KEPT",
            "References to core banking stay: account records must be kept for the statutory retention period.",
            "GDPR art. 17(3)(b); e.g. EU AMLD art. 40 (5 years)",
        ),
        reason(
            "CONSENT_HISTORY_KEPT",
            "Consent decisions stay as proof of what the customer agreed to and withdrew.",
            "GDPR art. 7(1)",
        ),
        reason(
            "COMMITMENT_OUTCOMES_KEPT",
            "Whether promises to the customer were kept stays (the text is erased), for complaints and regulatory review.",
            "GDPR art. 17(3)(e)",
        ),
    ]
}
