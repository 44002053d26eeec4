-- Referrals: codes, prospects, referrals, vouches, rewards and fraud flags. Portable SQL.

CREATE TABLE referral_codes (
    code TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    issued_at_micros BIGINT NOT NULL,
    expires_at_micros BIGINT NOT NULL,
    active BIGINT NOT NULL
);
CREATE INDEX referral_codes_customer ON referral_codes (customer_id, active);

-- People we know of who are not (yet) customers; contact details as given (fraud checks compare
-- normalised forms computed on the fly).
CREATE TABLE prospects (
    prospect_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL,
    phone TEXT NOT NULL,
    address TEXT NOT NULL,                  -- normalised key (street|POSTCODE|COUNTRY)
    customer_id TEXT,                       -- set when the prospect signs up
    created_at_micros BIGINT NOT NULL
);

CREATE TABLE referrals (
    referral_id TEXT PRIMARY KEY,
    referrer_id TEXT NOT NULL,
    code TEXT NOT NULL,
    prospect_id TEXT NOT NULL,
    referee_id TEXT UNIQUE,                 -- one referrer per referee
    status TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    signed_up_at_micros BIGINT,
    qualified_at_micros BIGINT,
    device_hash TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    request_id TEXT UNIQUE
);
CREATE INDEX referrals_referrer ON referrals (referrer_id, created_at_micros);

CREATE TABLE vouches (
    vouch_id TEXT PRIMARY KEY,
    voucher_id TEXT NOT NULL,
    prospect_id TEXT NOT NULL,
    prospect_customer_id TEXT NOT NULL,
    status TEXT NOT NULL,
    relationship TEXT NOT NULL,
    years_known BIGINT NOT NULL,
    comment TEXT NOT NULL,
    requested_by_kind TEXT NOT NULL,
    requested_by_id TEXT NOT NULL,
    requested_at_micros BIGINT NOT NULL,
    responded_at_micros BIGINT,
    request_id TEXT UNIQUE
);
CREATE INDEX vouches_voucher ON vouches (voucher_id, requested_at_micros);

-- One reward per referral and role: issued exactly once however often qualification runs.
CREATE TABLE rewards (
    reward_id TEXT PRIMARY KEY,
    referral_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    role TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    status TEXT NOT NULL,
    reasons TEXT NOT NULL,                  -- JSON
    created_at_micros BIGINT NOT NULL,
    issued_at_micros BIGINT,
    UNIQUE (referral_id, role)
);
CREATE INDEX rewards_customer ON rewards (customer_id, status);

CREATE TABLE fraud_flags (
    flag_id TEXT PRIMARY KEY,
    signal TEXT NOT NULL,
    severity TEXT NOT NULL,
    status TEXT NOT NULL,
    referral_ids TEXT NOT NULL,             -- JSON
    customer_ids TEXT NOT NULL,             -- JSON
    reasons TEXT NOT NULL,                  -- JSON
    raised_at_micros BIGINT NOT NULL,
    resolved_at_micros BIGINT,
    resolved_by_kind TEXT NOT NULL,
    resolved_by_id TEXT NOT NULL,
    resolution_reason TEXT NOT NULL
);

-- What profiles last told us about customers the graph touches (tenure, standing), so trust can
-- find its pre-trusted seeds without a call per node.
CREATE TABLE members (
    customer_id TEXT PRIMARY KEY,
    customer_since TEXT NOT NULL,
    good_standing BIGINT NOT NULL,
    refreshed_at_micros BIGINT NOT NULL
);
