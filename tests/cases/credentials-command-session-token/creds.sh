#!/bin/sh
# Proves the command line is split shell-style: $1 is "two words", $2 is "plain".
[ "$#" -eq 2 ] && [ "$1" = "two words" ] && [ "$2" = "plain" ] || { echo "bad arguments: $#" >&2; exit 3; }
cat <<'JSON'
{"access-key-id": "ASIAEXAMPLE", "secret-access-key": "s3cr3t", "session-token": "tok/en+=="}
JSON
