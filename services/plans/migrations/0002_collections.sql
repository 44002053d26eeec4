-- Plans: accounts fed by billing, hardship cases with income & expenditure, protections,
-- offered options, payment plans with their installments and payments, promises to pay.
-- Portable SQL (SQLite and PostgreSQL): ids TEXT (UUIDv7), money BIGINT minor units with the
-- account's currency, instants BIGINT unix microseconds, dates TEXT 'YYYY-MM-DD', flags BIGINT
-- 0/1, enumerations TEXT, structured values TEXT JSON.

CREATE TABLE accounts (
    account_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    source_system TEXT NOT NULL,
    external_account_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    currency TEXT NOT NULL,
    balance_minor BIGINT NOT NULL,
    contractual_payment_minor BIGINT NOT NULL,
    annual_rate TEXT NOT NULL,              -- exact decimal, e.g. '0.1299'
    due_day BIGINT NOT NULL,
    remaining_term_months BIGINT NOT NULL,
    jurisdiction TEXT NOT NULL,
    days_past_due BIGINT NOT NULL,
    arrears_minor BIGINT NOT NULL,
    ever_delinquent BIGINT NOT NULL,        -- for the cure rate
    became_delinquent_at_micros BIGINT,
    cured_at_micros BIGINT,
    last_payment_at_micros BIGINT,
    last_payment_minor BIGINT,
    source_as_of_micros BIGINT NOT NULL,    -- billing's as-of: older updates never overwrite newer
    created_at_micros BIGINT NOT NULL,
    updated_at_micros BIGINT NOT NULL,
    UNIQUE (source_system, external_account_id)
);
CREATE INDEX accounts_customer ON accounts (customer_id);

-- Payments reported by billing; the idempotency key makes a retried report a no-op.
CREATE TABLE payments (
    payment_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    idempotency_key TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    received_at_micros BIGINT NOT NULL,
    source_reference TEXT NOT NULL,
    recorded_at_micros BIGINT NOT NULL,
    UNIQUE (account_id, idempotency_key)
);

CREATE TABLE hardship_cases (
    case_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    reason_detail TEXT NOT NULL,
    opened_by_kind TEXT NOT NULL,
    opened_by_id TEXT NOT NULL,
    status TEXT NOT NULL,                   -- open | closed
    opened_at_micros BIGINT NOT NULL,
    closed_at_micros BIGINT,
    review_date TEXT,
    statement TEXT,                         -- JSON: the latest income & expenditure
    statement_currency TEXT,
    submitted_by_kind TEXT,
    submitted_by_id TEXT,
    submitted_at_micros BIGINT,
    request_id TEXT UNIQUE
);
CREATE INDEX hardship_cases_customer ON hardship_cases (customer_id);

CREATE TABLE case_accounts (
    case_id TEXT NOT NULL REFERENCES hardship_cases (case_id),
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    PRIMARY KEY (case_id, account_id)
);
CREATE INDEX case_accounts_account ON case_accounts (account_id);

CREATE TABLE debt_advice_referrals (
    referral_id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES hardship_cases (case_id),
    service_id TEXT NOT NULL,
    referred_by_kind TEXT NOT NULL,
    referred_by_id TEXT NOT NULL,
    customer_consented BIGINT NOT NULL,
    referred_at_micros BIGINT NOT NULL,
    notes TEXT NOT NULL
);

CREATE TABLE protections (
    protection_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    account_ids TEXT NOT NULL,              -- JSON list; empty = every account of the customer
    kind TEXT NOT NULL,
    starts_at_micros BIGINT NOT NULL,
    ends_at_micros BIGINT,                  -- NULL while open-ended
    reference TEXT NOT NULL,
    reason TEXT NOT NULL,
    case_id TEXT NOT NULL,
    set_by_kind TEXT NOT NULL,
    set_by_id TEXT NOT NULL,
    cleared_at_micros BIGINT,
    cleared_by_kind TEXT NOT NULL,
    cleared_by_id TEXT NOT NULL,
    clear_reason TEXT NOT NULL,
    request_id TEXT UNIQUE
);
CREATE INDEX protections_customer ON protections (customer_id, kind, starts_at_micros);

-- Options shown to the customer; AcceptPlan takes one while it is valid.
CREATE TABLE plan_options (
    option_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,                  -- JSON: the option as offered
    basis TEXT NOT NULL,                    -- what it was computed from; a change invalidates it
    created_at_micros BIGINT NOT NULL,
    expires_at_micros BIGINT NOT NULL
);
CREATE INDEX plan_options_account ON plan_options (account_id);

CREATE TABLE plans (
    plan_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    customer_id TEXT NOT NULL,
    case_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,                   -- active | completed | broken | cancelled | superseded
    currency TEXT NOT NULL,
    monthly_minor BIGINT NOT NULL,
    total_payable_minor BIGINT NOT NULL,
    interest_waived_minor BIGINT NOT NULL,
    fees_waived_minor BIGINT NOT NULL,
    annual_rate TEXT NOT NULL,
    payday BIGINT NOT NULL,
    review_date TEXT,
    consecutive_missed BIGINT NOT NULL,
    replan_offered_at_micros BIGINT,
    accepted_by_kind TEXT NOT NULL,
    accepted_by_id TEXT NOT NULL,
    agreement_method TEXT NOT NULL,
    agreement_evidence TEXT NOT NULL,
    agreed_at_micros BIGINT NOT NULL,
    accepted_at_micros BIGINT NOT NULL,
    ended_at_micros BIGINT,
    end_reason TEXT NOT NULL,
    previous_plan_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    request_id TEXT UNIQUE
);
CREATE INDEX plans_account ON plans (account_id, status);
CREATE INDEX plans_customer ON plans (customer_id);

CREATE TABLE installments (
    plan_id TEXT NOT NULL REFERENCES plans (plan_id),
    sequence BIGINT NOT NULL,
    due_date TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    principal_minor BIGINT NOT NULL,
    interest_minor BIGINT NOT NULL,
    closing_balance_minor BIGINT NOT NULL,
    paid_minor BIGINT NOT NULL,
    status TEXT NOT NULL,                   -- scheduled | partially_paid | paid | missed
    PRIMARY KEY (plan_id, sequence)
);

CREATE TABLE plan_payments (
    payment_id TEXT PRIMARY KEY,
    plan_id TEXT NOT NULL REFERENCES plans (plan_id),
    idempotency_key TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    overpayment_minor BIGINT NOT NULL,
    allocations TEXT NOT NULL,              -- JSON: [{sequence, applied, remaining}]
    received_at_micros BIGINT NOT NULL,
    source_reference TEXT NOT NULL,
    recorded_at_micros BIGINT NOT NULL,
    UNIQUE (plan_id, idempotency_key)
);

CREATE TABLE promises (
    promise_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    customer_id TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    promised_date TEXT NOT NULL,
    status TEXT NOT NULL,                   -- pending | kept | broken | cancelled
    paid_minor BIGINT NOT NULL,
    channel TEXT NOT NULL,
    recorded_by_kind TEXT NOT NULL,
    recorded_by_id TEXT NOT NULL,
    note TEXT NOT NULL,
    created_at_micros BIGINT NOT NULL,
    resolved_at_micros BIGINT,
    request_id TEXT UNIQUE
);
CREATE INDEX promises_account ON promises (account_id, status);
