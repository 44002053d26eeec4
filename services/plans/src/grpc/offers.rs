//! Offered options are written behind GetPlanOptions' answer (issue 23): the options are read and
//! computed without the writer, and on SQLite, whose one writer is busy with payments and contact
//! reservations, an agent waiting for options must not queue behind them. Offers made meanwhile
//! are written together, one transaction a turn. AcceptPlan of an
//! option still being written waits for that write first, so in this process an option answered
//! is an option AcceptPlan finds. (Another replica on PostgreSQL may answer NOT_FOUND for the
//! few milliseconds the write takes; asking again finds it.)

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use jiff::Timestamp;
use rapport_ids::Id;
use tokio::sync::watch;

use super::Core;
use crate::error::PlansError;
use crate::store::plans::OfferedOption;
use crate::store::{self, Conn};

/// Offers waiting to be written, and the options whose write has not finished, each with what
/// says when it has.
#[derive(Debug, Default)]
pub(crate) struct OffersInFlight {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    queued: Vec<Offer>,
    writing: HashMap<Id, watch::Receiver<bool>>,
    /// Whether a task is writing the queue; one at a time, so a burst of GetPlanOptions holds
    /// the writer for one transaction a turn, not one each.
    flushing: bool,
}

/// What one GetPlanOptions offered.
#[derive(Debug)]
struct Offer {
    account_id: Id,
    now: Timestamp,
    options: Vec<OfferedOption>,
    written: watch::Sender<bool>,
}

/// The most offers one transaction writes.
const MOST_PER_TURN: usize = 32;

impl OffersInFlight {
    /// Stores what one GetPlanOptions offered (and drops the account's expired offers) in a
    /// task of its own, which also survives the caller hanging up; offers queued meanwhile are
    /// written together.
    pub(crate) fn store_behind(
        core: &Core,
        account_id: Id,
        now: Timestamp,
        options: Vec<OfferedOption>,
    ) {
        let (written, watch) = watch::channel(false);
        let start = {
            let mut state = core.offers.lock();
            for option in &options {
                state.writing.insert(option.id, watch.clone());
            }
            state.queued.push(Offer {
                account_id,
                now,
                options,
                written,
            });
            !std::mem::replace(&mut state.flushing, true)
        };
        if start {
            tokio::spawn(flush(core.clone()));
        }
    }

    /// Waits until the option, if it is being written, is written (or its write failed). Call
    /// it before taking the writer: the write needs it.
    pub(crate) async fn written(&self, option_id: Id) {
        let watch = self.lock().writing.get(&option_id).cloned();
        if let Some(mut watch) = watch {
            let _ = watch.wait_for(|written| *written).await;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Writes the queued offers, a turn at a time, until none is left.
async fn flush(core: Core) {
    loop {
        let turn: Vec<Offer> = {
            let mut state = core.offers.lock();
            if state.queued.is_empty() {
                state.flushing = false;
                return;
            }
            let take = state.queued.len().min(MOST_PER_TURN);
            state.queued.drain(..take).collect()
        };
        if let Err(error) = store_offers(&core, &turn).await {
            tracing::warn!(error = %rapport_errors::chain(&error), offers = turn.len(), "offered options were not stored; accepting one answers NOT_FOUND");
        }
        let mut state = core.offers.lock();
        for offer in turn {
            for option in &offer.options {
                state.writing.remove(&option.id);
            }
            let _ = offer.written.send(true);
        }
    }
}

async fn store_offers(core: &Core, offers: &[Offer]) -> Result<(), PlansError> {
    let mut tx = core.write().await?;
    for offer in offers {
        save_offered(&mut tx, offer.account_id, offer.now, &offer.options).await?;
    }
    super::commit(tx).await
}

/// The account's expired offers go, the new ones are stored, in the caller's transaction.
pub(crate) async fn save_offered(
    conn: &mut Conn,
    account_id: Id,
    now: Timestamp,
    offered: &[OfferedOption],
) -> Result<(), PlansError> {
    store::plans::drop_expired_options(conn, account_id, now).await?;
    store::plans::save_options(conn, offered).await
}
