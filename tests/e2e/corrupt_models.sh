#!/bin/sh
# corrupt_models.sh NNTRACE [--seed N] [--flips N] — broken model files must
# make `nntrace info` exit 2 with a message, never crash or hang.  The work
# (truncations, seeded byte flips, absurd lengths, non-models, each under
# `timeout 10`) is done by corrupt_models.py next to this script, which needs
# only Python's standard library; it prints "corrupt: N passed, N failed".
here=$(cd "$(dirname "$0")" && pwd)
if [ $# -lt 1 ]; then
    echo "usage: sh tests/e2e/corrupt_models.sh NNTRACE [--seed N] [--flips N]" >&2
    exit 1
fi
py=/usr/bin/python3
[ -x "$py" ] || py=python3
exec "$py" "$here/corrupt_models.py" "$@"
