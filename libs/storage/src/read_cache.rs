//! A small read-through cache for hot entities, embedded (SQLite) mode only (issue 23).
//!
//! Every in-process write commits through [`crate::WriteTransaction::commit`] (migrations too),
//! which bumps the storage's write generation. An entry is tagged with the generation read
//! *before* the database read it holds, and is served only while that generation is still
//! current: a value read before a commit can never be served after that commit returns.
//! On PostgreSQL the cache never holds anything: several replicas write to one database and
//! no process sees the others' commits.
//!
//! A commit from outside the process (`sqlite3` on the file, another `rapport` command, or a
//! second [`crate::Storage`] over the same file) is seen too: the stamp an entry is tagged with
//! also holds the header of the WAL index (`<file>-shm`), which SQLite rewrites on every commit
//! of any connection (its change counter, last frame and checksums; sqlite.org/walformat.html,
//! "the WAL-index header"). Reading it is one `pread`, no database round trip. When the file
//! cannot be read the cache steps aside and every read goes to the database.
//!
//! One kind of commit leaves the cache as it is: the audit trail's appends
//! ([`crate::WriteTransaction::commit_keeping_reads`]), which write only the trail, never what a
//! cached read holds. Profiles audits every read of a vulnerability, so without this each such
//! read emptied its cache of customers. Such a commit does not count as one of this process's
//! commits, and the WAL index's change of it is recognised as its own: just before its COMMIT,
//! holding SQLite's write lock (`BEGIN IMMEDIATE`), it notes the header, and a header whose
//! change counter (`iChange`) is exactly one more than that noted is its commit, since nobody
//! else can commit while it holds the lock. Any other change, or an own commit that failed or
//! that SQLite counted twice (a WAL restart), makes the cache stale as before.

use std::collections::HashMap;
use std::hash::Hash;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::{Backend, Storage};

/// Counts the commits of one storage (shared by its clones), and watches its file's WAL index.
#[derive(Debug, Clone, Default)]
pub(crate) struct WriteGeneration(Arc<Generations>);

#[derive(Debug, Default)]
struct Generations {
    commits: AtomicU64,
    /// `None` on PostgreSQL.
    file: Option<FileVersion>,
}

impl WriteGeneration {
    /// For a SQLite file at `path`; `None` on PostgreSQL.
    pub(crate) fn new(path: Option<&Path>) -> Self {
        let file = path.map(|path| {
            let mut name = path.as_os_str().to_owned();
            name.push("-shm");
            FileVersion {
                wal_index: PathBuf::from(name),
                seen: Mutex::default(),
            }
        });
        Self(Arc::new(Generations {
            commits: AtomicU64::new(0),
            file,
        }))
    }

    pub(crate) fn current(&self) -> u64 {
        self.0.commits.load(Ordering::SeqCst)
    }

    /// After a commit (or a failed one, which may have committed): every cached read is stale.
    pub(crate) fn bump(&self) {
        self.0.commits.fetch_add(1, Ordering::SeqCst);
    }

    /// The file's version now: it moves with every commit of any connection but this process's
    /// own audit appends. `None` when there is no WAL index to read.
    fn file_version(&self) -> Option<u64> {
        let file = self.0.file.as_ref()?;
        let header = file.header()?;
        Some(file.seen().observe(header))
    }

    /// Just before the COMMIT of a transaction that holds the write lock and wrote nothing a
    /// cached read holds: the next change of the WAL index is this commit's.
    pub(crate) fn expect_own_commit(&self) {
        if let Some(file) = &self.0.file
            && let Some(header) = file.header()
        {
            let mut seen = file.seen();
            seen.observe(header);
            seen.own_commit_from = Some(header);
        }
    }

    /// Just after that COMMIT: the change is taken as its own if it committed (and nothing else
    /// did), and the expectation ends either way; a failed COMMIT makes every cached read stale.
    pub(crate) fn own_commit_done(&self, committed: bool) {
        if let Some(file) = &self.0.file {
            let header = file.header();
            let mut seen = file.seen();
            if committed && let Some(header) = header {
                seen.observe(header);
            }
            seen.own_commit_from = None;
        }
        if !committed {
            self.bump();
        }
    }
}

/// The WAL index of one SQLite file, as this storage last saw it.
#[derive(Debug)]
struct FileVersion {
    wal_index: PathBuf,
    seen: Mutex<Seen>,
}

#[derive(Debug, Default)]
struct Seen {
    header: Option<WalIndexHeader>,
    /// Moves with every change of the header that was not an own audit commit.
    version: u64,
    /// The header an own commit holding the write lock started from.
    own_commit_from: Option<WalIndexHeader>,
}

type WalIndexHeader = [u8; WAL_INDEX_HEADER_BYTES];

impl FileVersion {
    fn header(&self) -> Option<WalIndexHeader> {
        use std::os::unix::fs::FileExt;
        let mut header = [0; WAL_INDEX_HEADER_BYTES];
        with_wal_index(&self.wal_index, |file| {
            file.read_exact_at(&mut header, 0).ok()
        })?;
        Some(header)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        self.seen.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Seen {
    fn observe(&mut self, header: WalIndexHeader) -> u64 {
        if self.header != Some(header) {
            let own = self.own_commit_from.is_some_and(|from| {
                self.header == Some(from)
                    && change_counter(&header) == change_counter(&from).wrapping_add(1)
            });
            if own {
                self.own_commit_from = None;
            } else {
                self.version += 1;
            }
            self.header = Some(header);
        }
        self.version
    }
}

/// Every WAL index this process has read, by path, each opened once and **never closed**:
/// closing any descriptor of a file drops every POSIX lock the process holds on it (fcntl(2)),
/// SQLite's own included. With its shared lock on the WAL index gone, another process closing
/// its connection (a backup, `rapport check`) takes itself for the last user, truncates the file
/// under this process's mapping of it, and the next access kills this process with SIGBUS (seen:
/// `services/rapport/tests/backup.rs`). When SQLite has deleted the file and made a new one
/// (all of its connections closed), the new one is opened beside the old, which stays open too.
fn with_wal_index<T>(path: &Path, read: impl FnOnce(&std::fs::File) -> Option<T>) -> Option<T> {
    use std::os::unix::fs::MetadataExt;
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Vec<std::fs::File>>>> = OnceLock::new();
    let mut open = OPEN
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let files = open.entry(path.to_owned()).or_default();
    let current = files
        .last()
        .is_some_and(|file| file.metadata().is_ok_and(|m| m.nlink() > 0));
    if !current {
        files.push(std::fs::File::open(path).ok()?);
    }
    read(files.last()?)
}

/// `iChange`: the WAL-index header's third 32-bit word, in the machine's byte order, one more
/// with each transaction committed (sqlite.org/walformat.html, "the WAL-index header").
fn change_counter(header: &WalIndexHeader) -> u32 {
    u32::from_ne_bytes([header[8], header[9], header[10], header[11]])
}

/// At most `capacity` values by key, read through from the database; see the module docs.
/// Eviction is CLOCK (second chance): a hit marks its entry, the hand spares a marked entry once.
pub struct ReadCache<K, V> {
    /// `None` on PostgreSQL: nothing is cached.
    generation: Option<WriteGeneration>,
    capacity: usize,
    entries: Mutex<Entries<K, V>>,
}

impl<K, V> std::fmt::Debug for ReadCache<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReadCache")
            .field("enabled", &self.generation.is_some())
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// What the database looked like when a value was read: this process's commit count and the
/// file's version. Equal stamps mean no commit in between, from here or elsewhere (but the
/// audit trail's own appends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    generation: u64,
    file_version: u64,
}

/// The WAL-index header (`WalIndexHdr`, 48 bytes, at the start of the `-shm` file).
const WAL_INDEX_HEADER_BYTES: usize = 48;

struct Entries<K, V> {
    /// The stamp every entry was read at; entries of another one are dropped whole.
    stamp: Option<Stamp>,
    index: HashMap<K, usize>,
    slots: Vec<Slot<K, V>>,
    hand: usize,
}

struct Slot<K, V> {
    key: K,
    value: V,
    referenced: bool,
}

impl<K: Eq + Hash + Clone, V: Clone> ReadCache<K, V> {
    /// A cache of at most `capacity` entries over `storage`'s commits; holds nothing on
    /// PostgreSQL or with a capacity of 0.
    pub fn new(storage: &Storage, capacity: usize) -> Self {
        let enabled = storage.backend() == Backend::Sqlite && capacity > 0;
        Self {
            generation: enabled.then(|| storage.write_generation().clone()),
            capacity,
            entries: Mutex::new(Entries {
                stamp: None,
                index: HashMap::with_capacity(if enabled { capacity } else { 0 }),
                slots: Vec::new(),
                hand: 0,
            }),
        }
    }

    /// Whether this cache holds anything at all (SQLite, a capacity above 0).
    pub fn is_enabled(&self) -> bool {
        self.generation.is_some()
    }

    /// How many entries it holds now (stale ones included until they are dropped).
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The value under `key` if one read since the last commit holds it; otherwise `load`'s,
    /// kept when `load` finds one. Errors and `None` are not kept.
    pub async fn get_or_load<E>(
        &self,
        key: K,
        load: impl Future<Output = Result<Option<V>, E>>,
    ) -> Result<Option<V>, E> {
        // Before the read: a commit between here and the insert makes the value stale.
        let Some(read_at) = self.stamp() else {
            return load.await;
        };
        if let Some(value) = self.lookup(&key, read_at) {
            return Ok(Some(value));
        }
        let loaded = load.await?;
        if let Some(value) = &loaded
            && let Some(now) = self.stamp()
        {
            self.insert(key, value.clone(), read_at, now);
        }
        Ok(loaded)
    }

    /// The database's stamp now; `None` when nothing may be cached (PostgreSQL, a capacity of 0,
    /// or a WAL index that cannot be read).
    fn stamp(&self) -> Option<Stamp> {
        let generations = self.generation.as_ref()?;
        let generation = generations.current();
        Some(Stamp {
            generation,
            file_version: generations.file_version()?,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A panic while holding the lock leaves consistent entries (no step can panic halfway
        // through an update that matters): keep using them.
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn lookup(&self, key: &K, current: Stamp) -> Option<V> {
        let mut entries = self.lock();
        if entries.stamp != Some(current) {
            entries.move_to(current);
            return None;
        }
        let slot = *entries.index.get(key)?;
        let slot = &mut entries.slots[slot];
        slot.referenced = true;
        Some(slot.value.clone())
    }

    fn insert(&self, key: K, value: V, read_at: Stamp, current: Stamp) {
        if read_at != current {
            // A commit since the read: the value may already be stale.
            return;
        }
        let mut entries = self.lock();
        if entries.stamp != Some(current) {
            entries.move_to(current);
        }
        if let Some(&slot) = entries.index.get(&key) {
            entries.slots[slot].value = value;
            return;
        }
        let slot = Slot {
            key: key.clone(),
            value,
            referenced: false,
        };
        if entries.slots.len() < self.capacity {
            entries.slots.push(slot);
            let at = entries.slots.len() - 1;
            entries.index.insert(key, at);
            return;
        }
        let victim = entries.victim();
        let old = std::mem::replace(&mut entries.slots[victim], slot);
        entries.index.remove(&old.key);
        entries.index.insert(key, victim);
    }
}

impl<K, V> Entries<K, V> {
    /// Drops every entry: they were read at another stamp than `stamp`. (A slow caller holding
    /// an older stamp may move the entries back to it; nothing is served wrongly, since a value
    /// is kept only when the stamp was the same before and after its read, and served only
    /// while the stamp is still that one.)
    fn move_to(&mut self, stamp: Stamp) {
        self.stamp = Some(stamp);
        self.index.clear();
        self.slots.clear();
        self.hand = 0;
    }

    /// The slot the CLOCK hand stops at: the first not referenced since the hand last passed.
    fn victim(&mut self) -> usize {
        loop {
            let at = self.hand;
            self.hand = (self.hand + 1) % self.slots.len();
            let slot = &mut self.slots[at];
            if !slot.referenced {
                return at;
            }
            slot.referenced = false;
        }
    }
}
