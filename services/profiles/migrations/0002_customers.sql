-- Profiles: customers, their contact points and references, touchpoints, commitments, consent,
-- contact preferences and vulnerability. Portable SQL (SQLite and PostgreSQL): ids TEXT
-- (UUIDv7), instants BIGINT unix microseconds, calendar dates TEXT 'YYYY-MM-DD', flags BIGINT 0/1,
-- enumerations TEXT, structured values TEXT JSON.

CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    legal_name TEXT NOT NULL,               -- byte-exact, any script
    preferred_name TEXT NOT NULL,
    search_name TEXT NOT NULL,              -- legal and preferred names folded (case, diacritics)
    locale TEXT NOT NULL,                   -- BCP 47
    time_zone TEXT NOT NULL,                -- IANA
    addresses TEXT NOT NULL,                -- JSON list
    customer_since TEXT NOT NULL,           -- tenure start, in the customer's calendar
    since_month_day BIGINT NOT NULL,        -- MMDD of customer_since, for anniversaries
    status TEXT NOT NULL,                   -- active | closed | merged | erased
    merged_into TEXT,
    create_request_id TEXT UNIQUE,
    created_at_micros BIGINT NOT NULL,
    updated_at_micros BIGINT NOT NULL,
    erased_at_micros BIGINT
);
CREATE INDEX customers_since_month_day ON customers (since_month_day);
CREATE INDEX customers_merged_into ON customers (merged_into);

CREATE TABLE customer_emails (
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    position BIGINT NOT NULL,
    address TEXT NOT NULL,
    address_search TEXT NOT NULL,           -- lowercased, for exact search
    verified BIGINT NOT NULL,
    is_primary BIGINT NOT NULL,
    PRIMARY KEY (customer_id, position)
);
CREATE INDEX customer_emails_search ON customer_emails (address_search);

CREATE TABLE customer_phones (
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    position BIGINT NOT NULL,
    e164 TEXT NOT NULL,
    verified BIGINT NOT NULL,
    is_primary BIGINT NOT NULL,
    PRIMARY KEY (customer_id, position)
);
CREATE INDEX customer_phones_search ON customer_phones (e164);

-- One customer per reference: the key that makes UpsertCustomerByExternalRef idempotent.
CREATE TABLE external_refs (
    system TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    PRIMARY KEY (system, external_id)
);
CREATE INDEX external_refs_customer ON external_refs (customer_id);

CREATE TABLE contact_preferences (
    customer_id TEXT PRIMARY KEY REFERENCES customers (customer_id),
    preferences TEXT NOT NULL,              -- JSON
    updated_at_micros BIGINT NOT NULL
);

-- Special-category data: only on an explicit view (and, with the security issue, a role).
CREATE TABLE vulnerabilities (
    customer_id TEXT PRIMARY KEY REFERENCES customers (customer_id),
    record TEXT NOT NULL,                   -- JSON
    recorded_by_kind TEXT NOT NULL,
    recorded_by_id TEXT NOT NULL,
    recorded_at_micros BIGINT NOT NULL
);

CREATE TABLE interactions (
    interaction_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    topic TEXT NOT NULL,
    outcome TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    sentiment TEXT NOT NULL,
    occurred_at_micros BIGINT NOT NULL,
    summary TEXT NOT NULL,
    account_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    request_id TEXT UNIQUE,
    recorded_at_micros BIGINT NOT NULL
);
CREATE INDEX interactions_timeline ON interactions (customer_id, occurred_at_micros, interaction_id);

CREATE TABLE commitments (
    commitment_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    description TEXT NOT NULL,
    promised_by_kind TEXT NOT NULL,
    promised_by_id TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,                   -- open | kept | broken (overdue is derived)
    interaction_id TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    resolved_at_micros BIGINT,
    resolved_by_kind TEXT NOT NULL,
    resolved_by_id TEXT NOT NULL,
    resolution_note TEXT NOT NULL,
    request_id TEXT UNIQUE
);
CREATE INDEX commitments_customer ON commitments (customer_id, due_date, commitment_id);

-- Append-only: every grant and withdrawal is kept; the latest per (purpose, channel) is in force.
CREATE TABLE consents (
    consent_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers (customer_id),
    purpose TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL,
    source TEXT NOT NULL,
    source_detail TEXT NOT NULL,
    decided_at_micros BIGINT NOT NULL,
    recorded_at_micros BIGINT NOT NULL,
    request_id TEXT UNIQUE
);
CREATE INDEX consents_customer ON consents (customer_id, decided_at_micros, consent_id);

CREATE TABLE merges (
    duplicate_id TEXT PRIMARY KEY,
    survivor_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    merged_at_micros BIGINT NOT NULL,
    interactions_moved BIGINT NOT NULL,
    commitments_moved BIGINT NOT NULL,
    consents_moved BIGINT NOT NULL,
    external_refs_moved BIGINT NOT NULL,
    request_id TEXT UNIQUE
);
