#!/usr/bin/env python3
"""Validates every object of rendered Kubernetes YAML against the JSON schemas of one Kubernetes
version, strictly (an unknown field is an error), offline (kubernetes-validate bundles them).

Usage: kubernetes.py VERSION FILE...

Unlike the `kubernetes-validate` command, a kind without a schema (a typo, or a CRD) fails
instead of warning.
"""

import collections
import os
import sys

import kubernetes_validate
import yaml


def main(version, paths):
    failures = 0
    for path in paths:
        kinds, invalid = collections.Counter(), 0
        with open(path, encoding="utf-8") as f:
            documents = [d for d in yaml.safe_load_all(f) if d is not None]
        if not documents:
            print(f"  FAIL {path}: no objects")
            invalid += 1
        for document in documents:
            name = f"{document.get('kind')}/{(document.get('metadata') or {}).get('name')}"
            try:
                kubernetes_validate.validate(document, version, strict=True)
                kinds[document["kind"]] += 1
            except kubernetes_validate.ValidationError as error:
                where = ".".join(str(p) for p in error.path) or "(top level)"
                print(f"  FAIL {os.path.basename(path)}: {name}: {where}: {error.message}")
                invalid += 1
            except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as error:
                print(f"  FAIL {os.path.basename(path)}: {name}: {error.message}")
                invalid += 1
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        print(f"  {os.path.basename(path)}: {sum(kinds.values())} of {len(documents)} objects valid against "
              f"Kubernetes {version} (strict): {summary}")
        failures += invalid
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2:]))
