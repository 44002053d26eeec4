-- Trust updated online (issue 23, item 5: "update incrementally when an edge or a standing
-- changes"): after a change the worker updates the scores by residual pushes and rewrites only
-- the answers that moved, stamped with the new version. The answers it did not rewrite are still
-- current, within the bound below, when the graph is at `settled_version` and they were written
-- at `anchor_version` (the batch the updates started from) or later.
ALTER TABLE trust_graph ADD COLUMN anchor_version BIGINT NOT NULL DEFAULT -1;
ALTER TABLE trust_graph ADD COLUMN settled_version BIGINT NOT NULL DEFAULT -1;
-- L1 bound on the raw scores at `settled_version`, exact decimal text (as trust_runs.error_bound).
ALTER TABLE trust_graph ADD COLUMN settled_error_bound TEXT NOT NULL DEFAULT '0';
