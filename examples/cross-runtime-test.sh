#!/usr/bin/env bash
# Runs the Python and JavaScript examples over the same request files as the Rust host
# and fails unless every answer is byte-identical to the Rust one.
#
#   examples/cross-runtime-test.sh REQUESTS_DIR OUT_DIR
#
# REQUESTS_DIR/<case>.json are the requests; OUT_DIR/rust/<case>.json the Rust host's
# answers (the golden test runner writes both, under target/cross-runtime). This
# script writes OUT_DIR/python/ and OUT_DIR/js/ and compares them with OUT_DIR/rust/.
# Then python/reuse.py and js/reuse.js make 100,000 calls on ONE instance each and
# fail unless memory stays flat (the guest reclaims its heap between calls).
#
# It installs what it needs, project-locally: the `wasmtime` wheel into .venv (the pin
# in scripts/requirements.txt) and jco into examples/js/node_modules (npm ci from
# the committed package-lock.json); the JS example transpiles the component into
# examples/js/generated when that does not hold it yet.
#
# The component: $DATASETTE_LITESTREAM_WASM, else the build output
# target/wasm-components/wasm32-wasip2/guest/datasette_litestream_rules.wasm, else what
# `target/release/datasette-litestream component` writes.
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 REQUESTS_DIR OUT_DIR" >&2
  exit 2
fi
requests=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
cd "$root"

if [ ! -d "$out/rust" ]; then
  echo "cross-runtime: no Rust answers in $out/rust (the golden test runner writes them)" >&2
  exit 2
fi

# The component.
wasm=${DATASETTE_LITESTREAM_WASM:-}
if [ -z "$wasm" ]; then
  wasm=$root/target/wasm-components/wasm32-wasip2/guest/datasette_litestream_rules.wasm
  if [ ! -f "$wasm" ] && [ -x "$root/target/release/datasette-litestream" ]; then
    wasm=$out/rules.wasm
    "$root/target/release/datasette-litestream" component --out "$wasm" 2>/dev/null
  fi
fi
if [ ! -f "$wasm" ]; then
  echo "cross-runtime: no component at $wasm (cargo build --release builds it)" >&2
  exit 2
fi
wasm=$(cd "$(dirname "$wasm")" && pwd)/$(basename "$wasm")

# Python: wasmtime in the project-local venv.
py=$root/.venv/bin/python
if [ ! -x "$py" ]; then
  "${PYTHON:-python3}" -m venv "$root/.venv"
fi
if ! "$py" -c 'import wasmtime.component' 2>/dev/null; then
  pin=$(grep -E '^wasmtime([=<>~!]|$)' "$root/scripts/requirements.txt" 2>/dev/null || echo wasmtime)
  echo "cross-runtime: installing $pin into .venv"
  "$py" -m pip install -q --disable-pip-version-check "$pin"
fi

# JavaScript: jco in examples/js/node_modules.
js=$here/js
if ! command -v node >/dev/null; then
  echo "cross-runtime: node is not installed (Node 20.19 or newer)" >&2
  exit 2
fi
if [ ! -f "$js/node_modules/@bytecodealliance/jco/package.json" ]; then
  echo "cross-runtime: installing jco into examples/js/node_modules"
  if [ -f "$js/package-lock.json" ]; then
    (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
  else
    (cd "$js" && npm install --no-audit --no-fund --loglevel=error)
  fi
fi

rm -rf "$out/python" "$out/js"
(cd "$here/python" && "$py" cross_runtime.py "$requests" "$out/python" --wasm "$wasm")
(cd "$js" && node cross_runtime.js "$requests" "$out/js" --wasm "$wasm")

# Compare, byte for byte, and show where the first differences are.
"$py" - "$requests" "$out" <<'EOF'
import sys
from pathlib import Path

requests, out = Path(sys.argv[1]), Path(sys.argv[2])
cases = sorted(p.name for p in requests.glob("*.json"))
passed = failed = shown = 0
for case in cases:
    rust = out / "rust" / case
    if not rust.exists():
        print(f"MISSING rust/{case}")
        failed += 1
        continue
    want = rust.read_bytes()
    for runtime in ("python", "js"):
        got_path = out / runtime / case
        got = got_path.read_bytes() if got_path.exists() else None
        if got == want:
            passed += 1
            continue
        failed += 1
        if shown >= 5:
            continue
        shown += 1
        if got is None:
            print(f"MISSING {runtime}/{case}")
            continue
        at = next((i for i, (a, b) in enumerate(zip(want, got)) if a != b), min(len(want), len(got)))
        lo = max(0, at - 60)
        print(f"DIFFER {runtime}/{case} from byte {at} (rust {len(want)} bytes, {runtime} {len(got)}):")
        print(f"  rust:    …{want[lo:at + 60].decode('utf-8', 'replace')!r}")
        print(f"  {runtime + ':':8} …{got[lo:at + 60].decode('utf-8', 'replace')!r}")
if shown < failed:
    print(f"… and {failed - shown} more")
print(f"cross-runtime: {len(cases)} cases, Rust vs Python and JavaScript")
print(f"cross-runtime: {passed} passed, {failed} failed")
sys.exit(1 if failed or not cases else 0)
EOF

# One instance, many calls: the linear memory must not grow, RSS at most 10 MiB.
(cd "$here/python" && "$py" reuse.py --wasm "$wasm")
(cd "$js" && node --expose-gc reuse.js --wasm "$wasm")
