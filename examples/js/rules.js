// The datasette-litestream rules component, from Node, with nothing granted.
//
// The very `.wasm` the Rust host embeds (WIT: ../../wit/world.wit, package
// `datasette:litestream@0.3.0`) is transpiled by @bytecodealliance/jco into
// ./generated (core wasm + JS glue, never committed) with `--instantiation sync`, and
// instantiated here with the WASI stubs of ./deny-wasi.js: no environment, no
// arguments, no stdio, no filesystem, no network (see README.md).
//
// Values go in and come out as plain JSON-shaped values in the WIT's own terms, the
// same as the Python example's:
//
//   record          object keyed by the WIT field names (kebab-case: "access-key-id")
//   list            array
//   option<T>       null or the value
//   result<T, E>    {ok: value} or {err: value}
//   variant         {tag: "case"} or {tag: "case", val: payload}
//   enum            the case name ("v03")
//   flags           array of the names set, in declaration order
//   tuple           array
//
// (jco itself uses camelCase keys, `undefined` for none, and throws a ComponentError
// for an `err` result; the codecs below translate.)
//
//   import { loadRules } from './rules.js';
//   const rules = await loadRules();          // or loadRules({ wasm: 'rules.wasm' })
//   rules.check(request);                     // {ok: plan} or {err: [config-error, ...]}
//
// `node rules.js [WASM]` runs a short demonstration.

import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { denyAllWasi } from './deny-wasi.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
// Where `cargo build` leaves the component; `datasette-litestream component --out FILE`
// writes the same bytes from a released binary.
export const DEFAULT_WASM = join(ROOT, 'target', 'wasm-components', 'wasm32-wasip2', 'guest', 'guest.wasm');
export const GENERATED = join(HERE, 'generated');

export function defaultWasm() {
  return process.env.DATASETTE_LITESTREAM_WASM || DEFAULT_WASM;
}

// ---------------------------------------------------------------------------
// The WIT's types, as codecs between the JSON shapes above and jco's values.

const camel = (kebab) => kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

const string = {
  lower: (v) => {
    if (typeof v !== 'string') throw new TypeError(`expected a string, got ${JSON.stringify(v)}`);
    return v;
  },
  lift: (v) => v,
};
const bool = { lower: (v) => Boolean(v), lift: (v) => v };
const f64 = { lower: (v) => Number(v), lift: (v) => v };
const enumeration = string;
// jco passes u64 as BigInt; the JSON shape is a number (the values here fit).
const u64 = { lower: (v) => BigInt(v), lift: (v) => Number(v) };
const unit = { lower: () => undefined, lift: () => null };
const tuple = (...ts) => ({
  lower: (v) => ts.map((t, i) => t.lower(v[i])),
  lift: (v) => ts.map((t, i) => t.lift(v[i])),
});
// A result inside a record or a list (a top-level one is the export's {ok, err}).
const result = (ok, err) => ({
  lower: (v) => ('ok' in v ? { tag: 'ok', val: ok.lower(v.ok) } : { tag: 'err', val: err.lower(v.err) }),
  lift: (v) => (v.tag === 'ok' ? { ok: ok.lift(v.val) } : { err: err.lift(v.val) }),
});
const flags = (names) => ({
  lower: (v) => Object.fromEntries(names.map((n) => [camel(n), v.includes(n)])),
  lift: (v) => names.filter((n) => v[camel(n)]),
});
const list = (t) => ({ lower: (v) => v.map(t.lower), lift: (v) => Array.from(v, t.lift) });
const option = (t) => ({
  lower: (v) => (v === null || v === undefined ? undefined : t.lower(v)),
  lift: (v) => (v === null || v === undefined ? null : t.lift(v)),
});
const record = (fields) => {
  const entries = Object.entries(fields).map(([k, t]) => [k, camel(k), t]);
  return {
    lower: (v) => {
      const out = {};
      for (const [k, c, t] of entries) {
        if (!(k in v)) throw new TypeError(`missing record field ${JSON.stringify(k)}`);
        out[c] = t.lower(v[k]);
      }
      return out;
    },
    lift: (v) => {
      const out = {};
      for (const [k, c, t] of entries) out[k] = t.lift(v[c]);
      return out;
    },
  };
};
const variant = (cases) => ({
  lower: (v) => (cases[v.tag] ? { tag: v.tag, val: cases[v.tag].lower(v.val) } : { tag: v.tag }),
  lift: (v) => (cases[v.tag] ? { tag: v.tag, val: cases[v.tag].lift(v.val) } : { tag: v.tag }),
});

const T = {};
T.database = record({ name: string, path: string, directory: string, 'plugin-config': option(string) });
T.credentials = record({
  'access-key-id': string,
  'secret-access-key': string,
  'session-token': option(string),
});
T.request = record({
  'top-level': option(string),
  databases: list(T.database),
  'working-directory': string,
  'litestream-version': string,
  'control-socket': option(string),
});
T.credentialsSource = variant({ none: null, file: string, command: list(string) });
T.durableDatabase = record({ name: string, 'timeout-seconds': f64 });
T.plan = record({
  replicated: list(string),
  'start-litestream': bool,
  'credentials-source': T.credentialsSource,
  'refresh-interval-seconds': option(f64),
  'metrics-addr': option(string),
  line: enumeration,
  warnings: list(string),
  'first-sync-seconds': f64,
  'health-window-seconds': f64,
  'stop-grace-seconds': f64,
  durable: list(T.durableDatabase),
});
T.configError = record({ database: option(string), key: string, problem: string, hint: option(string) });
T.envVar = record({ name: string, value: string });
T.replicaCount = record({ path: string, replicas: f64 });
T.startupProof = variant({ 'control-socket': null, replicas: list(T.replicaCount) });
T.rendered = record({
  document: string,
  redacted: string,
  environment: list(T.envVar),
  secrets: list(string),
  startup: T.startupProof,
});
T.credentialsError = variant({ 'not-json': string, 'not-an-object': null, 'missing-key': string, 'wrong-type': string });
T.credentialsChange = record({
  changed: bool,
  fields: flags(['access-key-id', 'secret-access-key', 'session-token']),
});
T.operation = record({ 'replica-type': string, operation: string, value: f64 });
T.namedValue = record({ name: string, replica: option(string), status: option(string), value: f64 });
T.databaseMetrics = record({ database: string, values: list(T.namedValue) });
T.digest = record({
  goroutines: option(f64),
  threads: option(f64),
  'operation-bytes': list(T.operation),
  'operation-counts': list(T.operation),
  databases: list(T.databaseMetrics),
});
T.logEntry = record({ 'age-seconds': f64, text: string });
T.databaseEvidence = record({
  name: string,
  path: string,
  'file-exists': bool,
});
T.durabilityEvidence = record({
  name: string,
  waiting: f64,
  'longest-wait-seconds': f64,
  'timeout-seconds': f64,
  failing: option(string),
});
T.conflict = record({ name: string, reason: string });
T.healthInput = record({
  state: enumeration,
  'uptime-seconds': f64,
  databases: list(T.databaseEvidence),
  logs: list(T.logEntry),
  'window-seconds': f64,
  durability: list(T.durabilityEvidence),
  conflicts: list(T.conflict),
});
T.behind = record({ database: string, why: string });
T.verdict = record({ ok: bool, reason: string, behind: list(T.behind) });
T.target = record({ name: string, exists: bool });
T.decision = record({ database: string, step: variant({ restore: null, skip: string }) });
T.restoreOptions = record({ force: bool, 'only-missing': bool });
T.emptyReplicaVerdict = record({ outcome: enumeration, message: string });
T.followTarget = record({ name: string, path: string, replica: string });
T.followEvent = variant({ following: u64, applied: u64, failed: string, stopped: null, 'empty-replica': null, other: null });
T.followerMemory = record({
  'confirmed-at': option(f64),
  txid: option(u64),
  since: f64,
  listings: list(tuple(f64, u64)),
});
T.followerLook = record({
  name: string,
  now: f64,
  'listed-at': f64,
  replica: result(option(u64), string),
  follower: result(u64, string),
  memory: T.followerMemory,
  'stuck-after-seconds': f64,
});
T.followerReport = record({
  name: string,
  state: enumeration,
  'staleness-seconds': option(f64),
  'follower-txid': option(u64),
  'replica-txid': option(u64),
  'confirmed-at': option(f64),
  reason: string,
  'restore-again': bool,
  memory: T.followerMemory,
});
T.registration = record({ path: string, 'replica-url': string });
T.admission = record({ databases: list(T.database), plan: T.plan, refused: list(T.configError) });
T.change = variant({
  unchanged: null,
  start: null,
  stop: null,
  'in-place': record({ unregister: list(string), register: list(T.registration) }),
  restart: string,
});

// method: [interface, jco function, params, {returns} or {ok, err}]
const EXPORTS = {
  check: ['configuration', 'check', [T.request], { ok: T.plan, err: list(T.configError) }],
  render: ['configuration', 'render', [T.request, option(T.credentials)], { ok: T.rendered, err: list(T.configError) }],
  redact: ['configuration', 'redact', [string], { ok: string, err: string }],
  parseCredentials: ['configuration', 'parseCredentials', [string], { ok: T.credentials, err: T.credentialsError }],
  compareCredentials: ['configuration', 'compareCredentials', [T.credentials, T.credentials], { returns: T.credentialsChange }],
  digestMetrics: ['metrics', 'digestMetrics', [string, list(T.database)], { ok: T.digest, err: string }],
  assessHealth: ['health', 'assessHealth', [T.healthInput], { returns: T.verdict }],
  planRestore: ['restore', 'planRestore', [list(T.target), list(string), T.restoreOptions], { ok: list(T.decision), err: string }],
  emptyReplica: ['restore', 'emptyReplica', [string, bool], { returns: T.emptyReplicaVerdict }],
  planFollow: ['follow', 'planFollow', [T.request], { ok: list(T.followTarget), err: list(T.configError) }],
  followProgress: ['follow', 'followProgress', [string], { returns: T.followEvent }],
  replicaNewest: ['follow', 'replicaNewest', [string], { ok: option(u64), err: string }],
  parseSidecar: ['follow', 'parseSidecar', [string], { ok: u64, err: string }],
  judgeFollower: ['follow', 'judgeFollower', [T.followerLook], { returns: T.followerReport }],
  requireFresh: ['follow', 'requireFresh', [list(T.followerReport), f64, f64], { ok: unit, err: string }],
  admit: ['membership', 'admit', [T.request], { ok: T.admission, err: list(T.configError) }],
  planChange: ['membership', 'planChange', [enumeration, option(string), option(string)], { returns: T.change }],
  requireAdmitted: ['membership', 'requireAdmitted', [list(T.configError)], { ok: unit, err: string }],
};

// ---------------------------------------------------------------------------
// Transpiling and loading.

function sha256(path) {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** Transpiles WASM into OUT (default ./generated) with the project-local jco, unless
 * OUT already holds that very component. Returns OUT. */
export function transpile(wasm = defaultWasm(), out = GENERATED) {
  const digest = sha256(wasm);
  const stamp = join(out, 'SOURCE-SHA256');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) return out;
  const jco = join(HERE, 'node_modules', '@bytecodealliance', 'jco', 'dist', 'jco.js');
  if (!existsSync(jco)) throw new Error(`jco is not installed: run \`npm install\` in ${HERE}`);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // --instantiation sync: the glue imports nothing by itself (no preview2-shim); the
  // imports are whatever instantiate() is handed, here deny-wasi.js.
  execFileSync(process.execPath, [jco, 'transpile', wasm, '--name', 'rules', '--instantiation', 'sync', '--quiet', '-o', out], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(stamp, digest);
  return out;
}

/** Loads the component (transpiling it first when ./generated does not hold it). */
export async function loadRules({ wasm = defaultWasm(), generated } = {}) {
  const dir = generated ?? transpile(wasm);
  const glue = await import(pathToFileURL(join(dir, 'rules.js')).href);
  const modules = new Map();
  const getCoreModule = (name) => {
    if (!modules.has(name)) modules.set(name, new WebAssembly.Module(readFileSync(join(dir, name))));
    return modules.get(name);
  };
  return new Rules(() => glue.instantiate(getCoreModule, denyAllWasi()));
}

const isComponentError = (e) => e !== null && typeof e === 'object' && Object.hasOwn(e, 'payload') && !(e instanceof WebAssembly.RuntimeError);

export class Rules {
  constructor(instantiate) {
    this._instantiate = instantiate;
    this._exports = null;
    for (const [method, [iface, fn, params, result]] of Object.entries(EXPORTS)) {
      this[method] = (...args) => {
        if (this._exports === null) this._exports = this._instantiate();
        if (!this._exports[iface]?.[fn]) throw new Error(`this component does not export ${iface}.${fn}`);
        const raw = params.map((t, i) => t.lower(args[i]));
        let value;
        try {
          value = this._exports[iface][fn](...raw);
        } catch (e) {
          if (result.err && isComponentError(e)) return { err: result.err.lift(e.payload) };
          this._exports = null; // a trap poisons the instance: start afresh next time
          throw e;
        }
        return result.returns ? result.returns.lift(value) : { ok: result.ok.lift(value) };
      };
    }
  }
}

// ---------------------------------------------------------------------------
// Canonical JSON: the byte-exact form the cross-runtime tests compare.

const byCodePoint = (a, b) => {
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i] - y[i];
  return x.length - y.length;
};

/** Object keys sorted by code point, no whitespace, non-ASCII as is; a number that is
 * integral and below 1e15 in magnitude as an integer, any other finite number in its
 * shortest round-trip digits laid out as Rust's serde_json (ryu) does (`0.5`, `1e-7`,
 * `1e16`, `1000000000000000.0`), NaN and infinities as null. */
export function canonical(value) {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return number(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (typeof value === 'object') {
    const keys = Object.keys(value).sort(byCodePoint);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical(value[k])}`).join(',')}}`;
  }
  throw new TypeError(`not JSON: ${String(value)}`);
}

function number(f) {
  if (!Number.isFinite(f)) return 'null';
  if (Number.isInteger(f) && Math.abs(f) < 1e15) return String(f === 0 ? 0 : f);
  return (f < 0 ? '-' : '') + ryuLayout(String(Math.abs(f)));
}

/** Lays out the digits of a shortest round-trip string (JavaScript's or Python's) the
 * way ryu's `format64` does. */
function ryuLayout(shortest) {
  const [mantissa, exp = '0'] = shortest.split('e');
  const [whole, frac = ''] = mantissa.split('.');
  const full = whole + frac;
  const lead = full.length - full.replace(/^0+/, '').length;
  const digits = full.replace(/^0+/, '').replace(/0+$/, '');
  const kk = whole.length + parseInt(exp, 10) - lead; // 10^(kk-1) <= value < 10^kk
  const length = digits.length;
  const k = kk - length;
  if (k >= 0 && kk <= 16) return `${digits}${'0'.repeat(k)}.0`;
  if (kk > 0 && kk <= 16) return `${digits.slice(0, kk)}.${digits.slice(kk)}`;
  if (kk > -5 && kk <= 0) return `0.${'0'.repeat(-kk)}${digits}`;
  if (length === 1) return `${digits}e${kk - 1}`;
  return `${digits[0]}.${digits.slice(1)}e${kk - 1}`;
}

// ---------------------------------------------------------------------------

async function demo(wasm) {
  const rules = await loadRules({ wasm });
  const request = {
    'top-level': JSON.stringify({
      'all-replicate': ['s3://my-bucket/$DB_NAME'],
      'credentials-file': '/run/secrets/s3.json',
      'credentials-refresh-interval': 300,
    }),
    databases: [{ name: 'fixtures', path: '/srv/fixtures.db', directory: '/srv', 'plugin-config': null }],
    'working-directory': '/srv',
    'litestream-version': '0.5.17',
    'control-socket': '/run/dl/litestream.sock',
  };
  const creds = { 'access-key-id': 'AKIAEXAMPLE', 'secret-access-key': 's3cr3t/key', 'session-token': null };
  const show = (label, v) => console.log(`${label}: ${JSON.stringify(v, null, 2)}`);
  show('check', rules.check(request));
  const rendered = rules.render(request, creds);
  show('render', rendered);
  show('redact', rules.redact(rendered.ok.document));
  show('check (typo)', rules.check({ ...request, 'top-level': '{"all-replicat": []}' }));
  show('parse-credentials', rules.parseCredentials('{"access-key-id": "A", "secret-access-key": "B"}'));
  show('parse-credentials (bad)', rules.parseCredentials('{"access-key-id": "A"}'));
  show('compare-credentials', rules.compareCredentials(creds, { ...creds, 'secret-access-key': 'rotated' }));
  show(
    'digest-metrics',
    rules.digestMetrics('go_goroutines 12\nlitestream_db_size{db="/srv/fixtures.db"} 8192\n', request.databases),
  );
  show(
    'assess-health',
    rules.assessHealth({
      state: 'running',
      'uptime-seconds': 60,
      databases: [
        { name: 'fixtures', path: '/srv/fixtures.db', 'file-exists': true },
      ],
      logs: [],
      'window-seconds': 30,
      durability: [],
      conflicts: [],
    }),
  );
  show(
    'plan-restore',
    rules.planRestore(
      [{ name: 'fixtures', exists: false }, { name: 'other', exists: true }],
      [],
      { force: false, 'only-missing': true },
    ),
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await demo(process.argv[2] || defaultWasm());
}
