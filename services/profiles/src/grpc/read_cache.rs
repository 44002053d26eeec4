//! Resolved customers by (id, view), read through a cache on embedded SQLite (issue 23):
//! `GetCustomer` is the read an agent's screen makes most, and its FULL view is five queries,
//! each a hop to SQLite's worker thread and a read transaction of its own. Any commit of this
//! service makes every cached customer stale (`rapport_storage::ReadCache`); on PostgreSQL
//! nothing is cached.

use std::sync::Arc;

use rapport_ids::Id;
use rapport_storage::{ReadCache, Storage};

use crate::domain::customer::{Customer, View};
use crate::error::ProfilesError;
use crate::store;

/// At most this many (id, view) entries: a FULL customer is about a kilobyte, so a few MiB.
const CAPACITY: usize = 4_096;

#[derive(Debug)]
pub(super) struct ResolvedCustomers {
    cache: ReadCache<(Id, u8), Arc<Customer>>,
}

impl ResolvedCustomers {
    pub(super) fn new(storage: &Storage) -> Self {
        Self {
            cache: ReadCache::new(storage, CAPACITY),
        }
    }

    /// The customer a read about `customer_id` is answered for (the survivor if merged away),
    /// in `view`; `None` when there is none.
    pub(super) async fn resolve(
        &self,
        storage: &Storage,
        customer_id: Id,
        view: View,
    ) -> Result<Option<Arc<Customer>>, ProfilesError> {
        self.cache
            .get_or_load((customer_id, view as u8), async {
                let mut conn = storage.reader().acquire().await?;
                let customer = store::customers::resolve(&mut conn, customer_id, view).await?;
                Ok(customer.map(Arc::new))
            })
            .await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use rapport_proto::common::v1 as common;
    use rapport_proto::profiles::v1 as pb;
    use rapport_storage::testing::TestDatabase;

    use crate::grpc::ProfileApi;

    async fn api(database: &TestDatabase) -> ProfileApi {
        let storage = database.open();
        storage.migrate(&crate::MIGRATIONS).await.expect("migrate");
        ProfileApi::new(storage, Arc::new(rapport_clock::SystemClock))
    }

    async fn create(api: &ProfileApi, legal_name: &str) -> String {
        api.create(pb::CreateCustomerRequest {
            customer: Some(pb::Customer {
                legal_name: legal_name.into(),
                locale: "ro-RO".into(),
                time_zone: "Europe/Bucharest".into(),
                customer_since: Some(common::Date {
                    year: 2018,
                    month: 5,
                    day: 14,
                }),
                emails: vec![pb::EmailAddress {
                    address: "ana@example.com".into(),
                    verified: true,
                    primary: true,
                }],
                ..Default::default()
            }),
            request_id: String::new(),
        })
        .await
        .expect("create")
        .customer
        .expect("customer")
        .customer_id
    }

    async fn get(api: &ProfileApi, customer_id: &str, view: pb::CustomerView) -> pb::Customer {
        api.get(pb::GetCustomerRequest {
            customer_id: customer_id.into(),
            view: view as i32,
        })
        .await
        .expect("get")
        .customer
        .expect("customer")
    }

    fn agent() -> Option<common::Actor> {
        Some(common::Actor {
            kind: common::ActorKind::Agent as i32,
            id: "agent-1".into(),
        })
    }

    /// Every kind of change is on the very next `GetCustomer`, cached or not; SQLite caches
    /// (a read again before a change is not a database read) and PostgreSQL never does.
    async fn every_change_is_seen_by_the_next_get_customer(database: TestDatabase) {
        use pb::CustomerView::{Full, WithVulnerability};
        let api = api(&database).await;
        let ana = create(&api, "Ana Popescu").await;
        assert_eq!(get(&api, &ana, Full).await.legal_name, "Ana Popescu");
        assert_eq!(get(&api, &ana, Full).await.legal_name, "Ana Popescu");
        let caches = api.storage.backend() == rapport_storage::Backend::Sqlite;
        assert_eq!(api.resolved.cache.is_empty(), !caches);

        api.update(pb::UpdateCustomerRequest {
            customer: Some(pb::Customer {
                customer_id: ana.clone(),
                legal_name: "Ana Ionescu".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["legal_name".into()],
            }),
        })
        .await
        .expect("update");
        assert_eq!(get(&api, &ana, Full).await.legal_name, "Ana Ionescu");

        assert!(
            get(&api, &ana, WithVulnerability)
                .await
                .vulnerability
                .is_none()
        );
        api.set_vulnerability(pb::SetVulnerabilityRequest {
            customer_id: ana.clone(),
            vulnerability: Some(pb::Vulnerability {
                factors: vec![pb::VulnerabilityFactor {
                    driver: pb::VulnerabilityDriver::LifeEvent as i32,
                    detail: "bereavement".into(),
                    temporary: true,
                }],
                customer_consented: true,
                ..Default::default()
            }),
            recorded_by: agent(),
        })
        .await
        .expect("set vulnerability");
        assert!(
            get(&api, &ana, WithVulnerability)
                .await
                .vulnerability
                .is_some()
        );

        let duplicate = create(&api, "Ana Ionescu").await;
        assert_eq!(get(&api, &duplicate, Full).await.customer_id, duplicate);
        api.merge(pb::MergeCustomersRequest {
            survivor_customer_id: ana.clone(),
            duplicate_customer_id: duplicate.clone(),
            reason: "same person".into(),
            request_id: String::new(),
        })
        .await
        .expect("merge");
        assert_eq!(
            get(&api, &duplicate, Full).await.customer_id,
            ana,
            "the duplicate's id answers with the survivor"
        );

        api.erase(pb::EraseCustomerRequest {
            customer_id: ana.clone(),
            reason: "customer asked".into(),
            request_id: String::new(),
        })
        .await
        .expect("erase");
        for asked_for in [&ana, &duplicate] {
            let erased = get(&api, asked_for, Full).await;
            assert_eq!(erased.status, pb::CustomerStatus::Erased as i32);
            assert!(erased.emails.is_empty(), "{erased:?}");
        }
        assert_eq!(api.resolved.cache.is_empty(), !caches);
    }

    rapport_storage::backend_tests!(every_change_is_seen_by_the_next_get_customer);
}
