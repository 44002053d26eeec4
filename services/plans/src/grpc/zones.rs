//! Where each customer lives, for dates on their calendar: installment due dates, the day a
//! schedule starts and the day an installment counts as missed are the customer's local dates
//! (DESIGN.md "Money and time"), in the IANA time zone profiles records for them.
//!
//! Zones are read from profiles before a handler's write transaction and kept a few minutes, so
//! a handler asks profiles at most once and no lock waits on the network; while profiles cannot
//! answer, a zone read earlier is still used rather than refusing a payment.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jiff::tz::TimeZone;
use rapport_ids::Id;

use crate::customers::CustomerDirectory;
use crate::error::PlansError;

/// A customer who moves is on the new calendar within this long.
const FRESH_FOR: Duration = Duration::from_secs(300);
/// Bounds the memory: past this many customers the remembered zones start afresh.
const MOST_REMEMBERED: usize = 100_000;

#[derive(Debug)]
pub(crate) struct CustomerZones {
    directory: Arc<dyn CustomerDirectory>,
    fresh_for: Duration,
    known: Mutex<HashMap<Id, (TimeZone, Instant)>>,
}

impl CustomerZones {
    pub(crate) fn new(directory: Arc<dyn CustomerDirectory>) -> Self {
        Self::remembering_for(directory, FRESH_FOR)
    }

    fn remembering_for(directory: Arc<dyn CustomerDirectory>, fresh_for: Duration) -> Self {
        Self {
            directory,
            fresh_for,
            known: Mutex::new(HashMap::new()),
        }
    }

    /// The customer's time zone. A customer profiles no longer knows (erased, merged away) keeps
    /// UTC dates rather than having billing's payments refused; profiles unreachable with no zone
    /// read before is UNAVAILABLE.
    pub(crate) async fn zone(&self, customer_id: Id) -> Result<TimeZone, PlansError> {
        let remembered = self.remembered(customer_id);
        if let Some((zone, read_at)) = &remembered
            && read_at.elapsed() < self.fresh_for
        {
            return Ok(zone.clone());
        }
        match self.directory.time_zone(customer_id).await {
            Ok(zone) => {
                self.remember(customer_id, zone.clone());
                Ok(zone)
            }
            Err(PlansError::NotFound { .. }) => {
                tracing::warn!(%customer_id, "profiles does not know the customer: dates in UTC");
                Ok(TimeZone::UTC)
            }
            Err(unavailable) => match remembered {
                Some((zone, _)) => {
                    tracing::warn!(error = %unavailable, "profiles unavailable: the time zone read before is used");
                    Ok(zone)
                }
                None => Err(unavailable),
            },
        }
    }

    /// The customer's zone if profiles gave it within the freshness window: what [`Self::zone`]
    /// answers without asking. A write that must not call profiles inside its transaction
    /// (ReportPayment) uses it, and asks with [`Self::zone`] outside the transaction when it is
    /// `None`.
    pub(crate) fn fresh(&self, customer_id: Id) -> Option<TimeZone> {
        self.remembered(customer_id)
            .filter(|(_, read_at)| read_at.elapsed() < self.fresh_for)
            .map(|(zone, _)| zone)
    }

    fn remembered(&self, customer_id: Id) -> Option<(TimeZone, Instant)> {
        let known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        known.get(&customer_id).cloned()
    }

    fn remember(&self, customer_id: Id, zone: TimeZone) {
        let mut known = self
            .known
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if known.len() >= MOST_REMEMBERED {
            known.clear();
        }
        known.insert(customer_id, (zone, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::customers::ContactProfile;

    /// Profiles as a test wants it: a customer in Bucharest, unknown ones, and an outage.
    #[derive(Debug, Default)]
    struct Profiles {
        known: Option<Id>,
        down: AtomicBool,
        asked: AtomicUsize,
    }

    #[tonic::async_trait]
    impl CustomerDirectory for Profiles {
        async fn contact_profile(&self, _: Id) -> Result<ContactProfile, PlansError> {
            Err(PlansError::Dependency("not used".into()))
        }

        async fn ensure_known(&self, _: Id, _: &'static str) -> Result<(), PlansError> {
            Ok(())
        }

        async fn time_zone(&self, customer_id: Id) -> Result<TimeZone, PlansError> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            if self.down.load(Ordering::SeqCst) {
                return Err(PlansError::Dependency("profiles: unavailable".into()));
            }
            if self.known == Some(customer_id) {
                Ok(TimeZone::get("Europe/Bucharest").expect("bundled"))
            } else {
                Err(PlansError::NotFound {
                    entity: "customer",
                    id: customer_id.to_string(),
                })
            }
        }
    }

    fn bucharest() -> TimeZone {
        TimeZone::get("Europe/Bucharest").expect("bundled")
    }

    #[tokio::test]
    async fn a_zone_is_asked_once_while_fresh() {
        let customer = Id::new();
        let profiles = Arc::new(Profiles {
            known: Some(customer),
            ..Profiles::default()
        });
        let zones = CustomerZones::new(profiles.clone());
        assert_eq!(zones.zone(customer).await.expect("zone"), bucharest());
        assert_eq!(zones.zone(customer).await.expect("zone"), bucharest());
        assert_eq!(profiles.asked.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn while_profiles_is_down_the_zone_read_before_is_used_and_none_is_unavailable() {
        let customer = Id::new();
        let profiles = Arc::new(Profiles {
            known: Some(customer),
            ..Profiles::default()
        });
        let zones = CustomerZones::remembering_for(profiles.clone(), Duration::ZERO);
        assert_eq!(zones.zone(customer).await.expect("zone"), bucharest());
        profiles.down.store(true, Ordering::SeqCst);
        assert_eq!(
            zones.zone(customer).await.expect("the zone read before"),
            bucharest()
        );
        assert_eq!(
            profiles.asked.load(Ordering::SeqCst),
            2,
            "asked again: stale"
        );
        let never_read = zones
            .zone(Id::new())
            .await
            .expect_err("nothing to fall back on");
        assert!(
            matches!(never_read, PlansError::Dependency(_)),
            "{never_read:?}"
        );
    }

    #[tokio::test]
    async fn a_customer_profiles_no_longer_knows_keeps_utc_dates() {
        let zones = CustomerZones::new(Arc::new(Profiles::default()));
        assert_eq!(zones.zone(Id::new()).await.expect("zone"), TimeZone::UTC);
    }
}
