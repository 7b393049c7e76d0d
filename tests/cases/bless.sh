#!/usr/bin/env bash
# Regenerates the expected output of render cases (see README.md in this directory).
# Usage: tests/cases/bless.sh CASE_DIR...
# Writes expected.yml (exit 0) or expected-errors.txt (exit 2), and expected-redacted.yml
# only when that file already exists. Credentials cases are skipped: they are written by hand.
# READ THE DIFF before committing: blessed output is only as right as the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd -P)
bin=${DATASETTE_LITESTREAM:-$here/../../target/release/datasette-litestream}
[ -x "$bin" ] || { echo "no binary at $bin (set DATASETTE_LITESTREAM)" >&2; exit 1; }
[ $# -gt 0 ] || { echo "usage: $0 CASE_DIR..." >&2; exit 1; }
status=0
for case in "$@"; do
  case=$(cd "$case" && pwd -P)
  if [ ! -f "$case/args" ]; then echo "skip $case (no args: not a render case)"; continue; fi
  tmp=$(cd "$(mktemp -d)" && pwd -P)
  cp -a "$case/." "$tmp/"
  rm -f "$tmp"/expected.yml "$tmp"/expected-errors.txt "$tmp"/expected-redacted.yml
  # @CASE@ stands for the case directory's absolute path in every file.
  python3 - "$tmp" <<'PY'
import os, sys
root = sys.argv[1]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        if os.path.islink(p):
            continue
        try:
            text = open(p, encoding="utf-8").read()
        except (UnicodeDecodeError, OSError):
            continue
        if "@CASE@" in text:
            mode = os.stat(p).st_mode
            open(p, "w", encoding="utf-8").write(text.replace("@CASE@", root))
            os.chmod(p, mode)
PY
  read -r -a args < "$tmp/args"
  version=v0.3.13
  [ -f "$tmp/litestream-version" ] && version=$(head -n1 "$tmp/litestream-version" | tr -d '[:space:]')
  # Create every database file named in args (not the values of -m/-c).
  prev=
  for a in "${args[@]}"; do
    if [[ "$prev" != -m && "$prev" != -c && "$prev" != --metadata && "$prev" != --config && "$a" != -* ]]; then
      (cd "$tmp" && mkdir -p "$(dirname "$a")" && python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("create table if not exists t(id integer primary key)"); c.commit()' "$a")
    fi
    prev=$a
  done
  envs=()
  if [ -f "$tmp/env" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [ -n "$line" ] && envs+=("$line")
    done < "$tmp/env"
  fi
  run() { (cd "$tmp" && env ${envs[@]+"${envs[@]}"} "$bin" render "$@" --litestream-version "$version" ${args[@]+"${args[@]}"}); }
  unsub() { python3 -c 'import sys; t=sys.stdin.read(); sys.stdout.write(t.replace(sys.argv[1], "@CASE@"))' "$tmp"; }
  set +e
  run --show-secrets >"$tmp/.out" 2>"$tmp/.err"; rc=$?
  set -e
  name=$(basename "$case")
  if [ $rc -eq 0 ]; then
    unsub <"$tmp/.out" >"$case/expected.yml"; rm -f "$case/expected-errors.txt"
    if [ -f "$case/expected-redacted.yml" ]; then
      set +e; run >"$tmp/.red" 2>/dev/null; rc2=$?; set -e
      [ $rc2 -eq 0 ] || { echo "FAIL $name: redacted run exited $rc2" >&2; status=1; }
      unsub <"$tmp/.red" >"$case/expected-redacted.yml"
    fi
    echo "ok   $name -> expected.yml"
  elif [ $rc -eq 2 ]; then
    unsub <"$tmp/.err" >"$case/expected-errors.txt"; rm -f "$case/expected.yml"
    echo "ok   $name -> expected-errors.txt"
  else
    echo "FAIL $name: exit $rc" >&2; cat "$tmp/.err" >&2; status=1
  fi
  rm -rf "$tmp"
done
exit $status
