// Answers cross-runtime request files with the rules component, from Node.
//
//   node cross_runtime.js REQUESTS_DIR OUT_DIR [--wasm FILE]
//   node cross_runtime.js --bench [--wasm FILE]
//
// The same request files and the same canonical output as
// ../python/cross_runtime.py (see its docstring); examples/cross-runtime-test.sh
// compares the Rust, Python and JavaScript answers byte for byte.

import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonical, defaultWasm, loadRules } from './rules.js';

function answer(rules, req) {
  switch (req.kind) {
    case 'render': {
      const check = rules.check(req.request);
      let render = null;
      let redact = null;
      if ('ok' in check && check.ok['start-litestream']) {
        render = rules.render(req.request, req.credentials);
        if ('ok' in render) redact = rules.redact(render.ok.document);
      }
      return { check, render, redact };
    }
    case 'parse':
      return { parse: rules.parseCredentials(req.text) };
    case 'compare':
      return { compare: rules.compareCredentials(req.current, req.fresh) };
    case 'call': {
      // Any export, by its WIT name (`plan-follow` is rules.planFollow).
      const method = req.call.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      return { answer: rules[method](...req.args) };
    }
    default:
      throw new Error(`unknown request kind ${JSON.stringify(req.kind)}`);
  }
}

async function run(requests, out, wasm) {
  const rules = await loadRules({ wasm });
  mkdirSync(out, { recursive: true });
  // Sorted by code unit; the order only affects which case is answered first.
  const files = readdirSync(requests).filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) {
    console.error(`no request files in ${requests}`);
    return 1;
  }
  for (const name of files) {
    const req = JSON.parse(readFileSync(join(requests, name), 'utf8'));
    let result;
    try {
      result = answer(rules, req);
    } catch (e) {
      console.error(`${name}: ${e?.stack ?? e}`);
      return 1;
    }
    writeFileSync(join(out, name), canonical(result), 'utf8');
  }
  console.log(`js: ${files.length} case(s) answered into ${out}`);
  return 0;
}

/** The request the Rust render_bench times (tests/examples/render_bench.rs). */
function benchRequest(n) {
  return {
    'top-level': '{"all-replicate": ["s3://bucket/$DB_NAME"], "metrics-addr": ":9090"}',
    databases: Array.from({ length: n }, (_, i) => ({
      name: `db${i}`,
      path: `/srv/data/db${i}.db`,
      directory: '/srv/data',
      'plugin-config': null,
    })),
    'working-directory': '/srv',
    'litestream-version': 'v0.3.13',
    'control-socket': null,
  };
}

function medianUs(repeats, f) {
  const times = [];
  for (let i = 0; i < repeats; i++) {
    const t = process.hrtime.bigint();
    f();
    times.push(Number(process.hrtime.bigint() - t) / 1e3);
  }
  times.sort((a, b) => a - b);
  const m = times.length >> 1;
  return times.length % 2 ? times[m] : (times[m - 1] + times[m]) / 2;
}

async function bench(wasm, repeats = 50) {
  const jco = JSON.parse(readFileSync(new URL('./node_modules/@bytecodealliance/jco/package.json', import.meta.url)));
  let t = process.hrtime.bigint();
  const rules = await loadRules({ wasm });
  const loadMs = Number(process.hrtime.bigint() - t) / 1e6;
  t = process.hrtime.bigint();
  rules.compareCredentials(
    { 'access-key-id': 'a', 'secret-access-key': 'b', 'session-token': null },
    { 'access-key-id': 'a', 'secret-access-key': 'b', 'session-token': null },
  ); // the first call instantiates
  const instMs = Number(process.hrtime.bigint() - t) / 1e6;
  const out = {
    runtime: `node ${process.version} jco ${jco.version}`,
    component_bytes: statSync(wasm).size,
    load_ms: Math.round(loadMs * 10) / 10,
    instantiate_ms: Math.round(instMs * 100) / 100,
  };
  for (const n of [1, 1000]) {
    const req = benchRequest(n);
    if (!('ok' in rules.render(req, null))) throw new Error('bench request does not render');
    out[`render_${n}_us`] = Math.round(medianUs(repeats, () => rules.render(req, null)) * 10) / 10;
  }
  console.log(JSON.stringify(out));
  return 0;
}

async function main(argv) {
  const positional = [];
  let wasm = defaultWasm();
  let doBench = false;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--bench') doBench = true;
    else if (argv[i] === '--wasm') wasm = argv[++i];
    else if (argv[i].startsWith('--wasm=')) wasm = argv[i].slice(7);
    else positional.push(argv[i]);
  }
  if (doBench) return bench(wasm);
  if (positional.length !== 2) {
    console.error('usage: node cross_runtime.js REQUESTS_DIR OUT_DIR [--wasm FILE] | --bench [--wasm FILE]');
    return 2;
  }
  return run(positional[0], positional[1], wasm);
}

process.exitCode = await main(process.argv.slice(2));
