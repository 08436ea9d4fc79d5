#!/bin/sh
# run_unit.sh BUILD TEST... — runs each cmocka test binary, then prints one
# closing line "unit: N passed, N failed" and exits non-zero on any failure.
build=$1
shift
pass=0
fail=0
failed=""
for t in "$@"; do
    if "$t" > "$build/tests/$(basename "$t").log" 2>&1; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        failed="$failed $(basename "$t")"
        cat "$build/tests/$(basename "$t").log"
    fi
done
[ -n "$failed" ] && echo "failed:$failed"
echo "unit: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
