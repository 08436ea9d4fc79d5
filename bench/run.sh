#!/bin/sh
# run.sh BUILD — `make bench`: nntrace against ONNX Runtime on the same models,
# single thread, in the same run, with median times and ratios; then tracer
# overhead and event-writer throughput.
#
# The machines are shared and noisy: compare the ratios printed here, from one
# run, not absolute times across runs.  Each figure is the least of
# BENCH_ROUNDS (3) medians of BENCH_REPEAT (20) runs, the rounds alternating
# between the things compared so that a slow spell hits them alike.  Models come from scripts/make_models.py
# (PyTorch export, random weights) into BUILD/models; ONNX Runtime from npm
# (scripts/setup.sh --bench).
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
nt=$build/nntrace
models=$build/models
repeat=${BENCH_REPEAT:-20}
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
    echo "bench: ONNX Runtime is not installed: run scripts/setup.sh --bench" >&2
    exit 1
fi
if [ ! -f "$models/resnet18.onnx" ]; then
    echo "bench: exporting models into $models"
    /usr/bin/python3 "$here/../scripts/make_models.py" "$models" >/dev/null 2>&1 || {
        echo "bench: model export failed (needs python3-torch, python3-torchvision)" >&2
        exit 1
    }
fi
median() { /usr/bin/python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["median_ms"])'; }

rounds=${BENCH_ROUNDS:-3}
least() { /usr/bin/python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$@"; }
echo "inference, 1 thread: median of $repeat runs after a warm-up, the best of $rounds alternating rounds (ms)"
echo "ratio = nntrace / onnxruntime"
printf '%-14s %12s %12s %8s\n' model nntrace onnxruntime ratio
for m in resnet18 mobilenet_v2 squeezenet transformer ocr_det lstm gru; do
    [ -f "$models/$m.onnx" ] || continue
    in="-i $models/$m.input.npy"
    a=inf b=inf
    for _ in $(seq "$rounds"); do
        x=$($nt run "$models/$m.onnx" $in --repeat "$repeat" --json 2>/dev/null | median)
        y=$(node "$here/ort_run.js" "$models/$m.onnx" $in --repeat "$repeat" --json 2>/dev/null | median)
        if [ -z "$x" ] || [ -z "$y" ]; then
            a=error b=error
            break
        fi
        a=$(least "$a" "$x")
        b=$(least "$b" "$y")
    done
    if [ "$a" = error ]; then
        printf '%-14s %12s %12s %8s\n' "$m" "${x:-error}" "${y:-error}" "-"
        continue
    fi
    printf '%-14s %12s %12s %8s\n' "$m" "$a" "$b" "$(/usr/bin/python3 -c "print('%.2f' % ($a / $b))")"
done

echo
echo "tracer overhead: median ms, the best of $rounds alternating rounds (target for stats: +10 %)"
echo "  idle = a tracer attached that wants no node; stats = --trace stats as run by default (1 thread:"
echo "  scanned by a background thread when a core is free); inline = NNTRACE_STATS_INLINE=1"
# timed MODEL THREADS [nntrace options]: the median run time in ms ($pre: a command prefix)
pre=
timed() {
    local m=$1 th=$2
    shift 2
    $pre $nt run "$models/$m.onnx" -i "$models/$m.input.npy" --threads "$th" --repeat "$repeat" --json "$@" \
        2>/dev/null | median
}
for m in resnet18 mobilenet_v2 squeezenet transformer; do
    [ -f "$models/$m.onnx" ] || continue
    for th in 1 2; do
        b=inf i=inf s=inf n=inf
        for _ in $(seq "$rounds"); do # alternate, so that drift hits every column alike
            b=$(least "$b" "$(timed $m $th)")
            i=$(least "$i" "$(timed $m $th --trace 'print:no-such-node')")
            s=$(least "$s" "$(timed $m $th --trace stats --run-dir "$build/bench-run")")
            pre="env NNTRACE_STATS_INLINE=1"
            n=$(least "$n" "$(timed $m $th --trace stats --run-dir "$build/bench-run")")
            pre=
        done
        /usr/bin/python3 - "$m" "$th" "$b" "$i" "$s" "$n" <<'PY'
import sys
m, th = sys.argv[1:3]
b, i, s, n = map(float, sys.argv[3:])
pct = lambda x: f"{x:8.3f} ({100*(x/b-1):+6.1f}%)"
print(f"{m:<13} {th} thread{'s' if th != '1' else ' '}  untraced {b:8.3f}   idle {pct(i)}   stats {pct(s)}"
      f"   inline {pct(n)}")
PY
    done
done

if [ -x "$build/bench/writer_bench" ]; then
    echo
    "$build/bench/writer_bench"
fi
