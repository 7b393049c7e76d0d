// Many calls on ONE instance of the rules component, with memory flat.
//
//   node --expose-gc reuse.js [--wasm FILE] [--calls N] [--max-rss-growth-mib M]
//
// `Rules` keeps one instance for every call (a fresh one only after a trap), so the
// guest must reclaim what each call allocated (guest/src/bump.rs). This makes N calls
// (default 100,000) on one instance, going round every export with small inputs, and
// measures the process RSS and the component's wasm linear memory after the first
// 1,000 calls and after the last. It fails (exit 1) if a call fails or traps, if the
// instance was replaced, if the linear memory grew at all, or if RSS grew by more than
// M MiB (default 10). Prints one line with the figures; examples/cross-runtime-test.sh
// runs it. (--expose-gc lets it collect JS garbage before measuring RSS.)

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { denyAllWasi } from './deny-wasi.js';
import { Rules, defaultWasm, transpile } from './rules.js';

const REQUEST = {
  'top-level': '{"all-replicate": ["s3://bucket/$DB_NAME"], "metrics-addr": ":9090"}',
  databases: [{ name: 'db0', path: '/srv/data/db0.db', directory: '/srv/data', 'plugin-config': null }],
  'working-directory': '/srv',
  'litestream-version': 'v0.3.13',
  'control-socket': null,
};
const CREDS = { 'access-key-id': 'AKIAEXAMPLE', 'secret-access-key': 's3cr3t/key', 'session-token': null };
const DOCUMENT = 'access-key-id: AKIAEXAMPLE\nsecret-access-key: s3cr3t/key\ndbs:\n  - path: /srv/data/db0.db\n';
const METRICS = 'go_goroutines 12\nlitestream_db_size{db="/srv/data/db0.db"} 8192\n';
const EVIDENCE = {
  name: 'db0',
  path: '/srv/data/db0.db',
  'file-exists': true,
};
const HEALTH = {
  state: 'running',
  'uptime-seconds': 60,
  databases: [EVIDENCE],
  logs: [{ 'age-seconds': 5, text: 'level=INFO msg=replicating' }],
  'window-seconds': 30,
  durability: [],
  conflicts: [],
};
const CREDS_JSON = '{"access-key-id": "A", "secret-access-key": "B"}';
const ROTATED = { ...CREDS, 'session-token': 't' };
const TARGETS = [{ name: 'db0', exists: false }];
// In jco's own terms (camelCase keys, undefined for none), for the calls below that
// go through its bindings directly.
const OUTPUT = ['level=INFO msg=replicating'];
const PROOF = { tag: 'replicas', val: [{ path: '/srv/data/db0.db', replicas: 1 }] };
const VERIFY = { restored: true, integrityOk: true, sentinelFound: true, timedOut: false, waitedSeconds: 1.5 };
const LAST = [{ database: 'db0', outcome: 'verified', ageSeconds: 10 }];

// Every export, each with an input it answers without error; `good` tells a good answer.
const CALLS = [
  ['render', (r) => r.render(REQUEST, CREDS), (a) => 'ok' in a],
  ['check', (r) => r.check(REQUEST), (a) => 'ok' in a],
  ['redact', (r) => r.redact(DOCUMENT), (a) => 'ok' in a],
  ['parse-credentials', (r) => r.parseCredentials(CREDS_JSON), (a) => 'ok' in a],
  ['compare-credentials', (r) => r.compareCredentials(CREDS, ROTATED), (a) => a.changed],
  ['digest-metrics', (r) => r.digestMetrics(METRICS, REQUEST.databases), (a) => 'ok' in a],
  ['assess-health', (r) => r.assessHealth(HEALTH), (a) => a.ok],
  ['plan-restore', (r) => r.planRestore(TARGETS, [], { force: false, 'only-missing': true }), (a) => 'ok' in a],
  ['empty-replica', (r) => r.emptyReplica('db0', false), (a) => a.outcome === 'fresh-start'],
  // Exports Rules has no method for (yet), through jco's bindings (an `err` is thrown).
  ['startup-progress', (r) => raw(r).health.startupProgress(PROOF, OUTPUT), (a) => typeof a === 'string'],
  ['judge-verification', (r) => raw(r).restore.judgeVerification(VERIFY), (a) => a.outcome === 'verified'],
  ['require-verified', (r) => raw(r).restore.requireVerified(LAST, 60), (a) => a === undefined],
];
const UNWRAPPED = {
  'startup-progress': ['health', 'startupProgress'],
  'judge-verification': ['restore', 'judgeVerification'],
  'require-verified': ['restore', 'requireVerified'],
};

/** jco's exports of the instance `rules` holds (instantiated by a first call). */
function raw(rules) {
  if (rules._exports === null) rules.check(REQUEST);
  return rules._exports;
}

const MIB = 1 << 20;
const mib = (n) => (n / MIB).toFixed(1);
const sign = (n) => (n >= 0 ? '+' : '') + n.toFixed(1);
const count = (n) => n.toLocaleString('en');
const fail = (i, name, what) => console.log(`reuse js: FAILED at call ${count(i + 1)} (${name})${what}`);
// RSS moves by several MiB with V8's garbage and tiering alone: take the lowest of a
// few samples, each after a collection and a pause (its memory reducer runs then).
async function rss() {
  let lowest = Infinity;
  for (let k = 0; k < 5; k++) {
    globalThis.gc?.();
    await new Promise((done) => setTimeout(done, 20));
    lowest = Math.min(lowest, process.memoryUsage.rss());
  }
  return lowest;
}

function args(argv) {
  const out = { wasm: defaultWasm(), calls: 100_000, maxRssGrowthMib: 10 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (flag === '--wasm') out.wasm = value;
    else if (flag === '--calls') out.calls = Number(value);
    else if (flag === '--max-rss-growth-mib') out.maxRssGrowthMib = Number(value);
    else throw new Error(`unknown argument ${flag}`);
    i++;
  }
  return out;
}

async function main() {
  const opts = args(process.argv.slice(2));
  const warmup = Math.min(1_000, opts.calls);

  // As loadRules() does, but with an instantiateCore that keeps the core instances,
  // so the component's linear memory (the memory its main module exports) can be read.
  const dir = transpile(opts.wasm);
  const glue = await import(pathToFileURL(join(dir, 'rules.js')).href);
  const modules = new Map();
  const getCoreModule = (name) => {
    if (!modules.has(name)) modules.set(name, new WebAssembly.Module(readFileSync(join(dir, name))));
    return modules.get(name);
  };
  let memories = [];
  const instantiateCore = (module, imports) => {
    const instance = new WebAssembly.Instance(module, imports);
    for (const v of Object.values(instance.exports)) if (v instanceof WebAssembly.Memory) memories.push(v);
    return instance;
  };
  const rules = new Rules(() => {
    memories = [];
    return glue.instantiate(getCoreModule, denyAllWasi(), instantiateCore);
  });
  const linear = () => memories.reduce((sum, m) => sum + m.buffer.byteLength, 0);

  // The exports this component has (one made before them lacks the newest).
  const calls = CALLS.filter(([name]) => !UNWRAPPED[name] || raw(rules)[UNWRAPPED[name][0]]?.[UNWRAPPED[name][1]]);
  let instance = null;
  let rssBefore = null;
  let memBefore = null;
  let pause = 0; // the time spent measuring, left out of the seconds
  const start = performance.now();
  for (let i = 0; i < opts.calls; i++) {
    const [name, call, good] = calls[i % calls.length];
    let answer;
    try {
      answer = call(rules);
    } catch (e) {
      const secs = ((performance.now() - start) / 1000).toFixed(1);
      const was = (v) => (v === null ? '?' : mib(v));
      const now =
        `RSS ${was(rssBefore)} -> ${mib(await rss())} MiB, ` +
        `linear memory ${was(memBefore)} -> ${mib(linear())} MiB (after ${count(warmup)} -> now)`;
      const why = String(e?.message ?? e).trim().split('\n').pop();
      fail(i, name, ` on one instance after ${secs} s; ${now}: ${e?.name ?? 'Error'}: ${why}`);
      return 1;
    }
    if (!good(answer)) {
      fail(i, name, `: unexpected answer ${JSON.stringify(answer)}`);
      return 1;
    }
    if (instance === null) instance = rules._exports;
    else if (rules._exports !== instance) {
      fail(i, name, ': the instance was replaced');
      return 1;
    }
    if (i + 1 === warmup) {
      const paused = performance.now();
      rssBefore = await rss();
      memBefore = linear();
      pause += performance.now() - paused;
    }
  }
  const seconds = (performance.now() - start - pause) / 1000;
  const rssAfter = await rss();
  const memAfter = linear();
  const grew = (rssAfter - rssBefore) / MIB;
  const problems = [];
  if (memories.length === 0) problems.push('no linear memory found');
  if (memAfter !== memBefore) problems.push(`linear memory grew by ${memAfter - memBefore} bytes`);
  if (grew > opts.maxRssGrowthMib) problems.push(`RSS grew more than ${opts.maxRssGrowthMib} MiB`);
  console.log(
    `reuse js: ${count(opts.calls)} calls on one instance (${calls.length} exports in turn) in ${seconds.toFixed(1)} s; ` +
      `RSS ${mib(rssBefore)} -> ${mib(rssAfter)} MiB (${sign(grew)}), ` +
      `linear memory ${mib(memBefore)} -> ${mib(memAfter)} MiB ` +
      `(after ${count(warmup)} -> after ${count(opts.calls)} calls)` +
      (problems.length ? `; FAILED: ${problems.join(', ')}` : ''),
  );
  return problems.length ? 1 : 0;
}

process.exitCode = await main();
