#!/bin/sh
# Prints credentials for the bucket named by --bucket.
[ "$1" = "--bucket" ] || { echo "usage: $0 --bucket NAME" >&2; exit 64; }
printf '{"access-key-id": "AKIA-%s", "secret-access-key": "secret-for-%s"}\n' "$2" "$2"
