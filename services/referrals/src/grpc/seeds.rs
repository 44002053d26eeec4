//! Who anchors trust: the pre-trusted customers (DESIGN.md, Referrals: tenure ≥ 2 years and good
//! standing), for the trust score and the fraud checks alike, and who lost that place to their
//! standing.

use std::collections::BTreeMap;

use jiff::Timestamp;
use jiff::civil::Date;
use rapport_ids::Id;

use super::ReferralApi;
use crate::domain::standing::Standing;
use crate::error::ReferralsError;
use crate::store::{self, Conn};

/// Every known customer's tenure and standing at one moment.
#[derive(Debug, Clone, Default)]
pub(super) struct Standings {
    /// Tenure start of the members referrals remembered from profiles.
    pub tenure: BTreeMap<Id, Date>,
    /// Good standing of every customer referrals knows anything about: the members, and the
    /// customers plans published a standing for.
    pub standing: BTreeMap<Id, Standing>,
}

impl Standings {
    /// Reads members and published standings, and evaluates each at `at`.
    pub(super) async fn read(conn: &mut Conn, at: Timestamp) -> Result<Self, ReferralsError> {
        let members = store::members::all(conn).await?;
        let mut published = store::standings::all(conn).await?;
        let mut standings = Self::default();
        for member in &members {
            standings
                .tenure
                .insert(member.customer_id, member.customer_since);
            let standing = Standing::of(
                member.active,
                member.inactive_since,
                published.remove(&member.customer_id).as_ref(),
                at,
            );
            standings.standing.insert(member.customer_id, standing);
        }
        // Not met through profiles yet: only plans' verdict is known.
        for (customer_id, published) in published {
            standings
                .standing
                .insert(customer_id, Standing::of(true, None, Some(&published), at));
        }
        Ok(standings)
    }

    /// Good standing now, as far as referrals knows (never heard otherwise: good).
    pub(super) fn good(&self, customer_id: &Id) -> bool {
        self.standing.get(customer_id).is_none_or(|s| s.good)
    }

    /// The pre-trusted seeds: members who joined on `joined_by` or before, in good standing.
    pub(super) fn seeds(&self, joined_by: Date) -> Vec<Id> {
        self.long_standing(joined_by)
            .filter(|id| self.good(id))
            .collect()
    }

    /// Members of the seeds' tenure whom their standing keeps out of the seeds, with it.
    pub(super) fn removed_seeds(&self, joined_by: Date) -> Vec<(Id, &Standing)> {
        self.long_standing(joined_by)
            .filter_map(|id| {
                self.standing
                    .get(&id)
                    .filter(|s| !s.good)
                    .map(|standing| (id, standing))
            })
            .collect()
    }

    fn long_standing(&self, joined_by: Date) -> impl Iterator<Item = Id> + '_ {
        self.tenure
            .iter()
            .filter(move |(_, since)| **since <= joined_by)
            .map(|(id, _)| *id)
    }
}

impl ReferralApi {
    /// The last day a customer can have joined and still be pre-trusted today.
    pub(super) fn seed_joined_by(&self) -> Date {
        let today = self.today();
        today
            .checked_sub(jiff::Span::new().years(i64::from(self.rules.pretrusted_min_tenure_years)))
            .unwrap_or(today)
    }
}
