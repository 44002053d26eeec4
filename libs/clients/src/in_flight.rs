//! One question to another service for callers that ask the same thing at the same moment.
//!
//! The desk asks plans for CheckContact and NextBestAction about the same customer at once, and
//! each needs the customer's contact profile from profiles: two identical reads (one of them an
//! audited vulnerability read) for one overview. [`InFlight::ask`] lets the second wait for the
//! first one's answer instead. Nothing is kept once the answer is in: a question asked after it
//! goes to the other service again, so no answer is older than the call that waits for it.

use std::collections::HashMap;
use std::future::Future;
use std::hash::Hash;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::FutureExt;
use futures_util::future::{BoxFuture, Shared};
use tracing::Instrument;

type Asking<V> = Shared<BoxFuture<'static, V>>;

/// Questions being asked right now, by key.
pub struct InFlight<K, V> {
    asking: Arc<Mutex<HashMap<K, Asking<V>>>>,
}

impl<K, V> Clone for InFlight<K, V> {
    fn clone(&self) -> Self {
        Self {
            asking: Arc::clone(&self.asking),
        }
    }
}

impl<K, V> Default for InFlight<K, V> {
    fn default() -> Self {
        Self {
            asking: Arc::default(),
        }
    }
}

impl<K, V> std::fmt::Debug for InFlight<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InFlight").finish_non_exhaustive()
    }
}

impl<K, V> InFlight<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + Sync + 'static,
{
    /// The answer to `key`'s question: `question()`'s, asked now, or that of the same question
    /// another caller is already waiting for. The question runs in the span of the caller who
    /// asked it first (its trace shows the call to the other service).
    pub async fn ask<F>(&self, key: K, question: impl FnOnce() -> F) -> V
    where
        F: Future<Output = V> + Send + 'static,
    {
        let (asking, _forget) = {
            let mut asking = self.asking.lock().unwrap_or_else(PoisonError::into_inner);
            match asking.get(&key) {
                Some(earlier) => (earlier.clone(), None),
                None => {
                    let now = question().in_current_span().boxed().shared();
                    asking.insert(key.clone(), now.clone());
                    let forget = Forget {
                        asking: Arc::clone(&self.asking),
                        key,
                        question: now.clone(),
                    };
                    (now, Some(forget))
                }
            }
        };
        asking.await
    }

    /// How many questions are being asked now.
    pub fn len(&self) -> usize {
        self.asking
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Held by the caller who asked first: when it has its answer (or gave up waiting), the
/// question is forgotten, so the next caller asks afresh. Callers still waiting keep their copy.
struct Forget<K: Eq + Hash, V> {
    asking: Arc<Mutex<HashMap<K, Asking<V>>>>,
    key: K,
    question: Asking<V>,
}

impl<K: Eq + Hash, V> Drop for Forget<K, V> {
    fn drop(&mut self) {
        let mut asking = self.asking.lock().unwrap_or_else(PoisonError::into_inner);
        if asking
            .get(&self.key)
            .is_some_and(|current| current.ptr_eq(&self.question))
        {
            asking.remove(&self.key);
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use tokio::sync::oneshot;

    use super::*;

    /// A question whose answer is given by the test, counting how often it is asked.
    fn question(
        asked: &Arc<AtomicUsize>,
        answer: oneshot::Receiver<u32>,
    ) -> impl FnOnce() -> BoxFuture<'static, u32> + use<> {
        let asked = Arc::clone(asked);
        move || {
            asked.fetch_add(1, Ordering::SeqCst);
            async move { answer.await.unwrap_or(0) }.boxed()
        }
    }

    type Caller = tokio::task::JoinHandle<u32>;

    /// Two callers asking about "ana", the second once the first's question is under way (and
    /// given a question that would never be answered); the first's answer is the test's to give.
    async fn two_callers(
        in_flight: &InFlight<&'static str, u32>,
        asked: &Arc<AtomicUsize>,
    ) -> (oneshot::Sender<u32>, Caller, Caller, oneshot::Sender<u32>) {
        let (answer, answered) = oneshot::channel();
        let (unused, never) = oneshot::channel();
        let call = |question| {
            let in_flight = in_flight.clone();
            tokio::spawn(async move { in_flight.ask("ana", question).await })
        };
        let first = call(question(asked, answered));
        while in_flight.is_empty() {
            tokio::task::yield_now().await;
        }
        let second = call(question(asked, never));
        tokio::time::sleep(Duration::from_millis(20)).await;
        (answer, first, second, unused)
    }

    #[tokio::test]
    async fn callers_asking_at_once_share_one_question_and_later_ones_ask_again() {
        let in_flight = InFlight::<&str, u32>::default();
        let asked = Arc::new(AtomicUsize::new(0));
        let (answer, first, second, unused) = two_callers(&in_flight, &asked).await;
        assert!(
            !second.is_finished(),
            "the second waits for the first answer"
        );
        answer.send(7).unwrap();
        assert_eq!(first.await.unwrap(), 7);
        let second = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second did not ask a question of its own");
        assert_eq!(second.unwrap(), 7);
        assert_eq!(asked.load(Ordering::SeqCst), 1, "asked once for both");
        assert!(in_flight.is_empty(), "nothing kept after the answer");
        drop(unused);

        let (answer, answered) = oneshot::channel();
        answer.send(8).unwrap();
        assert_eq!(in_flight.ask("ana", question(&asked, answered)).await, 8);
        assert_eq!(
            asked.load(Ordering::SeqCst),
            2,
            "a later question is asked again"
        );
    }

    #[tokio::test]
    async fn other_keys_are_asked_on_their_own() {
        let in_flight = InFlight::<&str, u32>::default();
        let asked = Arc::new(AtomicUsize::new(0));
        let (ana, ana_answer) = oneshot::channel();
        let (ion, ion_answer) = oneshot::channel();
        ana.send(1).unwrap();
        ion.send(2).unwrap();
        let (a, i) = tokio::join!(
            in_flight.ask("ana", question(&asked, ana_answer)),
            in_flight.ask("ion", question(&asked, ion_answer)),
        );
        assert_eq!((a, i), (1, 2));
        assert_eq!(asked.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_first_caller_that_gives_up_leaves_the_answer_to_those_still_waiting() {
        let in_flight = InFlight::<&str, u32>::default();
        let asked = Arc::new(AtomicUsize::new(0));
        let (answer, first, second, _unused) = two_callers(&in_flight, &asked).await;
        first.abort();
        let _ = first.await;
        assert!(in_flight.is_empty(), "forgotten when the first caller left");
        answer.send(9).unwrap();
        let second = tokio::time::timeout(Duration::from_secs(5), second)
            .await
            .expect("the second waited for the first one's question");
        assert_eq!(second.unwrap(), 9);
        assert_eq!(asked.load(Ordering::SeqCst), 1);
    }
}
