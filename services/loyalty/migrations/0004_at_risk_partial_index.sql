-- Only customers at risk are ever listed by loyalty (store::scores::at_risk: WHERE at_risk = 1
-- ORDER BY loyalty_centi, customer_id), so the index holds only them. Its key is the loyalty, a
-- random place for each customer: a batch rescoring used to write a random index page for every
-- customer, at risk or not (issue 23, item 4; docs/scaling.md has the figures).
DROP INDEX scores_current_risk;
CREATE INDEX scores_current_at_risk ON scores_current (loyalty_centi, customer_id) WHERE at_risk = 1;
