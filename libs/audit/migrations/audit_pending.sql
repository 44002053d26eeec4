-- The pending half of an audit entry (rapport-audit, issue 20): written in the same transaction
-- as the change it describes, so a change never commits without it. The guard turns it into an
-- entry of audit_log when the call ends, deleting it in the same transaction; if the call never
-- ends here (the client hung up, the deadline passed, the process was killed), a sweep turns it
-- into an entry with the outcome COMMITTED_NO_ANSWER once finish_by_micros has passed.
CREATE TABLE audit_pending (
    call_key TEXT PRIMARY KEY,           -- one per audited call (UUIDv7)
    finish_by_micros BIGINT NOT NULL,    -- the call's deadline, and a margin
    entry TEXT NOT NULL                  -- JSON: what the guard knew before the call ran
);
