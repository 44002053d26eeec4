-- Good standing is defined once, in plans (DESIGN.md, "Good standing"), and published as
-- plans.standing_changed.v1; referrals keeps the latest verdict per customer and combines it with
-- profiles' status (the "not closed" clause) wherever it needs standing.
CREATE TABLE standings (
    customer_id TEXT PRIMARY KEY,
    in_good_standing BIGINT NOT NULL,
    since_micros BIGINT NOT NULL,           -- since when the published verdict holds
    reasons TEXT NOT NULL,                  -- JSON: code, effect, message, lapses_at (micros)
    occurred_at_micros BIGINT NOT NULL,     -- the event's time: an older event never overwrites
    event_id TEXT NOT NULL                  --   a newer one (ties: the larger UUIDv7)
);

-- Events IngestEvents applied, by id: a redelivered event is a duplicate, applied once.
CREATE TABLE ingested_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    occurred_at_micros BIGINT NOT NULL,
    received_at_micros BIGINT NOT NULL
);

-- What members has always held is profiles' status alone (active: not closed, merged or
-- erased), and since when referrals saw the customer inactive; say so.
ALTER TABLE members RENAME COLUMN good_standing TO active;
ALTER TABLE members RENAME COLUMN standing_lost_at_micros TO inactive_since_micros;
