//! Customer names for the ids a command prints: one `GetCustomer` (BASIC view) per distinct
//! customer, all at once, remembered for the rest of the command.

use std::collections::HashMap;

use rapport_proto::profiles::v1 as profiles;
use rapport_proto::profiles::v1::profile_service_client::ProfileServiceClient;

use super::Connection;

/// Names already asked for, by customer id. An id profiles cannot name (erased, a prospect, a
/// refusal) is remembered as unnamed: the id alone is printed, and the command still answers.
#[derive(Debug, Default, Clone)]
pub struct Names {
    known: HashMap<String, Option<String>>,
}

impl Names {
    /// Asks profiles for every id not yet known, in parallel.
    pub async fn learn<'a>(
        &mut self,
        connection: &Connection,
        ids: impl IntoIterator<Item = &'a str>,
    ) {
        let mut asks = tokio::task::JoinSet::new();
        for id in ids {
            if id.is_empty() || self.known.contains_key(id) {
                continue;
            }
            self.known.insert(id.to_owned(), None);
            let mut client = ProfileServiceClient::new(connection.clone());
            let id = id.to_owned();
            asks.spawn(async move {
                let name = client
                    .get_customer(profiles::GetCustomerRequest {
                        customer_id: id.clone(),
                        view: profiles::CustomerView::Basic as i32,
                    })
                    .await
                    .ok()
                    .and_then(|answer| answer.into_inner().customer)
                    .map(|c| c.legal_name);
                (id, name)
            });
        }
        while let Some(Ok((id, name))) = asks.join_next().await {
            self.known.insert(id, name);
        }
    }

    /// Remembers a name already in hand (e.g. the customer of an overview).
    pub fn insert(&mut self, id: &str, name: &str) {
        self.known.insert(id.to_owned(), Some(name.to_owned()));
    }

    pub fn get(&self, id: &str) -> Option<&str> {
        self.known.get(id).and_then(|n| n.as_deref())
    }

    /// "Ana Popescu (0190…)" or the id alone.
    pub fn with_id(&self, id: &str) -> String {
        match self.get(id) {
            Some(name) => format!("{name} ({id})"),
            None => id.to_owned(),
        }
    }

    /// The name, or the id when there is none.
    pub fn or_id(&self, id: &str) -> String {
        self.get(id).unwrap_or(id).to_owned()
    }
}
