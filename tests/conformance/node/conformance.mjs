#!/usr/bin/env node
// Rapport wire-conformance runner for the Node @grpc/grpc-js stack.
//
// Learns the schema from proto/ (built with buf into a descriptor set, read with protobuf-es),
// runs the case files (../FORMAT.md) and the built-in wire checks (coverage, undecodable and
// oversized requests, deadlines, unknown methods, health, reflection v1 and v1alpha).
// Exits 1 on any failure. See ../README.md.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { randomBytes } from "node:crypto";
import * as grpc from "@grpc/grpc-js";
import { create, createFileRegistry, fromBinary, fromJson, toBinary, toJson, ScalarType } from "@bufbuild/protobuf";
import { FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import { health, reflection, richStatus } from "./rich-status.mjs";

const STACK = "node";
const REFLECTION = ["grpc.reflection.v1.ServerReflection", "grpc.reflection.v1alpha.ServerReflection"];
const HEALTH = "grpc.health.v1.Health";
const AUDIT = "rapport.audit.v1.AuditService";
const READ_RPC = "rapport.profiles.v1.ProfileService/GetCustomer";
const WRITE_RPC = "rapport.profiles.v1.ProfileService/CreateCustomer";
const SLOW_CALLS = [ // [rpc, proto3 JSON request] given a 1 ms deadline (padded: see checkDeadlines)
  ["rapport.plans.v1.ReportingService/GetRecoveryReport",
    { period: { start: { year: 2000, month: 1, day: 1 }, end: { year: 2099, month: 12, day: 31 } }, currency_code: "EUR" }],
  ["rapport.profiles.v1.ProfileService/SearchCustomers", { name: "stefan" }],
];
const MIB = 1 << 20;
const CALL_TIMEOUT_MS = 30_000;
const VARIABLE = /\$\{(?:(date):)?([A-Za-z_][A-Za-z0-9_]*)(?:([+-])(\d+)([dhm]))?\}/g;
const SERVING = 1;

// ---- bytes on the wire ---------------------------------------------------------------------------
function fieldBytes(number, payload) { // a length-delimited field: tag (wire type 2), length, payload
  const varint = (v) => { const out = []; do { out.push((v & 0x7f) | (v > 0x7f ? 0x80 : 0)); v = Math.floor(v / 128); } while (v); return out; };
  return Buffer.concat([Buffer.from([...varint((number << 3) | 2), ...varint(payload.length)]), payload]);
}
function firstStringField(desc, payload, depth = 0) { // `desc` with `payload` in its first string field
  for (const f of desc.fields) if (f.fieldKind === "scalar" && f.scalar === ScalarType.STRING) return fieldBytes(f.number, payload);
  for (const f of desc.fields) {
    if (f.fieldKind === "message" && depth < 3) {
      const inner = firstStringField(f.message, payload, depth + 1);
      if (inner) return fieldBytes(f.number, inner);
    }
  }
  return null;
}

// ---- comparisons (FORMAT.md) ---------------------------------------------------------------------
function lookup(value, path) {
  for (const segment of path.split(".")) {
    if (Array.isArray(value) && /^\d+$/.test(segment)) value = value[Number(segment)];
    else if (value && typeof value === "object" && !Array.isArray(value)) value = value[segment];
    else return undefined;
  }
  return value;
}
const numeric = (v) => (typeof v === "number" && Number.isFinite(v)) || (typeof v === "string" && v.trim() !== "" && Number.isFinite(Number(v)));
function same(expected, got) {
  if (Array.isArray(expected)) return Array.isArray(got) && got.length === expected.length && expected.every((e, i) => same(e, got[i]));
  if (expected && typeof expected === "object") return !!got && typeof got === "object" && Object.entries(expected).every(([k, v]) => same(v, got[k]));
  if (expected === null || got === undefined || got === null || typeof expected === "boolean" || typeof got === "boolean") return expected === (got ?? null);
  if ((typeof expected === "number" || typeof got === "number") && numeric(expected) && numeric(got)) {
    const [a, b] = [String(expected), String(got)];
    if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) return BigInt(a) === BigInt(b);
    const [x, y] = [Number(a), Number(b)];
    return x === y || Math.abs(x - y) <= 1e-6 * Math.max(Math.abs(x), Math.abs(y));
  }
  return expected === got;
}
const show = (v) => (v === undefined ? "null" : JSON.stringify(v));
const list = (items) => `[${items.join(", ")}]`;

class Outcome {
  constructor(code, message = "", response = undefined, violations = [], detailsError = null) {
    Object.assign(this, { code, message, response, violations, detailsError });
  }
  describe() { return this.code === "OK" ? "OK" : `${this.code} · "${this.message}" · violations ${list(this.violations)}`; }
}
class CaseError extends Error {}

class Runner {
  constructor(args) {
    this.args = args;
    const options = { "grpc.max_send_message_length": -1, "grpc.max_receive_message_length": 64 * MIB };
    let credentials = grpc.credentials.createInsecure();
    this.metadata = {};
    if (args.transport === "secure") {
      credentials = grpc.credentials.createSsl(readFileSync(args.ca), readFileSync(args.key), readFileSync(args.cert));
      Object.assign(options, { "grpc.ssl_target_name_override": args.authority, "grpc.default_authority": args.authority });
      if (args.token) this.metadata.authorization = `Bearer ${args.token}`;
    }
    this.client = new grpc.Client(args.target, credentials, options);
    const stamp = new Date().toISOString().slice(11, 19).replaceAll(":", "");
    this.vars = { run: args.run ?? `js${stamp}${randomBytes(3).toString("hex")}` };
    for (const item of args.var ?? []) { const at = item.indexOf("="); this.vars[item.slice(0, at)] = item.slice(at + 1); }
    this.failures = 0; this.casesPassed = 0; this.checksPassed = 0;
    this.coverage = new Map(); // rpc path -> { ok, refusal }
    // At most this many call starts a second (0: no limit): the secure server limits each caller
    // (token subject) to 50 calls a second; a conforming client keeps under it rather than retry.
    const rate = Number(args["max-rate"] ?? (args.transport === "secure" ? 40 : 0));
    this.interval = rate > 0 ? 1000 / rate : 0; this.nextCall = 0;
  }

  // ---- schema, from proto/ built by buf ------------------------------------------------------------
  loadSchema() {
    if (this.args.schema) return this.useSchema(readFileSync(this.args.schema));
    const dir = mkdtempSync(join(tmpdir(), "rapport-conformance-"));
    try {
      const out = join(dir, "rapport.binpb");
      const buf = join(dirname(fileURLToPath(import.meta.url)), "node_modules", ".bin", "buf");
      execFileSync(buf, ["build", this.args.proto, "-o", out], { stdio: ["ignore", "inherit", "inherit"] });
      this.useSchema(readFileSync(out));
    } finally { rmSync(dir, { recursive: true, force: true }); }
  }

  useSchema(bytes) {
    this.registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, bytes));
    this.services = []; this.methods = new Map();
    for (const file of this.registry.files) {
      for (const service of file.services.filter((s) => s.typeName.startsWith("rapport."))) {
        this.services.push(service.typeName);
        for (const method of service.methods) {
          this.methods.set(`${service.typeName}/${method.name}`, method);
          this.coverage.set(`${service.typeName}/${method.name}`, { ok: false, refusal: false });
        }
      }
    }
    this.services.sort();
  }

  // ---- calls ---------------------------------------------------------------------------------------
  callMetadata(extra = {}) { // the runner's metadata, then the case's; a case's empty value removes the key
    const metadata = new grpc.Metadata();
    for (const [k, v] of Object.entries({ ...this.metadata, ...extra })) if (v !== "") metadata.set(k.toLowerCase(), String(v));
    return metadata;
  }

  async pace() {
    const now = performance.now();
    if (now < this.nextCall) await new Promise((done) => setTimeout(done, this.nextCall - now));
    this.nextCall = Math.max(now, this.nextCall) + this.interval;
  }

  // Call `path` with a message of `input` (or raw bytes when input is null); resolves to an Outcome.
  async invoke(path, request, { input = null, output = null, timeoutMs = CALL_TIMEOUT_MS, metadata } = {}) {
    await this.pace();
    const serialize = input ? (m) => Buffer.from(toBinary(input, m)) : (b) => b;
    const deserialize = output ? (b) => fromBinary(output, b) : (b) => b;
    return new Promise((done) => {
      this.client.makeUnaryRequest(`/${path}`, serialize, deserialize, request, this.callMetadata(metadata),
        { deadline: timeoutMs === null ? Infinity : Date.now() + timeoutMs }, (err, response) => {
          if (err) return done(this.refusal(err));
          done(new Outcome("OK", "", output
            ? toJson(output, response, { useProtoFieldName: true, alwaysEmitImplicit: true, registry: this.registry })
            : response));
        });
    });
  }

  refusal(err) {
    const outcome = new Outcome(grpc.status[err.code] ?? String(err.code), err.details ?? "");
    const { status, violations } = richStatus(err);
    outcome.violations = violations.map((v) => v.field);
    if (status && (status.code !== err.code || status.message !== outcome.message)) {
      outcome.detailsError = `grpc-status-details-bin: code ${status.code} and message "${status.message}" `
        + `disagree with grpc-status ${err.code} and grpc-message "${outcome.message}"`;
    }
    return outcome;
  }

  // ---- variables -----------------------------------------------------------------------------------
  valueOf(whole, date, name, sign, amount, unit) {
    if (date && name !== "today") throw new CaseError(`${whole}: date: takes today or today±Nd`);
    if (name === "now" || name === "today") {
      let at = Math.floor(Date.now() / 1000) * 1000;
      if (sign) {
        if (name === "today" && unit !== "d") throw new CaseError(`${whole}: today moves by days only`);
        at += (sign === "+" ? 1 : -1) * Number(amount) * { d: 86_400_000, h: 3_600_000, m: 60_000 }[unit];
      }
      const day = new Date(at);
      if (date) return { year: day.getUTCFullYear(), month: day.getUTCMonth() + 1, day: day.getUTCDate() }; // a rapport.common.v1.Date
      const iso = day.toISOString().replace(/\.\d{3}Z$/, "Z");
      return name === "now" ? iso : iso.slice(0, 10);
    }
    if (sign) throw new CaseError(`${whole}: only now and today take an offset`);
    if (!(name in this.vars)) throw new CaseError(`variable \${${name}} is not set (not built in, or its saving case failed)`);
    return this.vars[name];
  }
  substitute(value) {
    if (Array.isArray(value)) return value.map((v) => this.substitute(v));
    if (value && typeof value === "object") {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [this.substitute(k), this.substitute(v)]));
    }
    if (typeof value !== "string") return value;
    const whole = new RegExp(`^${VARIABLE.source}$`).exec(value);
    if (whole) return this.valueOf(...whole);
    return value.replace(VARIABLE, (...m) => { const v = this.valueOf(...m.slice(0, 6)); return typeof v === "string" ? v : JSON.stringify(v); });
  }

  // ---- reporting -----------------------------------------------------------------------------------
  fail(label, problems, { rpc: path, expected, got } = {}) {
    this.failures += 1;
    console.log(`FAIL ${label}`);
    for (const [key, text] of [["rpc", path], ["expected", expected], ["got", got]]) if (text) console.log(`     ${key.padEnd(9)}${text}`);
    for (const problem of problems) console.log(`     - ${problem}`);
  }
  check(label, problems, context = {}) {
    if (problems.length) return this.fail(`[wire] ${label}`, problems, context);
    this.checksPassed += 1;
    this.passed(`[wire] ${label}`, context.got);
  }
  passed(label, got) { if (this.args.verbose) console.log(`ok   ${label}${got ? `  (${got})` : ""}`); }

  // ---- case files ----------------------------------------------------------------------------------
  async runCases(directory) {
    const files = readdirSync(directory).filter((f) => f.endsWith(".json")).sort();
    if (!files.length) this.fail(`[cases] ${directory}`, ["no case files"]);
    const skip = this.args.transport === "plaintext" ? "secure_only" : "plaintext_only";
    for (const file of files) {
      let cases;
      try { cases = JSON.parse(readFileSync(join(directory, file), "utf8")).cases; if (!Array.isArray(cases)) throw new Error("no \"cases\" list"); }
      catch (err) { this.fail(`[${file}]`, [`unreadable case file: ${err.message}`]); continue; }
      for (const c of cases) if (!c[skip]) await this.runCase(file, c);
    }
  }

  async runCase(file, c) {
    const label = `[${file}] ${c.name ?? "(unnamed case)"}`;
    const path = c.method ?? "";
    let expect, want, problems, method, request, metadata;
    try {
      expect = this.substitute(c.expect ?? {});
      want = expect.code ?? "OK";
      problems = formatProblems(want, expect);
      method = this.methods.get(path);
      if (!method) throw new CaseError(`${path || "method"}: not a method of the rapport.* services in proto/`);
      request = fromJson(method.input, this.substitute(c.request ?? {}), { registry: this.registry });
      metadata = this.substitute(c.metadata ?? {});
    } catch (err) {
      return this.fail(label, [`case cannot run: ${err.message}`], { rpc: path });
    }
    const outcome = await this.invoke(path, request, { input: method.input, output: method.output, metadata });
    problems.push(...compare(want, expect, outcome));
    if (want === "OK" && outcome.code === "OK") {
      for (const [name, at] of Object.entries(c.save ?? {})) {
        const value = lookup(outcome.response, at);
        if (value === undefined || value === null) problems.push(`save ${name}: ${at} is not in the response`);
        else this.vars[name] = value;
      }
    }
    if (problems.length) return this.fail(label, problems, { rpc: path, expected: describeExpectation(want, expect), got: outcome.describe() });
    this.casesPassed += 1;
    this.passed(label, outcome.describe());
    this.coverage.get(path)[want === "OK" ? "ok" : "refusal"] = true;
  }

  // ---- built-in wire checks ------------------------------------------------------------------------
  async expectCode(label, path, request, want, options = {}) {
    const outcome = await this.invoke(path, request, options);
    const problems = [...(outcome.code === want ? [] : [`code: expected ${want}`]), ...(outcome.detailsError ? [outcome.detailsError] : [])];
    this.check(label, problems, { rpc: path, expected: want, got: outcome.describe() });
  }

  async checkUndecodableAndOversized() {
    for (const path of [READ_RPC, WRITE_RPC]) {
      const desc = this.methods.get(path)?.input;
      if (!desc) { this.check(`undecodable and oversized requests to ${path}`, [`${path} is not in proto/`]); continue; }
      await this.expectCode("invalid UTF-8 in a string field → INVALID_ARGUMENT", path,
        firstStringField(desc, Buffer.from([0xff, 0xfe])), "INVALID_ARGUMENT");
      await this.expectCode("a truncated message (field 1 claims 10 bytes, 2 present) → INVALID_ARGUMENT", path,
        Buffer.from([0x0a, 0x0a, 0x61, 0x62]), "INVALID_ARGUMENT");
      await this.expectCode("a 10 MiB string field → RESOURCE_EXHAUSTED", path,
        firstStringField(desc, Buffer.alloc(10 * MIB, "x")), "RESOURCE_EXHAUSTED");
    }
  }

  // A valid request padded with a 3 MiB unknown field (skipped by any decoder) cannot complete in
  // 1 ms on any machine, so whichever side's deadline fires first, the code must be DEADLINE_EXCEEDED.
  // The same request with no client deadline but a `grpc-timeout: 1m` header (grpc-js sends it as
  // given; grpcio drops it) makes the server's own answer the one the client sees.
  async checkDeadlines() {
    for (const [path, json] of SLOW_CALLS) {
      const method = this.methods.get(path);
      if (!method) { this.check(`a 1 ms deadline on ${path}`, [`${path} is not in proto/`]); continue; }
      const body = Buffer.concat([Buffer.from(toBinary(method.input, fromJson(method.input, json))), fieldBytes(1000, Buffer.alloc(3 * MIB))]);
      await this.expectCode("a 1 ms deadline → DEADLINE_EXCEEDED", path, body, "DEADLINE_EXCEEDED", { timeoutMs: 1 });
      await this.expectCode("grpc-timeout 1m and no client deadline: the server answers DEADLINE_EXCEEDED", path, body,
        "DEADLINE_EXCEEDED", { timeoutMs: null, metadata: { "grpc-timeout": "1m" } });
    }
  }

  async checkUnimplemented() {
    await this.expectCode("unknown method of a known service → UNIMPLEMENTED", `${this.services[0]}/NoSuchMethod`, Buffer.alloc(0), "UNIMPLEMENTED");
    await this.expectCode("unknown service → UNIMPLEMENTED", "rapport.nosuch.v1.NoSuchService/NoSuchMethod", Buffer.alloc(0), "UNIMPLEMENTED");
  }

  async checkHealth() {
    const path = `${HEALTH}/Check`;
    const io = { input: health.HealthCheckRequest, output: health.HealthCheckResponse };
    for (const name of [...new Set([...this.services, AUDIT, ""])].sort()) {
      const outcome = await this.invoke(path, create(health.HealthCheckRequest, { service: name }), io);
      const status = outcome.response?.status;
      this.check(`health of "${name}" → SERVING`, status === SERVING ? []
        : [`expected OK with status SERVING (1), got ${outcome.describe()} status ${status}`], { rpc: path });
    }
    await this.expectCode("health of an unknown service → NOT_FOUND", path,
      create(health.HealthCheckRequest, { service: "rapport.nosuch.v1.NoSuchService" }), "NOT_FOUND", io);
  }

  async checkReflection() {
    const expected = new Set([...this.services, AUDIT, HEALTH, ...REFLECTION]);
    for (const service of REFLECTION) {
      const path = `${service}/ServerReflectionInfo`;
      try {
        this.check(`${service} lists and describes every service`, await reflectionProblems((req) => this.ask(path, req), expected), { rpc: path });
      } catch (err) {
        this.check(`${service} lists and describes every service`, [`call failed: ${err.code !== undefined ? this.refusal(err).describe() : err.message}`], { rpc: path });
      }
    }
  }

  async ask(path, fields) { // one request on its own ServerReflectionInfo stream; resolves to the first response
    await this.pace();
    return new Promise((done, failed) => {
      const call = this.client.makeBidiStreamRequest(`/${path}`, (m) => Buffer.from(toBinary(reflection.ServerReflectionRequest, m)),
        (b) => fromBinary(reflection.ServerReflectionResponse, b), this.callMetadata(), { deadline: Date.now() + CALL_TIMEOUT_MS });
      let first;
      call.on("data", (response) => { first ??= response; });
      call.on("error", failed);
      call.on("end", () => (first ? done(first) : failed(new Error("the stream ended without a response"))));
      call.write(create(reflection.ServerReflectionRequest, fields));
      call.end();
    });
  }

  checkCoverage() {
    const missing = [];
    for (const [path, seen] of this.coverage) {
      const lacks = [...(seen.ok ? [] : ["OK"]), ...(seen.refusal ? [] : ["refusal"])];
      if (lacks.length) missing.push(`${path}: no passing ${lacks.join(" and no ")} case`);
    }
    if (missing.length) this.fail("[coverage] every RPC has an OK case and a refusal case that passed here", missing);
  }
}

async function reflectionProblems(ask, expected) {
  const problems = [];
  const listing = await ask({ listServices: "*" });
  const listed = new Set((listing.listServicesResponse?.service ?? []).map((s) => s.name));
  for (const name of [...expected].sort()) if (!listed.has(name)) problems.push(`list_services lacks ${name}`);
  const fetched = new Set(); const wanted = [];
  const files = (response) => (response.fileDescriptorResponse?.fileDescriptorProto ?? []).map((b) => fromBinary(FileDescriptorProtoSchema, b));
  const why = (response, fallback) => response.errorResponse?.errorMessage || fallback;
  for (const name of [...listed].sort()) {
    const response = await ask({ fileContainingSymbol: name });
    const declaring = files(response).find((f) => f.service.some((s) => `${f.package}.${s.name}` === name));
    if (!declaring) { problems.push(`file_containing_symbol ${name}: no file declaring it (${why(response, "none returned")})`); continue; }
    fetched.add(declaring.name); wanted.push(...declaring.dependency);
  }
  while (wanted.length) { // every dependency resolves by file name, transitively
    const name = wanted.pop();
    if (fetched.has(name)) continue;
    fetched.add(name);
    const response = await ask({ fileByFilename: name });
    const match = files(response).find((f) => f.name === name);
    if (!match) { problems.push(`file_by_filename ${name}: not found (${why(response, "no such file returned")})`); continue; }
    wanted.push(...match.dependency);
  }
  return problems;
}

function formatProblems(want, expect) { // FORMAT.md's rules for a case's expectation itself
  if (want === "OK") return [];
  const problems = [];
  if (!("message_contains" in expect) && !("message_equals" in expect)) problems.push("case file: a refusal case gives message_contains (or message_equals)");
  if (want === "INVALID_ARGUMENT" && !(expect.violations ?? []).length) problems.push("case file: an INVALID_ARGUMENT case gives violations");
  return problems;
}

function compare(want, expect, outcome) {
  const problems = [];
  if (outcome.code !== want) problems.push(`code: expected ${want}, got ${outcome.code}`);
  else if (want === "OK") {
    for (const [path, value] of Object.entries(expect.response ?? {})) {
      const got = lookup(outcome.response, path);
      if (!same(value, got)) problems.push(`response ${path}: expected ${show(value)}, got ${show(got)}`);
    }
  } else {
    if ("message_contains" in expect && !outcome.message.includes(expect.message_contains)) problems.push(`message: expected to contain "${expect.message_contains}"`);
    if ("message_equals" in expect && outcome.message !== expect.message_equals) problems.push(`message: expected exactly "${expect.message_equals}"`);
    const missing = (expect.violations ?? []).filter((v) => !outcome.violations.includes(v));
    if (missing.length) problems.push(`violations: missing ${list(missing)}`);
  }
  if (outcome.detailsError) problems.push(outcome.detailsError);
  return problems;
}

function describeExpectation(want, expect) {
  if (want === "OK") return `OK${Object.keys(expect.response ?? {}).length ? ` · ${Object.keys(expect.response).length} response fields` : ""}`;
  const parts = [want];
  if ("message_contains" in expect) parts.push(`message contains "${expect.message_contains}"`);
  if ("message_equals" in expect) parts.push(`message is "${expect.message_equals}"`);
  if ((expect.violations ?? []).length) parts.push(`violations ${list(expect.violations)}`);
  return parts.join(" · ");
}

async function main() {
  const here = dirname(fileURLToPath(import.meta.url));
  const { values: args } = parseArgs({
    options: {
      target: { type: "string", default: "127.0.0.1:50051" },
      transport: { type: "string", default: "plaintext" },
      cases: { type: "string", default: resolve(here, "..", "cases") },
      proto: { type: "string", default: resolve(here, "..", "..", "..", "proto") },
      ca: { type: "string" }, cert: { type: "string" }, key: { type: "string" }, token: { type: "string" },
      authority: { type: "string", default: "localhost" },
      run: { type: "string" },
      var: { type: "string", multiple: true },
      schema: { type: "string" }, // a descriptor set already built from proto/ (default: build one with buf)
      "max-rate": { type: "string" },
      verbose: { type: "boolean", short: "v", default: false },
    },
  });
  if (!["plaintext", "secure"].includes(args.transport)) throw new Error("--transport is plaintext or secure");
  if (args.transport === "secure" && !(args.ca && args.cert && args.key)) throw new Error("--transport secure needs --ca, --cert and --key");

  const runner = new Runner(args);
  const label = `${STACK} ${args.transport}`;
  try {
    runner.loadSchema();
    await new Promise((done, failed) => runner.client.waitForReady(Date.now() + CALL_TIMEOUT_MS, (err) => (err ? failed(err) : done())));
  } catch (err) {
    console.log(`FAIL [schema] cannot build proto/ or reach ${args.target}: ${err.message}`);
    console.log(`${label}: FAILED (no schema or no server)`);
    return 1;
  }
  const started = Date.now();
  await runner.runCases(args.cases);
  await runner.checkUndecodableAndOversized();
  await runner.checkDeadlines();
  await runner.checkUnimplemented();
  await runner.checkHealth();
  await runner.checkReflection();
  runner.checkCoverage();
  const seen = [...runner.coverage.values()];
  console.log(`${label}: ${runner.coverage.size} RPCs, ${seen.filter((s) => s.ok).length} with a success, `
    + `${seen.filter((s) => s.refusal).length} with a refusal, ${runner.casesPassed} cases passed, `
    + `${runner.checksPassed} wire checks passed, ${runner.failures} failures (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  runner.client.close();
  return runner.failures ? 1 : 0;
}

process.exitCode = await main();
