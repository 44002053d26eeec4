#!/usr/bin/env python3
"""Rapport wire-conformance runner for the Python grpcio stack.

Learns the schema by gRPC reflection, runs the case files (../FORMAT.md) and the built-in wire
checks (coverage, undecodable and oversized requests, deadlines, unknown methods, health,
reflection v1 and v1alpha). Exits 1 on any failure. See ../README.md.
"""
import argparse
import datetime
import json
import math
import re
import secrets
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import FieldDescriptor
from google.protobuf.descriptor_pb2 import FileDescriptorProto
from google.rpc import error_details_pb2, status_pb2
from grpc_health.v1 import health_pb2
from google.api import field_behavior_pb2  # registers the extension for FileDescriptorProto parsing
from grpc_reflection.v1alpha import reflection_pb2
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)
from grpc_status import rpc_status

STACK = "python"
REFLECTION = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"]
HEALTH = "grpc.health.v1.Health"
AUDIT = "rapport.audit.v1.AuditService"
READ_RPC = "rapport.profiles.v1.ProfileService/GetCustomer"
WRITE_RPC = "rapport.profiles.v1.ProfileService/CreateCustomer"
SLOW_CALLS = [  # (rpc, proto3 JSON request) given a 1 ms deadline
    ("rapport.plans.v1.ReportingService/GetRecoveryReport",
     {"period": {"start": {"year": 2000, "month": 1, "day": 1},
                 "end": {"year": 2099, "month": 12, "day": 31}}, "currency_code": "EUR"}),
    ("rapport.profiles.v1.ProfileService/SearchCustomers", {"name": "stefan"}),
]
MIB = 1 << 20
CALL_TIMEOUT = 30.0
VARIABLE = re.compile(r"\$\{(?:(date):)?([A-Za-z_][A-Za-z0-9_]*)(?:([+-])(\d+)([dhm]))?\}")


class CaseError(Exception):
    """A case that cannot be run as written (unknown variable, method or field)."""


class Outcome:
    """What one call gave: code name, status message, response as proto3 JSON, violations."""

    def __init__(self, code, message="", response=None, violations=(), details_error=None):
        self.code, self.message, self.response = code, message, response
        self.violations, self.details_error = list(violations), details_error

    def describe(self):
        if self.code == "OK":
            return "OK"
        return f'{self.code} · "{self.message}" · violations [{", ".join(self.violations)}]'


class Pacer:
    """At most `rate` call starts a second (0: no limit): the secure server limits each caller
    (token subject) to 50 calls a second; a conforming client keeps under it rather than retry."""

    def __init__(self, rate):
        self.interval, self.next = (1.0 / rate if rate else 0.0), 0.0

    def __call__(self):
        now = time.monotonic()
        if now < self.next:
            time.sleep(self.next - now)
        self.next = max(now, self.next) + self.interval


class ReflectionStub:
    """The one method of ServerReflection at `service` (v1 or v1alpha: the messages are
    wire-identical, so grpcio-reflection's v1alpha classes serve both paths)."""

    def __init__(self, channel, service, metadata, pace):
        self._pace = pace
        self._call = channel.stream_stream(
            f"/{service}/ServerReflectionInfo",
            request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
            response_deserializer=reflection_pb2.ServerReflectionResponse.FromString)
        self._metadata = metadata

    def ServerReflectionInfo(self, requests):  # the name ProtoReflectionDescriptorDatabase calls
        self._pace()
        return self._call(requests, metadata=self._metadata, timeout=CALL_TIMEOUT)

    def ask(self, **request):
        return next(self.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(**request)])))


def field_bytes(number, payload):
    """A length-delimited field: tag (wire type 2), varint length, payload."""
    out, value = bytearray(), len(payload)
    for byte_value in (number << 3 | 2, value):
        while True:
            out.append((byte_value & 0x7F) | (0x80 if byte_value > 0x7F else 0))
            byte_value >>= 7
            if not byte_value:
                break
    return bytes(out) + payload


def first_string_field(desc, payload, depth=0):
    """Encoded bytes of `desc` with `payload` in its first string field, nested messages searched."""
    for field in desc.fields:
        if field.type == FieldDescriptor.TYPE_STRING:
            return field_bytes(field.number, payload)
    for field in desc.fields:
        if field.type == FieldDescriptor.TYPE_MESSAGE and depth < 3:
            inner = first_string_field(field.message_type, payload, depth + 1)
            if inner:
                return field_bytes(field.number, inner)
    return None


def lookup(value, path):
    """A dotted path (list indices as segments) into proto3 JSON; None where absent."""
    for segment in path.split("."):
        if isinstance(value, dict):
            value = value.get(segment)
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            return None
    return value


def number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value)) if math.isfinite(value) else None
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


def same(expected, got):
    """FORMAT.md's comparison: numbers and int64 strings by value, objects by their expected keys."""
    if isinstance(expected, dict):
        return isinstance(got, dict) and all(same(v, got.get(k)) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(got, list) and len(got) == len(expected) and all(map(same, expected, got))
    if isinstance(expected, bool) or isinstance(got, bool) or expected is None or got is None:
        return type(expected) is type(got) and expected == got
    if isinstance(expected, (int, float)) or isinstance(got, (int, float)):
        a, b = number(expected), number(got)
        if a is None or b is None:
            return False
        return a == b or abs(a - b) <= Decimal("1e-6") * max(abs(a), abs(b))
    return expected == got


class Runner:
    def __init__(self, args):
        self.args = args
        options = [("grpc.max_send_message_length", -1), ("grpc.max_receive_message_length", 64 * MIB)]
        self.metadata = []
        if args.transport == "secure":
            creds = grpc.ssl_channel_credentials(Path(args.ca).read_bytes(), Path(args.key).read_bytes(),
                                                 Path(args.cert).read_bytes())
            options += [("grpc.ssl_target_name_override", args.authority),
                        ("grpc.default_authority", args.authority)]
            self.channel = grpc.secure_channel(args.target, creds, options)
            if args.token:
                self.metadata = [("authorization", f"Bearer {args.token}")]
        else:
            self.channel = grpc.insecure_channel(args.target, options)
        self.vars = {"run": args.run or "py" + datetime.datetime.now().strftime("%H%M%S") + secrets.token_hex(3)}
        for item in args.var:
            name, _, value = item.partition("=")
            self.vars[name] = value
        self.failures, self.cases_passed, self.checks_passed = 0, 0, 0
        self.coverage = {}  # rpc path -> {"ok": bool, "refusal": bool}
        self.pace = Pacer(args.max_rate if args.max_rate is not None else 40 if args.transport == "secure" else 0)

    # ---- schema, by reflection ---------------------------------------------------------------
    def load_schema(self):
        database = ProtoReflectionDescriptorDatabase(self.channel)
        # grpcio-reflection's database speaks v1alpha; point it at v1, the current protocol
        # (the reflection check below covers both).
        database._stub = ReflectionStub(self.channel, REFLECTION[0], self.metadata, self.pace)
        self.pool = descriptor_pool.DescriptorPool(database)
        self.services = sorted(s for s in database.get_services() if s.startswith("rapport."))
        self.methods = {}
        for name in self.services:
            for method in self.pool.FindServiceByName(name).methods:
                self.methods[f"{name}/{method.name}"] = method
                self.coverage[f"{name}/{method.name}"] = {"ok": False, "refusal": False}

    def message(self, desc):
        return message_factory.GetMessageClass(desc)

    # ---- calls ---------------------------------------------------------------------------------
    def call_metadata(self, extra=None):
        """The runner's metadata, then the case's; a case's empty value removes that key."""
        merged = dict(self.metadata)
        merged.update(extra or {})
        return [(k.lower(), v) for k, v in merged.items() if v != ""]

    def invoke(self, path, request, response_class=None, timeout=CALL_TIMEOUT, metadata=None):
        """Call `path` with a message (or raw bytes) and return its Outcome."""
        method = self.channel.unary_unary(
            "/" + path,
            request_serializer=None if isinstance(request, bytes) else type(request).SerializeToString,
            response_deserializer=response_class.FromString if response_class else None)
        self.pace()
        try:
            response, _ = method.with_call(request, timeout=timeout, metadata=self.call_metadata(metadata))
        except grpc.RpcError as call:
            return self.refusal(call)
        if response_class is None:
            return Outcome("OK", response=response)
        return Outcome("OK", response=json_format.MessageToDict(
            response, preserving_proto_field_name=True, always_print_fields_with_no_presence=True,
            descriptor_pool=self.pool))

    def refusal(self, call):
        outcome = Outcome(call.code().name, call.details() or "")
        try:
            status = rpc_status.from_call(call)
        except ValueError as err:  # grpc-status-details-bin disagrees with grpc-status/-message
            outcome.details_error = f"grpc-status-details-bin: {err}"
            raw = dict(call.trailing_metadata() or ()).get("grpc-status-details-bin", b"")
            status = status_pb2.Status.FromString(raw)
        for detail in status.details if status else []:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                outcome.violations += [v.field for v in bad_request.field_violations]
        return outcome

    # ---- variables -----------------------------------------------------------------------------
    def value_of(self, match):
        date, name, sign, amount, unit = match.groups()
        now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
        if date and name != "today":
            raise CaseError(f"{match.group(0)}: date: takes today or today±Nd")
        if name in ("now", "today"):
            if sign:
                if name == "today" and unit != "d":
                    raise CaseError(f"{match.group(0)}: today moves by days only")
                delta = datetime.timedelta(**{{"d": "days", "h": "hours", "m": "minutes"}[unit]: int(amount)})
                now = now + delta if sign == "+" else now - delta
            if date:  # a rapport.common.v1.Date
                return {"year": now.year, "month": now.month, "day": now.day}
            return now.strftime("%Y-%m-%dT%H:%M:%SZ") if name == "now" else now.strftime("%Y-%m-%d")
        if sign:
            raise CaseError(f"{match.group(0)}: only now and today take an offset")
        if name not in self.vars:
            raise CaseError(f"variable ${{{name}}} is not set (not built in, or its saving case failed)")
        return self.vars[name]

    def substitute(self, value):
        if isinstance(value, dict):
            return {self.substitute(k): self.substitute(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.substitute(v) for v in value]
        if not isinstance(value, str):
            return value
        whole = VARIABLE.fullmatch(value)
        if whole:
            return self.value_of(whole)
        def text(match):
            found = self.value_of(match)
            return found if isinstance(found, str) else json.dumps(found, ensure_ascii=False, separators=(",", ":"))
        return VARIABLE.sub(text, value)

    # ---- reporting -----------------------------------------------------------------------------
    def fail(self, label, problems, rpc=None, expected=None, got=None):
        self.failures += 1
        print(f"FAIL {label}")
        for key, text in (("rpc", rpc), ("expected", expected), ("got", got)):
            if text:
                print(f"     {key:<9}{text}")
        for problem in problems:
            print(f"     - {problem}")

    def check(self, label, problems, **context):
        if problems:
            self.fail(f"[wire] {label}", problems, **context)
        else:
            self.checks_passed += 1
            self.passed(f"[wire] {label}", context.get("got"))

    def passed(self, label, got=None):
        if self.args.verbose:
            print(f"ok   {label}" + (f"  ({got})" if got else ""))

    # ---- case files ----------------------------------------------------------------------------
    def run_cases(self, directory):
        files = sorted(Path(directory).glob("*.json"))
        if not files:
            self.fail(f"[cases] {directory}", ["no case files"])
        for file in files:
            try:
                cases = json.loads(file.read_text(encoding="utf-8"))["cases"]
            except (ValueError, KeyError) as err:
                self.fail(f"[{file.name}]", [f"unreadable case file: {err}"])
                continue
            for case in cases:
                only = "secure_only" if self.args.transport == "plaintext" else "plaintext_only"
                if not case.get(only):
                    self.run_case(file.name, case)

    def run_case(self, file, case):
        label = f"[{file}] {case.get('name', '(unnamed case)')}"
        rpc = case.get("method", "")
        expect = case.get("expect", {})
        try:
            expect = self.substitute(expect)
            want = expect.get("code", "OK")
            problems = format_problems(want, expect)
            if rpc not in self.methods:
                raise CaseError(f"{rpc or 'method'}: not a method of the served rapport.* services")
            method = self.methods[rpc]
            request = self.message(method.input_type)()
            json_format.ParseDict(self.substitute(case.get("request", {})), request, descriptor_pool=self.pool)
            metadata = self.substitute(case.get("metadata", {}))
        except (CaseError, json_format.ParseError, TypeError, ValueError) as err:
            self.fail(label, [f"case cannot run: {err}"], rpc=rpc)
            return
        outcome = self.invoke(rpc, request, self.message(method.output_type), metadata=metadata)
        problems += compare(want, expect, outcome)
        if want == "OK" and outcome.code == "OK":
            for name, path in case.get("save", {}).items():
                value = lookup(outcome.response, path)
                if value is None:
                    problems.append(f"save {name}: {path} is not in the response")
                else:
                    self.vars[name] = value
        if problems:
            self.fail(label, problems, rpc=rpc, expected=describe_expectation(want, expect),
                      got=outcome.describe())
            return
        self.cases_passed += 1
        self.passed(label, outcome.describe())
        self.coverage[rpc]["ok" if want == "OK" else "refusal"] = True

    # ---- built-in wire checks ------------------------------------------------------------------
    def expect_code(self, label, rpc, request, want, **options):
        outcome = self.invoke(rpc, request, **options)
        problems = [] if outcome.code == want else [f"code: expected {want}"]
        self.check(label, problems + ([outcome.details_error] if outcome.details_error else []),
                   rpc=rpc, expected=want, got=outcome.describe())

    def check_undecodable_and_oversized(self):
        for rpc in (READ_RPC, WRITE_RPC):
            if rpc not in self.methods:
                self.check(f"undecodable and oversized requests to {rpc}", [f"{rpc} is not served"])
                continue
            desc = self.methods[rpc].input_type
            self.expect_code("invalid UTF-8 in a string field → INVALID_ARGUMENT", rpc,
                             first_string_field(desc, b"\xff\xfe"), "INVALID_ARGUMENT")
            self.expect_code("a truncated message (field 1 claims 10 bytes, 2 present) → INVALID_ARGUMENT", rpc,
                             b"\x0a\x0aab", "INVALID_ARGUMENT")
            self.expect_code("a 10 MiB string field → RESOURCE_EXHAUSTED", rpc,
                             first_string_field(desc, b"x" * (10 * MIB)), "RESOURCE_EXHAUSTED")

    def check_deadlines(self):
        """A valid request padded with a 3 MiB unknown field (skipped by any decoder) cannot complete
        in 1 ms on any machine, so whichever side's deadline fires first, the code must be
        DEADLINE_EXCEEDED (interop's timeout_on_sleeping_server, without a sleeping server).
        (grpcio drops a hand-set grpc-timeout header, so the Node runner alone checks the server's
        own answer to an expired grpc-timeout.)"""
        for rpc, request_json in SLOW_CALLS:
            if rpc not in self.methods:
                self.check(f"a 1 ms deadline on {rpc}", [f"{rpc} is not served"])
                continue
            request = json_format.ParseDict(request_json, self.message(self.methods[rpc].input_type)())
            body = request.SerializeToString() + field_bytes(1000, bytes(3 * MIB))
            self.expect_code("a 1 ms deadline → DEADLINE_EXCEEDED", rpc, body, "DEADLINE_EXCEEDED", timeout=0.001)

    def check_unimplemented(self):
        self.expect_code("unknown method of a known service → UNIMPLEMENTED", self.services[0] + "/NoSuchMethod",
                         b"", "UNIMPLEMENTED")
        self.expect_code("unknown service → UNIMPLEMENTED", "rapport.nosuch.v1.NoSuchService/NoSuchMethod",
                         b"", "UNIMPLEMENTED")

    def check_health(self):
        rpc = f"{HEALTH}/Check"
        serving = health_pb2.HealthCheckResponse.SERVING
        for name in sorted(set(self.services) | {AUDIT, ""}):
            outcome = self.invoke(rpc, health_pb2.HealthCheckRequest(service=name), health_pb2.HealthCheckResponse)
            status = (outcome.response or {}).get("status")
            self.check(f'health of "{name}" → SERVING',
                       [] if status == health_pb2.HealthCheckResponse.ServingStatus.Name(serving) else
                       [f"expected OK with status SERVING, got {outcome.describe()} status {status}"], rpc=rpc)
        self.expect_code("health of an unknown service → NOT_FOUND", rpc,
                         health_pb2.HealthCheckRequest(service="rapport.nosuch.v1.NoSuchService"), "NOT_FOUND")

    def check_reflection(self):
        expected = set(self.services) | {AUDIT, HEALTH, *REFLECTION}
        for service in REFLECTION:
            stub = ReflectionStub(self.channel, service, self.call_metadata(), self.pace)
            try:
                self.check(f"{service} lists and describes every service", reflection_problems(stub, expected),
                           rpc=f"{service}/ServerReflectionInfo")
            except grpc.RpcError as call:
                self.check(f"{service} lists and describes every service",
                           [f"call failed: {self.refusal(call).describe()}"], rpc=f"{service}/ServerReflectionInfo")

    def check_field_behavior(self):
        """The schema tells the truth (AIP-203): every field of every rapport message carries a
        google.api.field_behavior, and the fields the services require are marked REQUIRED."""
        label = "the schema marks every field with google.api.field_behavior (AIP-203)"
        stub = ReflectionStub(self.channel, REFLECTION[0], self.call_metadata(), self.pace)
        files, problems = {}, []
        for service in sorted(self.services):
            response = stub.ask(file_containing_symbol=service)
            for raw in response.file_descriptor_response.file_descriptor_proto:
                proto = FileDescriptorProto.FromString(raw)  # options parsed with the extension known
                if proto.package.startswith("rapport."):
                    files[proto.name] = proto
        behaviors = {}

        def walk(prefix, messages):
            for message in messages:
                name = f"{prefix}.{message.name}"
                walk(name, message.nested_type)
                if message.options.map_entry:
                    continue
                for field in message.field:
                    marks = list(field.options.Extensions[field_behavior_pb2.field_behavior])
                    behaviors[f"{name}.{field.name}"] = marks
                    if not marks:
                        problems.append(f"{name}.{field.name} has no field_behavior")

        for proto in files.values():
            walk(proto.package, proto.message_type)
        required = field_behavior_pb2.FieldBehavior.REQUIRED
        for field in ("rapport.profiles.v1.Customer.locale",
                      "rapport.plans.v1.SubmitIncomeExpenditureRequest.submitted_by",
                      "rapport.plans.v1.CheckContactRequest.requested_by"):
            if required not in behaviors.get(field, []):
                problems.append(f"{field} is required by the service but not marked REQUIRED")
        if not behaviors:
            problems.append("no rapport message found by reflection")
        self.check(label, problems, rpc=f"{REFLECTION[0]}/ServerReflectionInfo")

    def check_coverage(self):
        missing = []
        for rpc, seen in self.coverage.items():
            lacks = [kind for kind in ("OK", "refusal") if not seen["ok" if kind == "OK" else kind]]
            if lacks:
                missing.append(f"{rpc}: no passing {' and no '.join(lacks)} case")
        if missing:
            self.fail("[coverage] every RPC has an OK case and a refusal case that passed here", missing)


def reflection_problems(stub, expected):
    problems = []
    listing = stub.ask(list_services="")
    listed = {s.name for s in listing.list_services_response.service}
    problems += [f"list_services lacks {name}" for name in sorted(expected - listed)]
    fetched, wanted = set(), []
    for name in sorted(listed):
        response = stub.ask(file_containing_symbol=name)
        files = [FileDescriptorProto.FromString(b) for b in response.file_descriptor_response.file_descriptor_proto]
        declares = [f for f in files if any(f"{f.package}.{s.name}" == name for s in f.service)]
        if response.HasField("error_response") or not declares:
            problems.append(f"file_containing_symbol {name}: no file declaring it "
                            f"({response.error_response.error_message or 'none returned'})")
            continue
        fetched.add(declares[0].name)
        wanted += declares[0].dependency
    while wanted:  # every dependency resolves by file name, transitively
        name = wanted.pop()
        if name in fetched:
            continue
        fetched.add(name)
        response = stub.ask(file_by_filename=name)
        files = [FileDescriptorProto.FromString(b) for b in response.file_descriptor_response.file_descriptor_proto]
        match = [f for f in files if f.name == name]
        if response.HasField("error_response") or not match:
            problems.append(f"file_by_filename {name}: not found "
                            f"({response.error_response.error_message or 'no such file returned'})")
            continue
        wanted += match[0].dependency
    return problems


def format_problems(want, expect):
    """FORMAT.md's rules for a case's expectation itself."""
    if want == "OK":
        return []
    problems = []
    if "message_contains" not in expect and "message_equals" not in expect:
        problems.append("case file: a refusal case gives message_contains (or message_equals)")
    if want == "INVALID_ARGUMENT" and not expect.get("violations"):
        problems.append("case file: an INVALID_ARGUMENT case gives violations")
    return problems


def compare(want, expect, outcome):
    problems = []
    if outcome.code != want:
        problems.append(f"code: expected {want}, got {outcome.code}")
    elif want == "OK":
        for path, value in expect.get("response", {}).items():
            got = lookup(outcome.response, path)
            if not same(value, got):
                problems.append(f"response {path}: expected {json.dumps(value, ensure_ascii=False)}, "
                                f"got {json.dumps(got, ensure_ascii=False)}")
    else:
        if "message_contains" in expect and expect["message_contains"] not in outcome.message:
            problems.append(f'message: expected to contain "{expect["message_contains"]}"')
        if "message_equals" in expect and expect["message_equals"] != outcome.message:
            problems.append(f'message: expected exactly "{expect["message_equals"]}"')
        missing = [v for v in expect.get("violations", []) if v not in outcome.violations]
        if missing:
            problems.append(f"violations: missing [{', '.join(missing)}]")
    if outcome.details_error:
        problems.append(outcome.details_error)
    return problems


def describe_expectation(want, expect):
    if want == "OK":
        return "OK" + (f" · {len(expect.get('response', {}))} response fields" if expect.get("response") else "")
    parts = [want]
    if "message_contains" in expect:
        parts.append(f'message contains "{expect["message_contains"]}"')
    if "message_equals" in expect:
        parts.append(f'message is "{expect["message_equals"]}"')
    if expect.get("violations"):
        parts.append(f"violations [{', '.join(expect['violations'])}]")
    return " · ".join(parts)


def main():
    here = Path(__file__).resolve().parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--target", default="127.0.0.1:50051")
    parser.add_argument("--transport", choices=["plaintext", "secure"], default="plaintext")
    parser.add_argument("--cases", default=str(here.parent / "cases"))
    parser.add_argument("--ca")
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--token")
    parser.add_argument("--authority", default="localhost")
    parser.add_argument("--run", help="the ${run} value (default: unique per run)")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a variable for the cases")
    parser.add_argument("--max-rate", type=float, help="calls a second at most (default: 40 secure, no limit plaintext)")
    parser.add_argument("-v", "--verbose", action="store_true", help="print passing cases and checks too")
    args = parser.parse_args()
    if args.transport == "secure" and not (args.ca and args.cert and args.key):
        parser.error("--transport secure needs --ca, --cert and --key")

    runner = Runner(args)
    label = f"{STACK} {args.transport}"
    try:
        grpc.channel_ready_future(runner.channel).result(timeout=CALL_TIMEOUT)
        runner.load_schema()
    except (grpc.FutureTimeoutError, grpc.RpcError, KeyError, AssertionError) as err:
        print(f"FAIL [schema] cannot learn the schema by reflection from {args.target}: {err!r}")
        print(f"{label}: FAILED (no schema)")
        return 1
    started = time.monotonic()
    runner.run_cases(args.cases)
    runner.check_undecodable_and_oversized()
    runner.check_deadlines()
    runner.check_unimplemented()
    runner.check_health()
    runner.check_reflection()
    runner.check_field_behavior()
    runner.check_coverage()
    seen = runner.coverage.values()
    print(f"{label}: {len(runner.coverage)} RPCs, {sum(s['ok'] for s in seen)} with a success, "
          f"{sum(s['refusal'] for s in seen)} with a refusal, {runner.cases_passed} cases passed, "
          f"{runner.checks_passed} wire checks passed, {runner.failures} failures "
          f"({time.monotonic() - started:.1f} s)")
    return 1 if runner.failures else 0


if __name__ == "__main__":
    sys.exit(main())
