-- One customer everywhere (DESIGN.md, Between services): profiles publishes merges and
-- erasures to AccountService/IngestEvents. Plans keeps which ids were merged into which, one
-- step deep (a survivor later merged away takes its duplicates along), so a call naming a
-- merged-away id is answered for its survivor and a late account follows the survivor too.
CREATE TABLE customer_merges (
    duplicate_id TEXT PRIMARY KEY,
    survivor_id TEXT NOT NULL,
    merged_at_micros BIGINT NOT NULL
);
CREATE INDEX customer_merges_survivor ON customer_merges (survivor_id);

-- Customers profiles erased: a merge into one arriving after its erasure is erased too.
CREATE TABLE customer_erasures (
    customer_id TEXT PRIMARY KEY,
    erased_at_micros BIGINT NOT NULL
);

-- Events IngestEvents applied, by id: a redelivered event is a duplicate, applied once.
CREATE TABLE ingested_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    occurred_at_micros BIGINT NOT NULL,
    received_at_micros BIGINT NOT NULL
);
