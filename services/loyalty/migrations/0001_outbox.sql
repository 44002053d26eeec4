-- Domain events of the loyalty service, written in the same transaction as the change they
-- describe and delivered to their consumers by the outbox worker (DESIGN.md, Between services).
-- Portable SQL: runs unchanged on SQLite and PostgreSQL.
CREATE TABLE outbox (
    event_id TEXT PRIMARY KEY,              -- UUIDv7; consumers deduplicate by it
    event_type TEXT NOT NULL,
    customer_id TEXT,                       -- delivery is ordered per customer
    payload TEXT NOT NULL,                  -- JSON
    traceparent TEXT,                       -- W3C trace context of the change
    occurred_at_micros BIGINT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_micros BIGINT NOT NULL,
    delivered_at_micros BIGINT
);

CREATE INDEX outbox_undelivered ON outbox (delivered_at_micros, next_attempt_at_micros);
