#!/usr/bin/env python3
"""Checks an OpenTelemetry Collector configuration without running the collector.

Usage: collector.py CONFIG.yaml

It parses; every component a pipeline (or service.extensions) names is defined, and every defined
one is used; each component type is in the allow-list below, all of which the contrib distribution
(otel/opentelemetry-collector-contrib, pinned in deploy/compose.yaml) has; every pipeline has
receivers and exporters, and memory_limiter, when present, is its first processor.
"""

import sys

import yaml

# Component types of otel/opentelemetry-collector-contrib (0.145) that this project may use.
# Connectors are listed under both receivers and exporters, as pipelines use them.
CONNECTORS = {"forward", "spanmetrics", "servicegraph", "count", "routing"}
ALLOWED = {
    "receivers": {"otlp", "prometheus", "hostmetrics", "filelog", "jaeger", "zipkin",
                  "kubeletstats", "k8s_cluster", "k8sobjects", "postgresql"} | CONNECTORS,
    "processors": {"memory_limiter", "batch", "attributes", "resource", "resourcedetection",
                   "k8sattributes", "filter", "transform", "tail_sampling",
                   "probabilistic_sampler", "redaction"},
    "exporters": {"otlp_grpc", "otlp", "otlp_http", "otlphttp", "debug", "prometheus",
                  "prometheusremotewrite", "file", "loadbalancing"} | CONNECTORS,
    "extensions": {"health_check", "pprof", "zpages", "file_storage", "bearertokenauth",
                   "basicauth", "oauth2client"},
}
SIGNALS = {"traces", "metrics", "logs"}


def component_type(component_id):
    return component_id.split("/", 1)[0]


def main(path):
    with open(path, encoding="utf-8") as f:
        config = yaml.safe_load(f)
    failures = []
    if not isinstance(config, dict):
        print(f"  FAIL {path}: not a mapping")
        return 1

    defined = {}
    for kind in ("receivers", "processors", "exporters", "extensions", "connectors"):
        section = config.get(kind) or {}
        if not isinstance(section, dict):
            failures.append(f"{kind}: not a mapping")
            section = {}
        defined[kind] = set(section)
    defined["receivers"] |= defined["connectors"]
    defined["exporters"] |= defined["connectors"]
    for kind, ids in defined.items():
        if kind == "connectors":
            continue
        for component_id in sorted(ids - defined["connectors"]):
            if component_type(component_id) not in ALLOWED[kind]:
                failures.append(f"{kind}.{component_id}: type {component_type(component_id)!r} is not in the allow-list")
    for component_id in sorted(defined["connectors"]):
        if component_type(component_id) not in CONNECTORS:
            failures.append(f"connectors.{component_id}: type is not in the allow-list")

    service = config.get("service") or {}
    pipelines = service.get("pipelines") or {}
    if not pipelines:
        failures.append("service.pipelines is empty")
    used = {kind: set() for kind in ("receivers", "processors", "exporters", "extensions")}
    for name, pipeline in pipelines.items():
        if component_type(name) not in SIGNALS:
            failures.append(f"pipeline {name}: signal must be one of {sorted(SIGNALS)}")
        pipeline = pipeline or {}
        unknown = set(pipeline) - {"receivers", "processors", "exporters"}
        if unknown:
            failures.append(f"pipeline {name}: unknown keys {sorted(unknown)}")
        for kind in ("receivers", "processors", "exporters"):
            ids = pipeline.get(kind) or []
            if kind != "processors" and not ids:
                failures.append(f"pipeline {name}: no {kind}")
            if len(ids) != len(set(ids)):
                failures.append(f"pipeline {name}: a {kind[:-1]} is listed twice")
            for component_id in ids:
                used[kind].add(component_id)
                if component_id not in defined[kind]:
                    failures.append(f"pipeline {name}: {kind[:-1]} {component_id!r} is not defined")
        processors = pipeline.get("processors") or []
        limiters = [p for p in processors if component_type(p) == "memory_limiter"]
        if limiters and component_type(processors[0]) != "memory_limiter":
            failures.append(f"pipeline {name}: memory_limiter must be the first processor")
        print(f"  pipeline {name}: {' + '.join(pipeline.get('receivers') or [])}"
              f" -> {' -> '.join(processors) or '(no processors)'}"
              f" -> {' + '.join(pipeline.get('exporters') or [])}")
    for component_id in service.get("extensions") or []:
        used["extensions"].add(component_id)
        if component_id not in defined["extensions"]:
            failures.append(f"service.extensions: {component_id!r} is not defined")

    connectors = defined["connectors"]
    for kind in ("receivers", "processors", "exporters", "extensions"):
        for component_id in sorted(defined[kind] - used[kind] - (connectors if kind != "processors" else set())):
            failures.append(f"{kind}.{component_id} is defined but no pipeline uses it")
    for component_id in sorted(connectors):
        if component_id not in used["exporters"] or component_id not in used["receivers"]:
            failures.append(f"connectors.{component_id} must be an exporter of one pipeline and a receiver of another")

    for failure in failures:
        print(f"  FAIL {failure}")
    counts = ", ".join(f"{len(defined[k] - (connectors if k in ('receivers', 'exporters') else set()))} {k}"
                       for k in ("receivers", "processors", "exporters", "extensions"))
    print(f"  {len(pipelines)} pipelines, {counts}: {len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1]))
