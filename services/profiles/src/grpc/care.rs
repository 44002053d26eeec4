//! Consent, contact preferences and vulnerability: how the customer wants (and needs) to be treated.

use rapport_errors::Validation;
use rapport_ids::Id;
use rapport_proto::common::v1 as common;
use rapport_proto::profiles::v1 as pb;

use super::convert::{
    self, consent_to_pb, preferences_to_pb, timestamp_to_pb, vulnerability_to_pb,
};
use super::{ProfileApi, commit, live_customer, live_or_erased};
use crate::domain::consent::{Consent, in_force};
use crate::domain::events::ProfileEvent;
use crate::domain::vulnerability::VulnerabilityRecord;
use crate::error::ProfilesError;
use crate::store;
use rapport_paging::Page;

impl ProfileApi {
    #[tracing::instrument(
        skip_all,
        fields(
            customer_id = super::traced_id(request.consent.as_ref().map_or("", |c| &c.customer_id))
        )
    )]
    pub(super) async fn set_consent(
        &self,
        request: pb::SetConsentRequest,
    ) -> Result<pb::SetConsentResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let request_id = convert::request_id("request_id", &request.request_id, &mut v);
        let Some(c) = request.consent.as_ref() else {
            v.add("consent", "is required");
            return Err(v.into());
        };
        let customer_id = convert::id("consent.customer_id", &c.customer_id, &mut v);
        let purpose = convert::known_enum(
            "consent.purpose",
            c.purpose,
            |p| pb::ConsentPurpose::try_from(p).ok(),
            pb::ConsentPurpose::Unspecified,
            &mut v,
        );
        let channel = convert::optional_enum(
            "consent.channel",
            c.channel,
            |p| common::Channel::try_from(p).ok(),
            &mut v,
        );
        let status = convert::known_enum(
            "consent.status",
            c.status,
            |p| pb::ConsentStatus::try_from(p).ok(),
            pb::ConsentStatus::Unspecified,
            &mut v,
        );
        let source = convert::known_enum(
            "consent.source",
            c.source,
            |p| pb::ConsentSource::try_from(p).ok(),
            pb::ConsentSource::Unspecified,
            &mut v,
        );
        let source_detail = convert::optional_text(
            "consent.source_detail",
            &c.source_detail,
            convert::MAX_CODE_CHARS,
            &mut v,
        );
        let decided_at =
            convert::past_instant("consent.decided_at", c.decided_at.as_ref(), now, &mut v);
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let mut consent = Consent {
            id: Id::new(),
            customer_id: customer_id.ok_or_else(invalid)?,
            purpose: purpose.ok_or_else(invalid)?,
            channel: channel.ok_or_else(invalid)?,
            status: status.ok_or_else(invalid)?,
            source: source.ok_or_else(invalid)?,
            source_detail: source_detail.ok_or_else(invalid)?,
            decided_at: decided_at.ok_or_else(invalid)?,
            recorded_at: now,
        };

        let mut tx = self.write().await?;
        if let Some(request_id) = &request_id
            && let Some(earlier) = store::consents::by_request(&mut tx, request_id).await?
        {
            return Ok(pb::SetConsentResponse {
                consent: Some(consent_to_pb(&earlier)),
            });
        }
        consent.customer_id = live_customer(&mut tx, consent.customer_id).await?.id;
        store::consents::insert(&mut tx, &consent, request_id.as_deref()).await?;
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::ConsentChanged {
                customer_id: consent.customer_id,
                purpose: consent.purpose.as_str_name(),
                channel: consent.channel.as_str_name(),
                status: consent.status.as_str_name(),
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::SetConsentResponse {
            consent: Some(consent_to_pb(&consent)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn list_consents(
        &self,
        request: pb::ListConsentsRequest,
    ) -> Result<pb::ListConsentsResponse, ProfilesError> {
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        let page = Page::parse(request.page.as_ref(), &mut v);
        let purpose = convert::optional_enum(
            "purpose",
            request.purpose,
            |p| pb::ConsentPurpose::try_from(p).ok(),
            &mut v,
        )
        .filter(|p| *p != pb::ConsentPurpose::Unspecified);
        let after = page
            .after
            .as_ref()
            .and_then(|parts| match parts.as_slice() {
                [at, id] => at.parse::<i64>().ok().zip(Id::parse(id).ok()),
                _ => None,
            });
        if page.after.is_some() && (after.is_none() || !request.include_history) {
            v.add("page.page_token", "is not a token this service issued");
        }
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(v))?;

        let mut conn = self.read().await?;
        let customer = live_or_erased(&mut conn, customer_id).await?;
        if request.include_history {
            let items = store::consents::history(
                &mut conn,
                customer.id,
                purpose,
                after,
                page.fetch_limit(),
            )
            .await?;
            let (items, page) = page.finish(items, |c| {
                vec![
                    rapport_clock::to_unix_micros(c.decided_at).to_string(),
                    c.id.to_string(),
                ]
            });
            return Ok(pb::ListConsentsResponse {
                consents: items.iter().map(consent_to_pb).collect(),
                page,
            });
        }
        // In force: one decision per (purpose, channel), a handful at most; one page.
        let history =
            store::consents::history(&mut conn, customer.id, purpose, None, i64::MAX).await?;
        Ok(pb::ListConsentsResponse {
            consents: in_force(&history).iter().map(consent_to_pb).collect(),
            page: Some(common::PageResponse::default()),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn set_contact_preferences(
        &self,
        request: pb::SetContactPreferencesRequest,
    ) -> Result<pb::SetContactPreferencesResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        let preferences =
            convert::preferences("preferences", request.preferences.as_ref(), now, &mut v);
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let (customer_id, preferences) = (
            customer_id.ok_or_else(invalid)?,
            preferences.ok_or_else(invalid)?,
        );

        let mut tx = self.write().await?;
        let customer = live_customer(&mut tx, customer_id).await?;
        store::preferences::save_preferences(&mut tx, customer.id, &preferences).await?;
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::CustomerUpdated {
                customer_id: customer.id,
                fields: vec!["contact_preferences"],
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::SetContactPreferencesResponse {
            preferences: Some(preferences_to_pb(&preferences)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn set_vulnerability(
        &self,
        request: pb::SetVulnerabilityRequest,
    ) -> Result<pb::SetVulnerabilityResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        let vulnerability =
            convert::vulnerability("vulnerability", request.vulnerability.as_ref(), &mut v);
        let recorded_by = convert::actor("recorded_by", request.recorded_by.as_ref(), &mut v);
        v.clone().finish()?;
        let invalid = || ProfilesError::Invalid(v.clone());
        let record = VulnerabilityRecord {
            vulnerability: vulnerability.ok_or_else(invalid)?,
            recorded_by: recorded_by.ok_or_else(invalid)?,
            recorded_at: now,
        };
        let customer_id = customer_id.ok_or_else(invalid)?;

        let mut tx = self.write().await?;
        let customer = live_customer(&mut tx, customer_id).await?;
        store::preferences::save_vulnerability(&mut tx, customer.id, &record).await?;
        // The event says that something changed, never what (special-category data).
        rapport_outbox::append(
            &mut tx,
            &ProfileEvent::CustomerUpdated {
                customer_id: customer.id,
                fields: vec!["vulnerability"],
            },
            now,
        )
        .await?;
        commit(tx).await?;
        Ok(pb::SetVulnerabilityResponse {
            vulnerability: Some(vulnerability_to_pb(&record)),
        })
    }

    #[tracing::instrument(skip_all, fields(customer_id = super::traced_id(&request.customer_id)))]
    pub(super) async fn clear_vulnerability(
        &self,
        request: pb::ClearVulnerabilityRequest,
    ) -> Result<pb::ClearVulnerabilityResponse, ProfilesError> {
        let now = self.now();
        let mut v = Validation::new();
        let customer_id = convert::id("customer_id", &request.customer_id, &mut v);
        convert::required_text("reason", &request.reason, convert::MAX_TEXT_CHARS, &mut v);
        convert::actor("cleared_by", request.cleared_by.as_ref(), &mut v);
        v.clone().finish()?;
        let customer_id = customer_id.ok_or(ProfilesError::Invalid(v))?;

        let mut tx = self.write().await?;
        let customer = live_customer(&mut tx, customer_id).await?;
        if store::preferences::clear_vulnerability(&mut tx, customer.id).await? {
            rapport_outbox::append(
                &mut tx,
                &ProfileEvent::CustomerUpdated {
                    customer_id: customer.id,
                    fields: vec!["vulnerability"],
                },
                now,
            )
            .await?;
        }
        commit(tx).await?;
        Ok(pb::ClearVulnerabilityResponse {
            customer_id: customer.id.to_string(),
            cleared_at: Some(timestamp_to_pb(now)),
        })
    }
}
