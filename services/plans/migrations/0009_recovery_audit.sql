-- Issue 19. When billing's last applied arrears report was taken (its as_of), so a report as
-- old as or older than it is answered as ignored rather than applied out of order; NULL until
-- the first report.
ALTER TABLE accounts ADD COLUMN arrears_as_of_micros BIGINT;
-- The balance when the account last became delinquent: the recovery report's write-off
-- baseline (balance at delinquency × the configured recovery rate). NULL for accounts that
-- became delinquent before this column existed; the report then falls back to the balance.
ALTER TABLE accounts ADD COLUMN delinquent_balance_minor BIGINT;
