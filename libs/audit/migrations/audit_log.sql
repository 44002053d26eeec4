-- The audit trail (rapport-audit): append-only; each entry's hash covers its fields and the
-- previous entry's hash, so an altered, removed or reordered entry breaks the chain.
-- Every service includes this one file as one of its migrations.
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,              -- 1, 2, 3, ...: the primary key makes a fork impossible
    recorded_at_micros BIGINT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    rpc TEXT NOT NULL,
    targets TEXT NOT NULL,               -- JSON array of "field=id"
    outcome TEXT NOT NULL,               -- gRPC code name
    trace_id TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);

CREATE INDEX audit_log_actor ON audit_log (actor, seq);
