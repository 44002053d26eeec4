#!/usr/bin/env python3
"""Rapport's own rules for its deployment files, beyond what the schemas can say.

Usage: rapport.py compose deploy/compose.yaml
       rapport.py k8s RENDERED.yaml     (the output of `kubectl kustomize`)

- Each service gets only the configuration keys it has: a service rejects an unknown key at
  start, so profiles must not get RAPPORT_PROFILES_URL, nor loyalty RAPPORT_LOYALTY_URL, nor desk
  any RAPPORT_STORAGE__ key (it has no database).
- The URLs between services follow the call graph, and every service that calls another has its URL
  (desk's four are RAPPORT_DESK__<SERVICE>_URL).
- desk is stateless: no migrate init container, no database Secret or CA, no storage keys, no
  PostgreSQL egress, and no service token of its own (it calls as its caller).
- Every Deployment (and every compose service that runs `rapport serve`) is one these rules know,
  so a new service cannot arrive unchecked; the compose stack's collector scrapes every service's
  admin port.
- Kubernetes: native gRPC probes on the admin port, the hardened security context, a grace period
  longer than the server's, resources, no insecure serving, HTTPS between services when TLS is on,
  the Secrets and ConfigMaps referenced either rendered or on the documented list, and
  NetworkPolicies that allow exactly the calls of the call graph.
"""

import re
import os
import sys

import yaml

# The services with a database, and desk: stateless, in front of the four.
STATEFUL = ("profiles", "plans", "referrals", "loyalty")
SERVICES = STATEFUL + ("desk",)
# Who calls whom over gRPC (reads, and outbox delivery: events to loyalty, good standing from
# plans to referrals, merges and erasures from profiles to plans and referrals, follow-ups to
# profiles).
CALLS = {
    "profiles": {"loyalty", "plans", "referrals"},
    "plans": {"profiles", "loyalty", "referrals"},
    "referrals": {"profiles", "loyalty"},
    "loyalty": {"profiles"},
    # the agent's overview: every section from its owner, as the caller
    "desk": {"profiles", "plans", "referrals", "loyalty"},
}
CALLERS = {s: {c for c in SERVICES if s in CALLS[c]} for s in SERVICES}
URL_KEYS = {"profiles": "RAPPORT_PROFILES_URL", "loyalty": "RAPPORT_LOYALTY_URL",
            "referrals": "RAPPORT_REFERRALS_URL", "plans": "RAPPORT_PLANS_URL"}
# Top-level sections each service has (`__` nests below them).
SECTIONS = {s: ("SERVER", "STORAGE", "TELEMETRY", "CLIENT") for s in STATEFUL} | {
    "desk": ("SERVER", "TELEMETRY", "CLIENT")}
RULES = {"plans", "referrals", "loyalty"}
# desk's own table (services/desk/src/settings.rs): its upstreams, the deadline budget and the
# agents' browser console.
DESK_KEYS = {"DESK__BUDGET_MS", "DESK__CONSOLE_LISTEN"}
# Objects the overlays reference but do not create (deploy/RUNBOOK.md lists them). desk has a
# certificate but no token.
EXTERNAL = {"rapport-postgres", "rapport-postgres-ca", "rapport-ca", "rapport-jwks"} | {
    f"rapport-{s}-tls" for s in SERVICES} | {f"rapport-{s}-token" for s in STATEFUL}
# What a service without a database must never reference.
DATABASE_REFS = {"rapport-postgres", "rapport-postgres-ca"}
GRPC_PORT, ADMIN_PORT, POSTGRES_PORT = 50051, 9464, 5432
# desk also serves the agents' browser console (desk.console_listen).
CONSOLE_PORT = 8080


def url_key(service, callee):
    """The key holding the URL `service` calls `callee` at."""
    if service == "desk":
        return f"RAPPORT_DESK__{callee.upper()}_URL"
    return URL_KEYS[callee]


def allowed_key(service, key):
    if not key.startswith("RAPPORT_"):
        return key.startswith("OTEL_") or key == "RUST_LOG"
    rest = key[len("RAPPORT_"):]
    if key in (url_key(service, c) for c in CALLS[service]):
        return False  # handled by the caller as a URL key
    section = rest.split("__", 1)[0]
    if "__" in rest and (section in SECTIONS[service] or (section == "RULES" and service in RULES)):
        return True
    return service == "desk" and rest in DESK_KEYS


def check_env(service, env, where):
    """env: key -> value as the container sees it."""
    problems = []
    for key in sorted(env):
        if key in (url_key(service, c) for c in CALLS[service]):
            continue
        if not allowed_key(service, key):
            problems.append(f"{where}: {service} has no setting {key} (it would refuse to start)")
    for callee in sorted(CALLS[service]):
        key = url_key(service, callee)
        url = env.get(key)
        if not url:
            problems.append(f"{where}: {key} is not set ({service} calls {callee})")
        elif not re.match(rf"^https?://{callee}(\.[a-z0-9.-]+)?:{GRPC_PORT}/?$", url):
            problems.append(f"{where}: {key}={url} does not point at {callee}:{GRPC_PORT}")
    if str(env.get("RAPPORT_SERVER__ADMIN_LISTEN", "")).rsplit(":", 1)[-1] != str(ADMIN_PORT):
        problems.append(f"{where}: RAPPORT_SERVER__ADMIN_LISTEN is not on port {ADMIN_PORT}")
    return problems


def check_compose(path):
    with open(path, encoding="utf-8") as f:
        compose = yaml.safe_load(f)
    services = compose.get("services") or {}
    problems = []
    for name in SERVICES:
        svc = services.get(name)
        if not svc:
            problems.append(f"service {name} is missing")
            continue
        if svc.get("command") != ["serve", name]:
            problems.append(f"{name}: command is not [serve, {name}]")
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        problems += check_env(name, env, f"compose {name}")
        if name in STATEFUL and "RAPPORT_STORAGE__URL" not in env:
            problems.append(f"compose {name}: RAPPORT_STORAGE__URL is not set")
        ports = [str(p) for p in svc.get("ports") or []]
        if not any(p.endswith(f":{GRPC_PORT}") for p in ports) or not any(p.endswith(f":{ADMIN_PORT}") for p in ports):
            problems.append(f"{name}: publishes no gRPC or no admin port")
    for name, svc in services.items():
        command = svc.get("command") or []
        if command[:1] == ["serve"] and name not in SERVICES:
            problems.append(f"{name}: runs `rapport serve` but these rules do not know it (add it to SERVICES)")
        depends = svc.get("depends_on") or {}
        for target, condition in (depends.items() if isinstance(depends, dict) else ((d, {}) for d in depends)):
            if target not in services:
                problems.append(f"{name}: depends on unknown service {target}")
            elif (condition or {}).get("condition") == "service_healthy" and "healthcheck" not in services[target]:
                problems.append(f"{name}: waits for {target} to be healthy, which has no healthcheck")
    problems += check_scraped(path, services)
    print(f"  compose: {len(services)} services; rapport services' keys, URLs, ports, depends_on and scraping checked")
    return problems


def check_scraped(path, services):
    """The collector the stack runs (its config file as mounted) scrapes every service's admin port."""
    collector = services.get("otel-collector") or {}
    configs = [v.split(":", 1)[0] for v in collector.get("volumes") or []
               if isinstance(v, str) and v.split(":")[1:2] and v.split(":")[1].endswith("config.yaml")]
    if len(configs) != 1:
        return ["otel-collector: no single mounted config.yaml to check the scrape targets in"]
    config_path = os.path.join(os.path.dirname(os.path.abspath(path)), configs[0])
    with open(config_path, encoding="utf-8") as f:
        config = yaml.safe_load(f) or {}
    targets = set()
    scrapes = ((((config.get("receivers") or {}).get("prometheus") or {}).get("config") or {})
               .get("scrape_configs") or [])
    for scrape in scrapes:
        for static in scrape.get("static_configs") or []:
            targets.update(static.get("targets") or [])
    return [f"otel-collector: {configs[0]} does not scrape {name}:{ADMIN_PORT}"
            for name in SERVICES if name in services and f"{name}:{ADMIN_PORT}" not in targets]


def labels_match(selector, labels):
    return all(labels.get(k) == v for k, v in (selector or {}).items())


def check_k8s(path):
    with open(path, encoding="utf-8") as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    by_kind = {}
    for d in docs:
        by_kind.setdefault(d["kind"], {})[d["metadata"]["name"]] = d
    configmaps = by_kind.get("ConfigMap", {})
    rendered = set(configmaps) | set(by_kind.get("Secret", {}))
    problems = []

    referenced = {}

    def ref(name, where):
        referenced.setdefault(where.split(" ", 1)[0], set()).add(name)
        if name not in rendered and name not in EXTERNAL:
            problems.append(f"{where}: references {name}, neither rendered nor on the documented list")

    deployments = by_kind.get("Deployment", {})
    for name in sorted(set(deployments) - set(SERVICES)):
        problems.append(f"Deployment {name} is not a service these rules know (add it to SERVICES)")
    for service in SERVICES:
        d = deployments.get(service)
        if not d:
            problems.append(f"Deployment {service} is missing")
            continue
        where = f"Deployment/{service}"
        pod = d["spec"]["template"]["spec"]
        template_labels = d["spec"]["template"]["metadata"].get("labels", {})
        if not labels_match(d["spec"]["selector"]["matchLabels"], template_labels):
            problems.append(f"{where}: selector does not match the pod template")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: automountServiceAccountToken is not false")
        if pod.get("enableServiceLinks") is not False:
            problems.append(f"{where}: enableServiceLinks is not false")
        psc = pod.get("securityContext") or {}
        if not (psc.get("runAsNonRoot") and psc.get("runAsUser") == 65532
                and (psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault"):
            problems.append(f"{where}: pod securityContext is not non-root 65532 with RuntimeDefault seccomp")
        volumes = {v["name"]: v for v in pod.get("volumes") or []}
        for v in volumes.values():
            if "secret" in v:
                ref(v["secret"]["secretName"], where)
            if "configMap" in v:
                ref(v["configMap"]["name"], where)
            for source in (v.get("projected") or {}).get("sources") or []:
                for kind in ("secret", "configMap"):
                    if kind in source:
                        ref(source[kind]["name"], where)
        main = [c for c in pod["containers"] if c["name"] == "rapport"]
        if len(main) != 1:
            problems.append(f"{where}: no container named rapport")
            continue
        main = main[0]
        containers = pod["containers"] + (pod.get("initContainers") or [])
        if main.get("args") != ["serve", service]:
            problems.append(f"{where}: args are not [serve, {service}]")
        migrate = [c for c in pod.get("initContainers") or [] if c.get("args") == ["migrate", service]]
        if service in STATEFUL and not migrate:
            problems.append(f"{where}: no init container running `rapport migrate {service}`")
        if service not in STATEFUL and pod.get("initContainers"):
            problems.append(f"{where}: has init containers, but {service} has no database to migrate")
        ports = {p["containerPort"]: p.get("name") for p in main.get("ports") or []}
        if ports.get(GRPC_PORT) != "grpc" or ports.get(ADMIN_PORT) != "admin":
            problems.append(f"{where}: ports are not grpc {GRPC_PORT} and admin {ADMIN_PORT}")
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            grpc = (main.get(probe) or {}).get("grpc") or {}
            if grpc.get("port") != ADMIN_PORT or grpc.get("service", "") != "":
                problems.append(f"{where}: {probe} is not a gRPC probe of the whole server on {ADMIN_PORT}")
        startup = main.get("startupProbe") or {}
        if service in STATEFUL and startup.get("periodSeconds", 10) * startup.get("failureThreshold", 3) < 120:
            problems.append(f"{where}: startupProbe allows less than 2 minutes for migrations")

        for c in containers:
            cw = f"{where} container {c['name']}"
            sc = c.get("securityContext") or {}
            if not (sc.get("allowPrivilegeEscalation") is False and sc.get("readOnlyRootFilesystem") is True
                    and "ALL" in ((sc.get("capabilities") or {}).get("drop") or [])):
                problems.append(f"{cw}: securityContext is not hardened")
            res = c.get("resources") or {}
            for kind in ("requests", "limits"):
                if not {"cpu", "memory"} <= set(res.get(kind) or {}):
                    problems.append(f"{cw}: resources.{kind} lacks cpu or memory")
            env = {}
            for source in c.get("envFrom") or []:
                if "configMapRef" in source:
                    name = source["configMapRef"]["name"]
                    if name not in configmaps:
                        problems.append(f"{cw}: envFrom ConfigMap {name} is not rendered")
                    env.update((configmaps.get(name) or {}).get("data") or {})
                else:
                    problems.append(f"{cw}: envFrom other than a ConfigMap")
            for e in c.get("env") or []:
                env[e["name"]] = e.get("value", "<from a reference>")
                key_ref = (e.get("valueFrom") or {})
                for kind in ("secretKeyRef", "configMapKeyRef"):
                    if kind in key_ref:
                        ref(key_ref[kind]["name"], cw)
            problems += check_env(service, env, cw)
            if service in STATEFUL and "RAPPORT_STORAGE__URL" not in env:
                problems.append(f"{cw}: RAPPORT_STORAGE__URL is not set")
            if service not in STATEFUL and "RAPPORT_CLIENT__TOKEN_FILE" in env:
                problems.append(f"{cw}: {service} calls as its caller, with the caller's token: "
                                "RAPPORT_CLIENT__TOKEN_FILE would replace it with a service token")
            if str(env.get("RAPPORT_SERVER__INSECURE", "false")).lower() == "true":
                problems.append(f"{cw}: server.insecure is on in a cluster manifest")
            if c is main:
                grace = int(env.get("RAPPORT_SERVER__SHUTDOWN_GRACE_MS", 30000)) / 1000
                pre_stop = (((main.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0)
                if pod.get("terminationGracePeriodSeconds", 30) <= grace + pre_stop:
                    problems.append(f"{where}: terminationGracePeriodSeconds must exceed preStop + "
                                    f"server.shutdown_grace_ms ({pre_stop + grace:g} s)")
                tls = "RAPPORT_SERVER__TLS__CERTIFICATE_FILE" in env
                for callee in CALLS[service]:
                    url = env.get(url_key(service, callee), "")
                    if tls and not url.startswith("https://"):
                        problems.append(f"{where}: TLS is on but {url_key(service, callee)} is {url}")
                    if url.startswith("https://") and "RAPPORT_CLIENT__CA_FILE" not in env:
                        problems.append(f"{where}: https URLs without RAPPORT_CLIENT__CA_FILE")
                if tls and env.get("RAPPORT_SERVER__AUTH__MODE") != "jwt":
                    problems.append(f"{where}: TLS without server.auth.mode = jwt")
                mounts = [m["mountPath"].rstrip("/") + "/" for m in main.get("volumeMounts") or []]
                for key, value in env.items():
                    if key.endswith("_FILE") and not any(value.startswith(m) for m in mounts):
                        problems.append(f"{where}: {key}={value} is not under a mounted volume")

        if service not in STATEFUL:
            forbidden = referenced.get(where, set()) & (DATABASE_REFS | {f"rapport-{service}-token"})
            if forbidden:
                problems.append(f"{where}: {service} has no database and no token of its own, "
                                f"yet mounts {sorted(forbidden)}")

        svc = by_kind.get("Service", {}).get(service)
        if not svc:
            problems.append(f"Service {service} is missing")
        else:
            if not labels_match(svc["spec"]["selector"], template_labels):
                problems.append(f"Service/{service}: selector does not match the pods")
            expected = {GRPC_PORT, ADMIN_PORT} | ({CONSOLE_PORT} if service == "desk" else set())
            if {p["port"] for p in svc["spec"]["ports"]} != expected:
                problems.append(f"Service/{service}: ports are not {sorted(expected)}")
        sa = by_kind.get("ServiceAccount", {}).get(pod.get("serviceAccountName"))
        if not sa or sa.get("automountServiceAccountToken") is not False:
            problems.append(f"{where}: its ServiceAccount is missing or mounts a token")
        pdb = by_kind.get("PodDisruptionBudget", {}).get(service)
        if not pdb or not labels_match(pdb["spec"]["selector"]["matchLabels"], template_labels):
            problems.append(f"PodDisruptionBudget {service} is missing or selects other pods")
        hpa = by_kind.get("HorizontalPodAutoscaler", {}).get(service)
        if not hpa or hpa["spec"]["scaleTargetRef"].get("name") != service:
            problems.append(f"HorizontalPodAutoscaler {service} is missing or scales something else")
        elif "replicas" in d["spec"]:
            problems.append(f"{where}: sets replicas although an HPA scales it")

        policy = by_kind.get("NetworkPolicy", {}).get(service)
        if not policy or not labels_match(policy["spec"]["podSelector"].get("matchLabels"), template_labels):
            problems.append(f"NetworkPolicy {service} is missing or selects other pods")
            continue

        def peers(rules, key):
            found = set()
            for rule in rules:
                ports = {p.get("port") for p in rule.get("ports") or []}
                for peer in rule.get(key) or []:
                    if "podSelector" in peer and "namespaceSelector" not in peer:
                        name = (peer["podSelector"].get("matchLabels") or {}).get("app.kubernetes.io/name")
                        if ports != {GRPC_PORT}:
                            problems.append(f"NetworkPolicy/{service}: rule for {name} is not on port {GRPC_PORT} only")
                        found.add(name)
            return found

        ingress = policy["spec"].get("ingress") or []
        egress = policy["spec"].get("egress") or []
        if peers(ingress, "from") != CALLERS[service]:
            problems.append(f"NetworkPolicy/{service}: ingress from {sorted(peers(ingress, 'from'))}, "
                            f"the call graph says {sorted(CALLERS[service])}")
        if peers(egress, "to") != CALLS[service]:
            problems.append(f"NetworkPolicy/{service}: egress to {sorted(peers(egress, 'to'))}, "
                            f"the call graph says {sorted(CALLS[service])}")
        egress_ports = {p.get("port") for r in egress for p in r.get("ports") or []}
        want_ports = {53, 4317, GRPC_PORT} | ({POSTGRES_PORT} if service in STATEFUL else set())
        if egress_ports != want_ports:
            problems.append(f"NetworkPolicy/{service}: egress ports {sorted(egress_ports)}, want {sorted(want_ports)}")
        if not any(labels_match({"rapport.io/client": "true"}, (p.get("podSelector") or {}).get("matchLabels") or {})
                   for r in ingress for p in r.get("from") or []):
            problems.append(f"NetworkPolicy/{service}: no ingress from rapport.io/client pods")
        if not any(p.get("port") == ADMIN_PORT for r in ingress for p in r.get("ports") or []):
            problems.append(f"NetworkPolicy/{service}: Prometheus cannot reach the admin port")

    deny = [p for p in by_kind.get("NetworkPolicy", {}).values()
            if p["spec"].get("podSelector") == {} and set(p["spec"].get("policyTypes") or []) == {"Ingress", "Egress"}
            and not p["spec"].get("ingress") and not p["spec"].get("egress")]
    if not deny:
        problems.append("no default-deny NetworkPolicy")
    namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
    if namespaces != {"rapport"}:
        problems.append(f"objects outside the namespace rapport: {sorted(map(str, namespaces))}")
    print(f"  {os.path.basename(path)}: {len(docs)} objects; deployments, probes, security, env keys, references "
          f"and network policies checked")
    return problems


def main(mode, path):
    problems = check_compose(path) if mode == "compose" else check_k8s(path)
    for problem in problems:
        print(f"  FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("compose", "k8s"):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
