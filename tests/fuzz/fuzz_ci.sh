#!/bin/sh
# fuzz_ci.sh [SECONDS] — CI's fuzzing stop: every libFuzzer harness
# (tests/fuzz/fuzz_*.c, built with ASan+UBSan by `make fuzz`), one after the
# other, on its seed corpus.
#
# Without SECONDS (what `make fuzz-ci` and CI run) the pass is reproducible:
# a fixed seed, a fixed number of inputs per harness (about 45 s each on a
# 2-core CI machine) and a fresh work corpus, so a pass here is a pass in CI
# and a failure in CI fails the same way here.  With SECONDS it explores:
# a random seed for SECONDS per harness, the work corpus kept between runs
# (`make fuzz-explore`, to run before landing parser changes).
#
# New inputs go to build-fuzz/corpus-NAME/ (the seeds in tests/fuzz/corpus/
# are read, never written), crashes to build-fuzz/crashes-NAME/.  Any crash,
# sanitizer report, hang (an input over 10 s) or memory blow-up fails the stop.
# Prints "fuzz-ci: N passed, N failed"; exits 1 on any failure.
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-}
# inputs per harness in the reproducible pass (they differ 50x in speed)
runs_for() {
    case $1 in
    debug) echo 60000 ;;
    jsonl) echo 600000 ;;
    run) echo 300000 ;;
    tfevents) echo 500000 ;;
    *) echo 2500000 ;;
    esac
}
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
    if [ -n "$secs" ]; then
        budget="-max_total_time=$secs"
        work=$root/build-fuzz/corpus-$short
    else
        budget="-seed=1 -runs=$(runs_for "$short")"
        work=$root/build-fuzz/corpus-ci-$short
        rm -rf "$work"
    fi
    mkdir -p "$work"
    if [ "$short" = run ]; then
        # Models that load, plan and run: seeds and suppressions of its own.
        NT_FUZZ_WORK=$work sh "$here/run_fuzz_run.sh" 0 $budget >"$log" 2>&1
    else
        crashes=$root/build-fuzz/crashes-$short
        mkdir -p "$crashes"
        dict=
        [ -f "$here/$short.dict" ] && dict="-dict=$here/$short.dict"
        "$bin" -timeout=10 -rss_limit_mb=2048 $budget -print_final_stats=1 \
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
