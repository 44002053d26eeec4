-- Trust served online (issue 23, item 5): personalised PageRank is computed in batch over the
-- whole graph and every subject's answer is stored; GetTrust reads one row.

-- The trust graph's version: every change to an edge (a referral's referee, a vouch, a merge)
-- or to what weighs or seeds the graph (tenure, status, good standing) adds 1 in the same
-- transaction as the change. A stored answer names the version it was computed from, so a
-- reader knows whether anything changed since. One row: writers of edges queue on it, which
-- SQLite's single writer does anyway (docs/scaling.md, section 4, on sharding it).
CREATE TABLE trust_graph (
    graph TEXT PRIMARY KEY,             -- always 'referrals'
    version BIGINT NOT NULL,
    changed_at_micros BIGINT NOT NULL
);
INSERT INTO trust_graph (graph, version, changed_at_micros) VALUES ('referrals', 0, 0);

-- One answer per customer or prospect, as GetTrust returns it.
CREATE TABLE trust_results (
    subject_id TEXT PRIMARY KEY,
    score TEXT NOT NULL,                -- exact decimal text of the f64 (no floats in SQL)
    explanation TEXT NOT NULL,          -- JSON: paths, signals, reasons (the stored reason shape)
    model_version TEXT NOT NULL,
    graph_version BIGINT NOT NULL,      -- trust_graph.version the batch read
    as_of_micros BIGINT NOT NULL,       -- the moment the graph was scored: an older answer
                                        --   never overwrites a newer one
    valid_until_micros BIGINT NOT NULL  -- tenure moves at midnight and standings lapse: the
                                        --   answer is exact until then if the version holds
);
CREATE INDEX trust_results_as_of ON trust_results (as_of_micros);

-- Each finished batch: when the worker runs next, and what the bound on its scores was.
CREATE TABLE trust_runs (
    run_id TEXT PRIMARY KEY,            -- UUIDv7
    graph_version BIGINT NOT NULL,
    as_of_micros BIGINT NOT NULL,
    valid_until_micros BIGINT NOT NULL,
    subjects BIGINT NOT NULL,
    seeds BIGINT NOT NULL,              -- pre-trusted customers in the graph
    removed_seeds BIGINT NOT NULL,      -- long-standing members in it out of good standing
    iterations BIGINT NOT NULL,
    error_bound TEXT NOT NULL,          -- L1 bound on the raw scores' error, exact decimal text
    finished_at_micros BIGINT NOT NULL
);
CREATE INDEX trust_runs_as_of ON trust_runs (as_of_micros);

-- GetTrust asks whether a subject without a stored answer has any edge (if not, the last batch's
-- figures answer it without reading the graph); and whether a prospect exists.
CREATE INDEX vouches_prospect_customer ON vouches (prospect_customer_id);
CREATE INDEX vouches_prospect ON vouches (prospect_id);
