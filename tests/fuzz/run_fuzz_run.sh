#!/bin/sh
# run_fuzz_run.sh [SECONDS [LIBFUZZER FLAGS...]] — fuzz models that load, plan and run
# (tests/fuzz/fuzz_run.c).  Seeds: the tiny models in tests/fuzz/corpus/run/
# (written by tests/e2e/malicious_models.py --corpus) and the ONNX node-test
# models in ../shared/onnx-node-tests/*/model.onnx, read in place.  New
# inputs go to build-fuzz/corpus-run/, crashes to build-fuzz/crashes-run/.
# Build first with `make fuzz`.  SECONDS 0 means no time limit (give
# -runs=N among the flags); NT_FUZZ_WORK names another work corpus.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
secs=${1:-300}
[ $# -gt 0 ] && shift
bin=$root/build-fuzz/fuzz_run
[ -x "$bin" ] || { echo "run_fuzz_run.sh: build $bin first with 'make fuzz'" >&2; exit 1; }
work=${NT_FUZZ_WORK:-$root/build-fuzz/corpus-run}
crashes=$root/build-fuzz/crashes-run
mkdir -p "$work" "$crashes"
shared=${NT_ONNX_TESTS:-$root/../shared/onnx-node-tests}
# libFuzzer takes seed directories and reads every file in them, so link each
# node test's model.onnx (small ones only) into one seed directory.
# (made once: delete build-fuzz/seeds-run to refresh it)
seeds=$root/build-fuzz/seeds-run
if [ -d "$shared" ] && [ ! -d "$seeds" ]; then
    mkdir -p "$seeds"
    find "$shared" -mindepth 2 -maxdepth 2 -name model.onnx -size -65k | while read -r f; do
        d=${f%/model.onnx}
        ln -s "$f" "$seeds/${d##*/}.onnx"
    done
fi
# UBSan reports stop the run (so the input is saved), except the ones listed
# here: known, reported to their owners, in files this harness cannot fix.
supp=$root/build-fuzz/ubsan-run.supp
cat >"$supp" <<'SUPP'
# conv_quant.c: NaN requantization multiplier (zero scales) cast to int
float-cast-overflow:src/ops/conv_quant.c
SUPP
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$supp${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# -timeout: seconds per input (a hang); -malloc_limit_mb: any one allocation
# past the library's own 256 MB limit is a bug; -rss_limit_mb: the total.
# (the node-test seeds only where the shared corpus exists: CI may not have it)
[ -d "$seeds" ] || seeds=
exec "$bin" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 -max_len=65536 \
    -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="$crashes/" "$@" \
    "$work" "$here/corpus/run" ${seeds:+"$seeds"}
