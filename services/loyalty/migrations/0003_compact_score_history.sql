-- Compact score history (issue 23): a batch rescoring that finds a customer's score unchanged but
-- for the time (numbers, segment, flags, reasons, model) adds no history row and only marks the
-- current score "unchanged as of" the run (scores_current.as_of_micros). The history keeps one
-- row, with its explanation, per change.
ALTER TABLE scores_current ADD COLUMN sameness_hash BIGINT; -- store::scores::sameness of the current score
