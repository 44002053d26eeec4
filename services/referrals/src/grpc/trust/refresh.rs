//! The trust batch: score the whole graph once and store every subject's answer, a page per
//! transaction; and the worker that runs it on start when nothing (or nothing current) is
//! stored, once the graph has been quiet for `trust.debounce_seconds` after a change, at UTC
//! midnight or when a standing lapses, and every `trust.recompute_interval_seconds`.
//!
//! Every write that changes an edge or a standing marks the graph changed in its own transaction
//! (`store::trust::graph_changed`). Between batches the worker updates the stored answers
//! online ([`online`](super::online): residual pushes from where the graph changed, only the
//! answers that moved rewritten, within a proven bound); a batch still runs, debounced, when an
//! update cannot stand in for one, and on its schedule as the re-anchor. What a batch stores is
//! a batch result, bit for bit, for the version it names; its raw scores are within
//! `error_bound` (L1, `‖T(r) − r‖₁ / (1 − d)`) of the exact fixed point, recorded with each run.

use std::sync::Arc;
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use rapport_clock::SharedClock;
use rapport_ids::Id;
use rapport_server::Stopping;
use rapport_storage::Storage;

use super::online::{self, Online, Outcome};
use super::snapshot::{MODEL_VERSION, Snapshot};
use crate::error::ReferralsError;
use crate::rules::Rules;
use crate::settings::TrustSettings;
use crate::store::{self, trust::Run, trust::Stored};

/// How often the worker looks at the graph's version: one single-row read.
const POLL: Duration = Duration::from_secs(1);

/// Scores the graph as it is at `now` and stores every subject's answer; returns the run. The
/// run's version becomes the anchor of online updates.
pub async fn recompute(
    storage: &Storage,
    now: Timestamp,
    rules: &Rules,
    page_size: usize,
) -> Result<Run, ReferralsError> {
    Ok(recompute_anchored(storage, now, rules, page_size).await?.0)
}

/// [`recompute`], returning the state online updates continue from (none without seeds).
#[tracing::instrument(skip_all, fields(subjects, graph_version, iterations, error_bound))]
pub async fn recompute_anchored(
    storage: &Storage,
    now: Timestamp,
    rules: &Rules,
    page_size: usize,
) -> Result<(Run, Option<Online>), ReferralsError> {
    let started = std::time::Instant::now();
    let unscored = {
        let mut conn = storage.reader().acquire().await?;
        Snapshot::read(&mut conn, now, rules).await?
    };
    let (snapshot, trust) = blocking(move || unscored.score_anchored()).await??;
    let online = trust.map(|trust| Online::new(&snapshot, trust, snapshot.graph_version));
    let snapshot = Arc::new(snapshot);
    let subjects = Arc::new(snapshot.subjects());
    let (error_bound, iterations) = snapshot.convergence();
    let (seeds, removed_seeds) = snapshot.seed_counts();
    let span = tracing::Span::current();
    span.record("subjects", subjects.len());
    span.record("graph_version", snapshot.graph_version);
    span.record("iterations", iterations);
    span.record("error_bound", error_bound);
    let page_size = page_size.max(1);
    let mut start = 0;
    while start < subjects.len() {
        let end = (start + page_size).min(subjects.len());
        let (snapshot, subjects) = (snapshot.clone(), subjects.clone());
        let rows = blocking(move || answers(&snapshot, &subjects[start..end])).await?;
        let mut tx = storage.begin_write().await?;
        store::trust::put_page(&mut tx, &rows).await?;
        tx.commit().await?;
        start = end;
    }
    let run = Run {
        run_id: Id::new(),
        graph_version: snapshot.graph_version,
        as_of: snapshot.as_of,
        valid_until: snapshot.valid_until,
        subjects: i64::try_from(subjects.len()).unwrap_or(i64::MAX),
        seeds: i64::try_from(seeds).unwrap_or(i64::MAX),
        removed_seeds: i64::try_from(removed_seeds).unwrap_or(i64::MAX),
        iterations: i64::from(iterations),
        error_bound,
        // `now` is the caller's clock (a business clock in tests); the batch took wall time.
        finished_at: now
            .checked_add(SignedDuration::try_from(started.elapsed()).unwrap_or_default())
            .unwrap_or(now),
    };
    let mut tx = storage.begin_write().await?;
    store::trust::drop_older_than(&mut tx, snapshot.as_of).await?;
    store::trust::record_run(&mut tx, &run).await?;
    store::trust::anchored(&mut tx, run.graph_version, run.error_bound).await?;
    tx.commit().await?;
    Ok((run, online))
}

/// The page's answers, in order, explained on every core: the strongest-path search is most of
/// a batch's time, and subjects are independent.
pub(super) fn answers(snapshot: &Snapshot, subjects: &[Id]) -> Vec<Stored> {
    let answer = |&subject_id: &Id| Stored {
        subject_id,
        trust: snapshot.answer_among_many(subject_id),
        model_version: MODEL_VERSION.to_owned(),
        graph_version: snapshot.graph_version,
        as_of: snapshot.as_of,
        valid_until: snapshot.valid_until,
    };
    let threads = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let share = subjects.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let parts: Vec<_> = subjects
            .chunks(share)
            .map(|part| scope.spawn(move || part.iter().map(answer).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|part| {
                part.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    })
}

/// CPU work off the runtime's threads (scoring a million nodes takes about a second).
pub(super) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ReferralsError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ReferralsError::Corrupt(format!("trust batch: {e}")))
}

/// A burst of changes postpones the recompute at most this many debounce periods.
const MAX_POSTPONED: i32 = 10;

/// Why the worker recomputes now, if it should. After a change that online updates have not
/// settled (`settled` is the version they reached) it waits for the graph to be quiet for
/// `debounce_seconds` (a burst of vouches is one recompute), but never longer than ten debounce
/// periods after the last batch.
pub(crate) fn due(
    latest: Option<&Run>,
    (version, changed_at): (i64, Timestamp),
    settled: i64,
    now: Timestamp,
    settings: &TrustSettings,
) -> Option<&'static str> {
    let seconds = |s: u64| SignedDuration::from_secs(i64::try_from(s).unwrap_or(i64::MAX));
    let Some(run) = latest else {
        return Some("no trust stored yet");
    };
    let age = now.duration_since(run.as_of);
    if now >= run.valid_until {
        Some("a day turned or a standing lapsed since the last batch")
    } else if run.graph_version != version
        && settled != version
        && (now.duration_since(changed_at) >= seconds(settings.debounce_seconds)
            || age >= seconds(settings.debounce_seconds) * MAX_POSTPONED)
    {
        Some("the graph changed")
    } else if age >= seconds(settings.recompute_interval_seconds) {
        Some("the recompute interval passed")
    } else {
        None
    }
}

/// The worker: recomputes when [`due`] says so, updates online when the graph changed since
/// ([`online`]), until the server stops. The online state lives here, in this task only.
pub(crate) async fn run(
    storage: Storage,
    clock: SharedClock,
    rules: Arc<Rules>,
    settings: TrustSettings,
    mut stopping: Stopping,
) {
    let page_size = usize::try_from(settings.page_size).unwrap_or(usize::MAX);
    let mut state = Worker::default();
    loop {
        if stopping.is_stopping() {
            return;
        }
        if let Err(error) = step(&storage, &clock, &rules, &settings, page_size, &mut state).await {
            state.online = None;
            tracing::warn!(error = %error, "trust worker step failed");
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = stopping.stopped() => return,
        }
    }
}

/// What the worker task keeps between polls.
#[derive(Debug, Default)]
struct Worker {
    online: Option<Online>,
    /// The (anchor, settled) versions a resume was last tried at: one solve per state of the
    /// stored answers, not one a poll (it gives nothing without seeds, say).
    resumed_at: Option<(i64, i64)>,
}

/// One look at the graph: a batch if [`due`], else an online update if it changed.
async fn step(
    storage: &Storage,
    clock: &SharedClock,
    rules: &Rules,
    settings: &TrustSettings,
    page_size: usize,
    worker: &mut Worker,
) -> Result<(), ReferralsError> {
    let state = &mut worker.online;
    let now = clock.now();
    let (versions, changed_at, latest) = {
        let mut conn = storage.reader().acquire().await?;
        let versions = store::trust::versions(&mut conn).await?;
        let (_, changed_at) = store::trust::graph_state(&mut conn).await?;
        (
            versions,
            changed_at,
            store::trust::latest_run(&mut conn).await?,
        )
    };
    let graph = (versions.version, changed_at);
    if let Some(why) = due(latest.as_ref(), graph, versions.settled, now, settings) {
        *state = None;
        let started = std::time::Instant::now();
        let (run, anchored) = recompute_anchored(storage, clock.now(), rules, page_size).await?;
        tracing::info!(
            why,
            subjects = run.subjects,
            graph_version = run.graph_version,
            iterations = run.iterations,
            error_bound = run.error_bound,
            seconds = started.elapsed().as_secs_f64(),
            "trust recomputed"
        );
        *state = anchored;
        return Ok(());
    }
    let held = state
        .take()
        .filter(|held| held.anchor == versions.anchor && held.version == versions.settled);
    if versions.settled == versions.version {
        *state = match held {
            Some(held) => Some(held),
            None if worker.resumed_at != Some((versions.anchor, versions.settled)) => {
                worker.resumed_at = Some((versions.anchor, versions.settled));
                online::resume(storage, now, rules).await?
            }
            None => None,
        };
        return Ok(());
    }
    // Changed since the last settle: update online if this process holds the state; without
    // it, the debounced batch (`due`) takes the change.
    let Some(held) = held else {
        return Ok(());
    };
    let started = std::time::Instant::now();
    let (next, outcome) = online::update(storage, held, now, rules).await?;
    match &outcome {
        Outcome::Updated {
            version,
            rewritten,
            settled,
        } => tracing::info!(
            graph_version = version,
            rewritten,
            pushes = settled.pushes,
            touched = settled.touched,
            error_bound = settled.error_bound,
            seconds = started.elapsed().as_secs_f64(),
            "trust updated online"
        ),
        Outcome::Unchanged => {}
        Outcome::NeedsBatch(why) => {
            tracing::info!(why, "trust change left to the batch");
        }
    }
    *state = next;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("a valid instant")
    }

    fn run(version: i64, as_of: &str, valid_until: &str) -> Run {
        Run {
            run_id: Id::new(),
            graph_version: version,
            as_of: at(as_of),
            valid_until: at(valid_until),
            subjects: 0,
            seeds: 0,
            removed_seeds: 0,
            iterations: 0,
            error_bound: 0.0,
            finished_at: at(as_of),
        }
    }

    #[test]
    fn the_worker_recomputes_on_start_after_a_quiet_change_at_midnight_and_on_its_interval() {
        let settings = TrustSettings {
            debounce_seconds: 30,
            recompute_interval_seconds: 3_600,
            ..TrustSettings::default()
        };
        let at_nine = at("2026-03-02T09:00:00Z");
        let now = at("2026-03-02T09:00:10Z");
        assert_eq!(
            due(None, (0, at_nine), -1, now, &settings),
            Some("no trust stored yet")
        );
        let last = run(4, "2026-03-02T09:00:00Z", "2026-03-03T00:00:00Z");
        assert_eq!(
            due(Some(&last), (4, at_nine), 4, now, &settings),
            None,
            "nothing changed"
        );
        let changed = (5, at("2026-03-02T09:00:05Z"));
        assert_eq!(
            due(Some(&last), changed, 4, now, &settings),
            None,
            "changed 5 s ago: wait for the burst to end"
        );
        assert_eq!(
            due(
                Some(&last),
                changed,
                4,
                at("2026-03-02T09:00:35Z"),
                &settings
            ),
            Some("the graph changed"),
            "quiet for 30 s"
        );
        assert_eq!(
            due(
                Some(&last),
                changed,
                5,
                at("2026-03-02T09:00:35Z"),
                &settings
            ),
            None,
            "online updates settled the change: no batch for it"
        );
        let still_changing = (9, at("2026-03-02T09:04:59Z"));
        assert_eq!(
            due(
                Some(&last),
                still_changing,
                4,
                at("2026-03-02T09:05:00Z"),
                &settings
            ),
            Some("the graph changed"),
            "a burst postpones it by ten debounce periods at most"
        );
        assert_eq!(
            due(
                Some(&last),
                (4, at_nine),
                4,
                at("2026-03-02T10:00:00Z"),
                &settings
            ),
            Some("the recompute interval passed")
        );
        assert!(
            due(
                Some(&last),
                (4, at_nine),
                4,
                at("2026-03-03T00:00:00Z"),
                &settings
            )
            .is_some()
        );
    }
}
