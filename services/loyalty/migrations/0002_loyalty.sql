-- Loyalty: surveys, follow-ups, the signals the score reads, scores, rewards and recognition.
-- Portable SQL: runs unchanged on SQLite and PostgreSQL. Instants are unix microseconds,
-- booleans 0/1, dates ISO text, scores hundredths of a point (BIGINT, so both backends agree).

-- What loyalty remembers of a customer from profiles and from ingested events.
CREATE TABLE customers (
    customer_id TEXT PRIMARY KEY,
    customer_since TEXT,                    -- from profiles
    products_held BIGINT,                   -- latest report wins (by its time, not arrival)
    products_at_micros BIGINT,
    merged_into TEXT,                       -- a duplicate's survivor: later events follow it
    erased BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE survey_responses (
    response_id TEXT PRIMARY KEY,
    request_id TEXT UNIQUE,                 -- a replay answers with the first result
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,                     -- transactional | relationship
    nps BIGINT,
    csat BIGINT,
    text TEXT NOT NULL,                     -- personal data: blanked on erasure
    touchpoint TEXT NOT NULL,
    interaction_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    locale TEXT NOT NULL,
    responded_at_micros BIGINT NOT NULL,
    recorded_at_micros BIGINT NOT NULL
);
CREATE INDEX survey_responses_customer ON survey_responses (customer_id, responded_at_micros);
CREATE INDEX survey_responses_time ON survey_responses (responded_at_micros);

CREATE TABLE follow_ups (
    follow_up_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    response_id TEXT NOT NULL UNIQUE,       -- one follow-up per detractor answer
    nps BIGINT NOT NULL,
    owner_id TEXT NOT NULL,
    opened_at_micros BIGINT NOT NULL,
    due_at_micros BIGINT NOT NULL,
    closed_at_micros BIGINT,
    customer_told TEXT,
    outcome TEXT,
    closed_by_kind TEXT,
    closed_by_id TEXT
);
CREATE INDEX follow_ups_open ON follow_ups (closed_at_micros, due_at_micros);
CREATE INDEX follow_ups_owner ON follow_ups (owner_id, follow_up_id);
CREATE INDEX follow_ups_customer ON follow_ups (customer_id, follow_up_id);

-- Every fact the score reads (domain::signal): the score is a function of this set and the time.
CREATE TABLE signals (
    signal_id TEXT PRIMARY KEY,             -- an event id, or the id of the response, follow-up, recognition
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    value BIGINT NOT NULL,
    reference TEXT,
    occurred_at_micros BIGINT NOT NULL
);
CREATE INDEX signals_customer ON signals (customer_id, occurred_at_micros);

-- Events already applied, so a replay is a duplicate (IngestEvents).
CREATE TABLE ingested_events (
    event_id TEXT PRIMARY KEY,
    event_type TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    occurred_at_micros BIGINT NOT NULL,
    received_at_micros BIGINT NOT NULL
);

-- Every score computed after a change and by each batch rescoring, newest last.
CREATE TABLE score_history (
    score_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    as_of_micros BIGINT NOT NULL,
    loyalty_centi BIGINT NOT NULL,
    satisfaction_centi BIGINT NOT NULL,
    involvement_centi BIGINT NOT NULL,
    affinity_centi BIGINT NOT NULL,
    segment TEXT NOT NULL,
    flags TEXT NOT NULL,                    -- JSON
    reasons TEXT NOT NULL,                  -- JSON
    explanation TEXT NOT NULL,              -- JSON
    model_version TEXT NOT NULL
);
CREATE INDEX score_history_customer ON score_history (customer_id, as_of_micros);

-- The latest score of each customer, for ListAtRisk and NPS by segment.
CREATE TABLE scores_current (
    customer_id TEXT PRIMARY KEY,
    score_id TEXT NOT NULL,                 -- its row in score_history
    loyalty_centi BIGINT NOT NULL,
    previous_loyalty_centi BIGINT,          -- at the start of the falling window
    segment TEXT NOT NULL,
    at_risk BIGINT NOT NULL,
    as_of_micros BIGINT NOT NULL
);
CREATE INDEX scores_current_risk ON scores_current (at_risk, loyalty_centi, customer_id);
CREATE INDEX scores_current_segment ON scores_current (segment, customer_id);

CREATE TABLE rewards (
    reward_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    tenure_year BIGINT NOT NULL,
    tenure_band TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    anniversary_date TEXT NOT NULL,
    issued_at_micros BIGINT NOT NULL,
    UNIQUE (customer_id, kind, tenure_year) -- exactly once however often or concurrently the run goes
);
CREATE INDEX rewards_customer ON rewards (customer_id, reward_id);

CREATE TABLE recognitions (
    recognition_id TEXT PRIMARY KEY,
    request_id TEXT UNIQUE,
    customer_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    description TEXT NOT NULL,
    currency TEXT,
    amount_minor BIGINT,
    given_by_kind TEXT NOT NULL,
    given_by_id TEXT NOT NULL,
    occurred_at_micros BIGINT NOT NULL,
    customer_response TEXT NOT NULL
);
