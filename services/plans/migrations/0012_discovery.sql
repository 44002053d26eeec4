-- Discovery for an agent (issue 24): a hardship case shows the plan accepted from it.
CREATE INDEX plans_case ON plans (case_id);
