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
import { EXPORTS } from './schema.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
// Where `cargo build` leaves the component; `datasette-litestream component --out FILE`
// writes the same bytes from a released binary.
export const DEFAULT_WASM = join(ROOT, 'target', 'wasm-components', 'wasm32-wasip2', 'guest', 'datasette_litestream_rules.wasm');
export const GENERATED = join(HERE, 'generated');

export function defaultWasm() {
  return process.env.DATASETTE_LITESTREAM_WASM || DEFAULT_WASM;
}

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
