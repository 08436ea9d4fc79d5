#!/bin/sh
# fuzz_ci.sh [SECONDS] — CI's fuzzing stop: every libFuzzer harness
# (tests/fuzz/fuzz_*.c, built with ASan+UBSan by `make fuzz`) runs SECONDS
# (default 60) on its seed corpus, one after the other.  New inputs go to
# build-fuzz/corpus-NAME/ (the seeds in tests/fuzz/corpus/ are read, never
# written), crashes to build-fuzz/crashes-NAME/.  Any crash, sanitizer report,
# hang (an input over 10 s) or memory blow-up fails the stop.
# Prints "fuzz-ci: N passed, N failed"; exits 1 on any failure.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-60}
passed=0
failed=0
export ASAN_OPTIONS="detect_leaks=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
for src in "$here"/fuzz_*.c; do
    name=$(basename "$src" .c)
    short=${name#fuzz_}
    bin=$root/build-fuzz/$name
    log=$root/build-fuzz/$name.ci.log
    if [ ! -x "$bin" ]; then
        echo "fuzz-ci: $bin is missing (make fuzz)"
        failed=$((failed + 1))
        continue
    fi
    start=$(date +%s)
    if [ "$short" = run ]; then
        # Models that load, plan and run: seeds and suppressions of its own.
        sh "$here/run_fuzz_run.sh" "$secs" >"$log" 2>&1
    else
        work=$root/build-fuzz/corpus-$short
        crashes=$root/build-fuzz/crashes-$short
        mkdir -p "$work" "$crashes"
        dict=
        [ -f "$here/$short.dict" ] && dict="-dict=$here/$short.dict"
        "$bin" -timeout=10 -rss_limit_mb=2048 -max_total_time="$secs" -print_final_stats=1 \
            -artifact_prefix="$crashes/" $dict "$work" "$here/corpus/$short" >"$log" 2>&1
    fi
    rc=$?
    runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        echo "fuzz-ci: $name ok, ${runs:-?} inputs in $(( $(date +%s) - start )) s"
    else
        failed=$((failed + 1))
        echo "fuzz-ci: $name FAILED (exit $rc); the end of $log:"
        tail -40 "$log"
    fi
done
echo "fuzz-ci: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
