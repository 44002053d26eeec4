//! The gRPC edge of `rapport.plans.v1`: each RPC converts its request, does its work in one
//! transaction (`store`), and answers; errors become a `Status` in exactly one place
//! (`crate::error`).

mod account;
mod account_list;
mod account_view;
mod case_detail;
mod case_read;
mod convert;
mod events;
mod hardship;
mod messages;
mod offers;
mod outreach;
mod payments;
mod plan;
mod progress;
mod promises;
mod protection_list;
mod reporting;
mod standing;
mod zones;

use std::sync::Arc;

use jiff::Timestamp;
use rapport_clock::SharedClock;
use rapport_ids::Id;
use rapport_storage::sqlx::pool::PoolConnection;
use rapport_storage::sqlx::{Any, Transaction};
use rapport_storage::{Backend, Storage, WriteTransaction};
use tonic::Response;

use crate::customers::CustomerDirectory;
use crate::domain::account::Account;
use crate::error::PlansError;
use crate::rules::Rules;
use crate::store::{self, Conn};

pub(crate) use account::AccountApi;
pub(crate) use hardship::HardshipApi;
pub(crate) use outreach::OutreachApi;
pub(crate) use plan::PlanApi;
pub(crate) use reporting::ReportingApi;

/// What every plans API shares: storage, the clock, the rules and where customers are read.
#[derive(Debug, Clone)]
pub(crate) struct Core {
    storage: Storage,
    clock: SharedClock,
    rules: Arc<Rules>,
    directory: Arc<dyn CustomerDirectory>,
    zones: Arc<zones::CustomerZones>,
    offers: Arc<offers::OffersInFlight>,
}

impl Core {
    pub(crate) fn new(
        storage: Storage,
        clock: SharedClock,
        rules: Arc<Rules>,
        directory: Arc<dyn CustomerDirectory>,
    ) -> Self {
        Self {
            storage,
            clock,
            rules,
            zones: Arc::new(zones::CustomerZones::new(directory.clone())),
            offers: Arc::default(),
            directory,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Today's date in UTC, for rules whose dates are not the customer's yet (promises to pay).
    /// Plans and accounts use [`Core::customer_today`].
    fn today(&self) -> jiff::civil::Date {
        self.now().to_zoned(jiff::tz::TimeZone::UTC).date()
    }

    /// Today where the customer lives: the date that starts a schedule, that installments fall
    /// due on and that judges a missed one (DESIGN.md "Money and time"). Asks profiles (or
    /// remembers), so call it before a write transaction.
    pub(crate) async fn customer_today(
        &self,
        customer_id: Id,
    ) -> Result<jiff::civil::Date, PlansError> {
        let zone = self.zones.zone(customer_id).await?;
        Ok(crate::domain::schedule::customer_today(self.now(), &zone))
    }

    async fn read(&self) -> Result<PoolConnection<Any>, PlansError> {
        Ok(self.storage.reader().acquire().await?)
    }

    /// A reader that sees one state of the database across several statements (a plan's row
    /// and its installments from the same commit), so an answer read without the writer is one
    /// the write path could have given. SQLite's deferred read transaction is a snapshot in WAL
    /// mode; PostgreSQL needs REPEATABLE READ for one. Nothing is written: dropping it ends it.
    async fn read_together(&self) -> Result<Transaction<'static, Any>, PlansError> {
        let reader = self.storage.reader();
        Ok(match self.storage.backend() {
            Backend::Sqlite => reader.begin().await?,
            Backend::Postgres => {
                reader
                    .begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                    .await?
            }
        })
    }

    async fn write(&self) -> Result<WriteTransaction, PlansError> {
        Ok(self.storage.begin_write().await?)
    }
}

async fn commit(tx: WriteTransaction) -> Result<(), PlansError> {
    tx.commit().await?;
    Ok(())
}

fn not_found(entity: &'static str, id: impl ToString) -> PlansError {
    PlansError::NotFound {
        entity,
        id: id.to_string(),
    }
}

async fn load_account(conn: &mut Conn, account_id: Id) -> Result<Account, PlansError> {
    store::accounts::get(conn, account_id)
        .await?
        .ok_or_else(|| not_found("account", account_id))
}

/// An empty list about an account or a customer is only true of one that exists: an unknown
/// account is NOT_FOUND, and so is a customer profiles does not know (UNAVAILABLE when profiles
/// cannot say; issue 16). Asked only when a first page came back empty.
async fn ensure_named_exist(
    core: &Core,
    account_id: Option<Id>,
    customer_id: Option<Id>,
) -> Result<(), PlansError> {
    if let Some(account_id) = account_id {
        let mut conn = core.read().await?;
        load_account(&mut conn, account_id).await?;
    } else if let Some(customer_id) = customer_id {
        core.directory
            .ensure_known(customer_id, "customer_id")
            .await?;
    }
    Ok(())
}

/// The customer and the account a list is filtered by: each optional (a UUIDv7 when given), at
/// least one required; a request with neither names both fields.
fn customer_or_account(
    customer_id: &str,
    account_id: &str,
    v: &mut rapport_errors::Validation,
) -> (Option<Id>, Option<Id>) {
    if customer_id.is_empty() && account_id.is_empty() {
        for field in ["customer_id", "account_id"] {
            v.add(field, "give customer_id or account_id (or both)");
        }
        return (None, None);
    }
    let mut named = |field: &str, value: &str| {
        if value.is_empty() {
            None
        } else {
            rapport_wire::id(field, value, v)
        }
    };
    (
        named("customer_id", customer_id),
        named("account_id", account_id),
    )
}

/// Runs one handler and turns its domain error into a `Status`.
async fn answer<T>(
    work: impl Future<Output = Result<T, PlansError>>,
) -> Result<Response<T>, tonic::Status> {
    Ok(Response::new(work.await?))
}

/// Ids as span fields: only what parses as one of our ids (`rapport_wire::traced_id`).
use rapport_wire::traced_id;
