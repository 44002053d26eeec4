-- The score history keeps each contribution's figures, not its sentence (issue 23), in a column
-- of its own: `[[component, signal, points, [figures]], ...]` (store/scores.rs
-- `StoredContribution`); the sentence is described again from them when read. Rows written
-- from now on leave `explanation` as `[]`, which a previous version reads as an explanation
-- with nothing in it, so a rollback keeps answering; rows written before keep their sentences
-- in `explanation` and have no contributions.
ALTER TABLE score_history ADD COLUMN contributions TEXT;
