-- One customer everywhere (DESIGN.md, Between services): profiles publishes merges and
-- erasures; referrals keeps which ids were merged into which, one step deep (a survivor later
-- merged away takes its duplicates along), so calls and late events naming a duplicate are
-- answered for its survivor and an erasure reaches every id merged into the erased customer.
CREATE TABLE merges (
    duplicate_id TEXT PRIMARY KEY,
    survivor_id TEXT NOT NULL,
    merged_at_micros BIGINT NOT NULL
);
CREATE INDEX merges_survivor ON merges (survivor_id);

-- Customers profiles erased: a merge into one arriving after its erasure is erased too.
CREATE TABLE erasures (
    customer_id TEXT PRIMARY KEY,
    erased_at_micros BIGINT NOT NULL
);
