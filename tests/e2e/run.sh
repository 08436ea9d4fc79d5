#!/bin/sh
# run.sh BUILD — the end-to-end suite: every check script against the built
# binaries.  Each check prints its own "name: N passed, N failed" line; this
# prints a closing total and fails if any check failed.
build=$1
here=$(cd "$(dirname "$0")" && pwd)
nt=$build/nntrace
total_fail=0
run_check() {
    name=$1
    shift
    echo "== $name"
    if "$@"; then :; else
        echo "== $name FAILED"
        total_fail=$((total_fail + 1))
    fi
}
run_check cli sh "$here/cli_cases.sh" "$nt"
[ -f "$here/corrupt_models.sh" ] && run_check corrupt sh "$here/corrupt_models.sh" "$nt"
[ -f "$here/info_check.py" ] && run_check info-check /usr/bin/python3 "$here/info_check.py" "$nt"
[ -f "$here/npy_numpy_check.py" ] && run_check npy-check /usr/bin/python3 "$here/npy_numpy_check.py" "$build"
[ -f "$here/tfevents_check.sh" ] && run_check tfevents-check sh "$here/tfevents_check.sh" "$build"
[ -f "$here/trace_check.py" ] && run_check trace-check /usr/bin/python3 "$here/trace_check.py" "$nt"
if [ "$total_fail" -eq 0 ]; then
    echo "e2e: all checks passed"
else
    echo "e2e: $total_fail check(s) failed"
fi
[ "$total_fail" -eq 0 ]
