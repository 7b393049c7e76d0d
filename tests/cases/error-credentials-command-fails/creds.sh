#!/bin/sh
echo "vault: permission denied" >&2
exit 7
