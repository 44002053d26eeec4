-- Outreach: the per-customer, per-debt contact ledger and every contact decision with its
-- reasons, so an auditor can replay who asked, what was decided and why.

CREATE TABLE contact_attempts (
    attempt_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    direction TEXT NOT NULL,
    outcome TEXT NOT NULL,
    occurred_at_micros BIGINT NOT NULL,
    automated BIGINT NOT NULL,
    template_id TEXT NOT NULL,
    decision_id TEXT NOT NULL,
    made_by_kind TEXT NOT NULL,
    made_by_id TEXT NOT NULL,
    recorded_at_micros BIGINT NOT NULL,
    request_id TEXT UNIQUE
);
CREATE INDEX contact_attempts_debt ON contact_attempts (customer_id, account_id, occurred_at_micros);

CREATE TABLE contact_decisions (
    decision_id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL,
    account_id TEXT NOT NULL,
    channel TEXT NOT NULL,
    purpose TEXT NOT NULL,
    at_micros BIGINT NOT NULL,
    automated BIGINT NOT NULL,
    allowed BIGINT NOT NULL,
    reasons TEXT NOT NULL,                  -- JSON: [{code, message, rule_ref, effect, params}]
    next_allowed_at_micros BIGINT,
    route_to_specialist BIGINT NOT NULL,
    rule_set TEXT NOT NULL,
    rule_set_version TEXT NOT NULL,
    requested_by_kind TEXT NOT NULL,
    requested_by_id TEXT NOT NULL,
    evaluated_at_micros BIGINT NOT NULL,
    reserved_until_micros BIGINT,           -- a held attempt slot (two dialers, one 8th call)
    consumed BIGINT NOT NULL                -- the attempt it allowed was recorded
);
CREATE INDEX contact_decisions_debt ON contact_decisions (customer_id, account_id, reserved_until_micros);
