#!/usr/bin/env python3
"""Checks Prometheus alerting rules against what Rapport exports and what the runbook covers.

Usage: alerts.py RULES.yaml RUNBOOK.md

Every rule must have alert, expr, for, labels.severity, annotations.summary and
annotations.runbook_url; the runbook URL's anchor must be a heading of RUNBOOK.md; the expression
must parse as PromQL and use only the metrics (and their labels) below.
"""

import re
import sys

import promql_parser
import yaml

# Labels Prometheus attaches to every scraped series (target labels after the usual relabelling).
TARGET_LABELS = {"job", "instance", "namespace", "pod", "container", "service_name"}

RPC = {"rpc_system_name", "rpc_service", "rpc_method", "rpc_response_status_code"}
POOL = {"db_client_connection_pool_name"}
# Every metric the services export on the admin port (/metrics), with its own labels, plus `up`.
METRICS = {
    "rpc_server_call_duration_seconds_bucket": RPC | {"le"},
    "rpc_server_call_duration_seconds_sum": RPC,
    "rpc_server_call_duration_seconds_count": RPC,
    "rpc_server_active_calls": {"rpc_service"},
    "db_client_connection_count": POOL | {"db_client_connection_state"},
    "db_client_connection_max": POOL,
    "rapport_storage_up": {"service"},
    "rapport_storage_refusing_writes": {"service", "reason"},
    "rapport_outbox_backlog_events": {"service"},
    "rapport_outbox_oldest_event_age_seconds": {"service"},
    "rapport_loyalty_follow_ups_overdue": {"service"},
    "rapport_plans_payment_plans": {"service", "state"},
    "up": set(),
}
SEVERITIES = {"critical", "warning", "info"}
REQUIRED_ANNOTATIONS = ("summary", "runbook_url")
DURATION = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")


def github_anchors(markdown):
    """The anchors GitHub gives the headings of a Markdown file (plus explicit <a id="...">)."""
    anchors, seen = set(), {}
    in_code = False
    for line in markdown.splitlines():
        if line.startswith("```"):
            in_code = not in_code
            continue
        if in_code:
            continue
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            text = re.sub(r"`|\*\*|__", "", match.group(1))
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            anchors.add(slug if count == 0 else f"{slug}-{count}")
        anchors.update(re.findall(r'<a\s+(?:id|name)="([^"]+)"', line))
    return anchors


def selectors(node):
    """Every vector selector in a parsed PromQL expression."""
    if isinstance(node, promql_parser.VectorSelector):
        yield node
    elif isinstance(node, promql_parser.MatrixSelector):
        yield node.vector_selector
    elif isinstance(node, promql_parser.BinaryExpr):
        yield from selectors(node.lhs)
        yield from selectors(node.rhs)
    elif isinstance(node, promql_parser.AggregateExpr):
        yield from selectors(node.expr)
        if node.param is not None:
            yield from selectors(node.param)
    elif isinstance(node, promql_parser.Call):
        for arg in node.args:
            yield from selectors(arg)
    elif isinstance(node, (promql_parser.ParenExpr, promql_parser.UnaryExpr, promql_parser.SubqueryExpr)):
        yield from selectors(node.expr)
    elif isinstance(node, (promql_parser.NumberLiteral, promql_parser.StringLiteral)):
        return
    else:
        raise TypeError(f"unexpected PromQL node {type(node).__name__}")


def check_expr(expr):
    problems = []
    try:
        parsed = promql_parser.parse(expr)
    except Exception as error:  # the parser raises ValueError with the position
        return [f"expr does not parse: {error}"]
    for selector in selectors(parsed):
        name = selector.name
        matchers = list(selector.matchers.matchers) if selector.matchers else []
        if name is None:
            names = [m.value for m in matchers if m.name == "__name__"]
            name = names[0] if names else None
        if name not in METRICS:
            problems.append(f"metric {name!r} is not one Rapport exports (or `up`)")
            continue
        for matcher in matchers:
            if matcher.name != "__name__" and matcher.name not in METRICS[name] | TARGET_LABELS:
                problems.append(f"{name} has no label {matcher.name!r}")
    return problems


def main(rules_path, runbook_path):
    with open(rules_path, encoding="utf-8") as f:
        document = yaml.safe_load(f)
    with open(runbook_path, encoding="utf-8") as f:
        anchors = github_anchors(f.read())

    failures, count, names = [], 0, set()
    groups = (document or {}).get("groups")
    if not isinstance(groups, list) or not groups:
        failures.append(f"{rules_path}: no `groups`")
        groups = []
    for group in groups:
        if not group.get("name") or not isinstance(group.get("rules"), list):
            failures.append(f"{rules_path}: a group without a name or rules: {group!r}")
            continue
        for rule in group["rules"]:
            count += 1
            alert = rule.get("alert")
            where = f"{group['name']}/{alert or '(no alert name)'}"
            problems = []
            if "record" in rule:
                problems.append("recording rules do not belong in the alerts file")
            if not alert:
                problems.append("no `alert`")
            elif alert in names:
                problems.append("alert name used twice")
            names.add(alert)
            if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
                problems.append("no `expr`")
            else:
                problems += check_expr(rule["expr"])
            if not DURATION.match(str(rule.get("for", ""))):
                problems.append(f"`for` missing or not a duration: {rule.get('for')!r}")
            severity = (rule.get("labels") or {}).get("severity")
            if severity not in SEVERITIES:
                problems.append(f"labels.severity must be one of {sorted(SEVERITIES)}, not {severity!r}")
            annotations = rule.get("annotations") or {}
            for key in REQUIRED_ANNOTATIONS:
                if not annotations.get(key):
                    problems.append(f"no annotations.{key}")
            url = annotations.get("runbook_url", "")
            if url:
                if not re.match(r"^https?://\S+/RUNBOOK\.md#\S+$", url):
                    problems.append(f"runbook_url is not a link to RUNBOOK.md#anchor: {url}")
                else:
                    anchor = url.rsplit("#", 1)[1]
                    if anchor not in anchors:
                        problems.append(f"runbook_url anchor #{anchor} is not a heading of {runbook_path}")
            unknown = set(rule) - {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
            if unknown:
                problems.append(f"unknown keys {sorted(unknown)}")
            failures += [f"{where}: {p}" for p in problems]
            if not problems:
                print(f"  ok   {where}")

    for failure in failures:
        print(f"  FAIL {failure}")
    print(f"  {count} alerting rules, {len(failures)} problems")
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
