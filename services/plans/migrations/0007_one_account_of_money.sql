-- One account of the money (issue 17, docs/payments.md): `payments` becomes the account's one
-- ledger of money received, whoever reports it. Billing's ReportPayment and an agent's
-- RecordPlanPayment of the same money share its row, found by the reference both know
-- (billing's idempotency key = the agent's source reference), so the account moves once.
-- `plan_payments` keeps how the money was allocated to a plan's installments and names the
-- ledger row it came from. Portable SQL (SQLite and PostgreSQL); additive only.

-- Which report moved the account: 'billing' (ReportPayment) or 'plan' (RecordPlanPayment).
ALTER TABLE payments ADD COLUMN posted_by TEXT NOT NULL DEFAULT 'billing';
-- When each side reported the money; NULL until it has.
ALTER TABLE payments ADD COLUMN billing_reported_at_micros BIGINT;
ALTER TABLE payments ADD COLUMN plan_recorded_at_micros BIGINT;
-- How the payment moved the account; NULL for payments posted before this was kept.
ALTER TABLE payments ADD COLUMN applied_to_balance_minor BIGINT;
ALTER TABLE payments ADD COLUMN applied_to_arrears_minor BIGINT;

UPDATE payments SET billing_reported_at_micros = recorded_at_micros;

ALTER TABLE plan_payments ADD COLUMN account_payment_id TEXT;

-- Plan payments recorded before this migration never reached the account's ledger; each gets a
-- ledger row of its own (it did not move the balance then, so nothing is applied), keeping the
-- recovery report's totals. Its reference cannot collide with a billing key in use.
INSERT INTO payments (payment_id, account_id, idempotency_key, amount_minor, received_at_micros, source_reference,
    recorded_at_micros, posted_by, billing_reported_at_micros, plan_recorded_at_micros)
SELECT pp.payment_id, p.account_id, 'plan-payment:' || pp.payment_id, pp.amount_minor, pp.received_at_micros,
    pp.source_reference, pp.recorded_at_micros, 'plan', NULL, pp.recorded_at_micros
FROM plan_payments pp JOIN plans p ON p.plan_id = pp.plan_id;

UPDATE plan_payments SET account_payment_id = payment_id;

-- One allocation per ledger row (NULLs are distinct on both backends).
CREATE UNIQUE INDEX plan_payments_account_payment ON plan_payments (account_payment_id);
