//! The hash chain. An entry's hash is SHA-256 over the JSON array of its fields and the previous
//! entry's hash; the first entry's previous hash is 64 zeros. JSON keeps the encoding
//! unambiguous whatever the fields contain.

use sha2::{Digest, Sha256};

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the guard knows about a call once it has ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEntry {
    pub recorded_at_micros: i64,
    pub actor: String,
    pub role: String,
    pub rpc: String,
    pub targets: Vec<String>,
    pub outcome: String,
    pub trace_id: String,
}

/// An entry as stored: its place in the chain and its hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: i64,
    pub entry: NewEntry,
    pub previous_hash: String,
    pub hash: String,
}

/// The hash of entry `seq` with these fields after `previous_hash`.
pub fn hash(seq: i64, entry: &NewEntry, previous_hash: &str) -> String {
    let canonical = serde_json::json!([
        seq,
        entry.recorded_at_micros,
        entry.actor,
        entry.role,
        entry.rpc,
        entry.targets,
        entry.outcome,
        entry.trace_id,
        previous_hash,
    ]);
    let digest = Sha256::digest(canonical.to_string().as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The result of checking a trail from its first entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    pub entries_checked: i64,
    /// The first entry that does not verify, and why.
    pub broken: Option<(i64, String)>,
    /// The hash of the last entry checked (the genesis value for an empty trail).
    pub head_hash: String,
}

/// Checks entries one by one, in sequence order, carrying what the next one must link to.
#[derive(Debug, Clone)]
pub struct Verifier {
    expected_seq: i64,
    previous_hash: String,
    checked: i64,
    broken: Option<(i64, String)>,
}

impl Default for Verifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            previous_hash: GENESIS.to_owned(),
            checked: 0,
            broken: None,
        }
    }
}

impl Verifier {
    /// Checks the next entry; after the first break the rest are not judged.
    pub fn check(&mut self, entry: &Entry) {
        if self.broken.is_some() {
            return;
        }
        self.checked += 1;
        let problem = if entry.seq != self.expected_seq {
            Some(format!(
                "entry {} is missing (found {} next)",
                self.expected_seq, entry.seq
            ))
        } else if entry.previous_hash != self.previous_hash {
            Some(format!(
                "entry {} does not link to the entry before it",
                entry.seq
            ))
        } else if hash(entry.seq, &entry.entry, &entry.previous_hash) != entry.hash {
            Some(format!(
                "entry {} was altered: its hash does not match its fields",
                entry.seq
            ))
        } else {
            None
        };
        if let Some(problem) = problem {
            self.broken = Some((self.expected_seq.min(entry.seq), problem));
            return;
        }
        self.expected_seq += 1;
        self.previous_hash.clone_from(&entry.hash);
    }

    pub fn finish(self) -> Verification {
        Verification {
            entries_checked: self.checked,
            broken: self.broken,
            head_hash: self.previous_hash,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: i64, previous_hash: &str, actor: &str) -> Entry {
        let fields = NewEntry {
            recorded_at_micros: 1_700_000_000_000_000 + seq,
            actor: actor.to_owned(),
            role: "agent".to_owned(),
            rpc: "/rapport.plans.v1.PlanService/AcceptPlan".to_owned(),
            targets: vec![format!("plan_id=p{seq}")],
            outcome: "OK".to_owned(),
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736".to_owned(),
        };
        let hash = hash(seq, &fields, previous_hash);
        Entry {
            seq,
            entry: fields,
            previous_hash: previous_hash.to_owned(),
            hash,
        }
    }

    fn trail(n: i64) -> Vec<Entry> {
        let mut entries: Vec<Entry> = Vec::new();
        for seq in 1..=n {
            let previous = entries
                .last()
                .map_or(GENESIS.to_owned(), |e| e.hash.clone());
            entries.push(entry(seq, &previous, "agent-7"));
        }
        entries
    }

    fn verify(entries: &[Entry]) -> Verification {
        let mut verifier = Verifier::default();
        for entry in entries {
            verifier.check(entry);
        }
        verifier.finish()
    }

    #[test]
    fn an_untouched_trail_verifies() {
        let entries = trail(5);
        let result = verify(&entries);
        assert_eq!(result.broken, None);
        assert_eq!(result.entries_checked, 5);
        assert_eq!(result.head_hash, entries[4].hash);
        assert_eq!(verify(&[]).head_hash, GENESIS);
    }

    #[test]
    fn an_altered_field_is_found() {
        let mut entries = trail(5);
        entries[2].entry.actor = "someone-else".to_owned();
        let result = verify(&entries);
        assert_eq!(result.broken.as_ref().map(|b| b.0), Some(3));
        assert!(result.broken.expect("broken").1.contains("altered"));
    }

    #[test]
    fn a_rehashed_entry_breaks_the_next_link() {
        let mut entries = trail(5);
        entries[2].entry.outcome = "PERMISSION_DENIED".to_owned();
        entries[2].hash = hash(3, &entries[2].entry, &entries[2].previous_hash);
        let result = verify(&entries);
        assert_eq!(result.broken.as_ref().map(|b| b.0), Some(4));
    }

    #[test]
    fn a_removed_entry_is_found() {
        let mut entries = trail(5);
        entries.remove(1);
        let result = verify(&entries);
        assert_eq!(result.broken.as_ref().map(|b| b.0), Some(2));
        assert!(result.broken.expect("broken").1.contains("missing"));
    }

    #[test]
    fn the_encoding_is_unambiguous() {
        let a = entry(1, GENESIS, "a\",\"b");
        let mut b = a.clone();
        b.entry.actor = "a".to_owned();
        b.entry.role = "b\",\"agent".to_owned();
        assert_ne!(hash(1, &a.entry, GENESIS), hash(1, &b.entry, GENESIS));
    }
}
