-- Good standing as plans last published it (domain/standing.rs): a change of verdict or of the
-- reasons it rests on is published as plans.standing_changed.v1 in the transaction that caused
-- it. The row is also what concurrent evaluations of one customer take turns on.
CREATE TABLE customer_standing (
    customer_id TEXT PRIMARY KEY,
    in_good_standing BIGINT NOT NULL,
    basis TEXT NOT NULL,                    -- the opposing reasons ('GOOD' when none)
    since_micros BIGINT,                    -- NULL: never out of good standing
    lapses_at_micros BIGINT,                -- out of it only by reasons that lapse by then
    evaluated_at_micros BIGINT NOT NULL
);
