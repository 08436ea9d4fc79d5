#!/bin/sh
# run.sh BUILD — `make bench`: nntrace against ONNX Runtime on the same models,
# at 1 and 2 threads, in the same run, with median times, ratios and peak
# RSS; then tracer overhead and event-writer throughput.
#
# The machines are shared and noisy: compare the ratios printed here, from one
# run, not absolute times across runs.  Each figure is the least of
# BENCH_ROUNDS (3) medians of BENCH_REPEAT (20; BENCH_REPEAT_BIG, 4, for the
# large models) runs, the rounds alternating between the things compared so
# that a slow spell hits them alike.  Peak RSS is /usr/bin/time's maximum
# resident size of each engine's own process (the least over the rounds, at
# 1 thread); ONNX Runtime runs inside node, so an idle node's RSS, measured in
# the same run, is subtracted from it.  Models come from
# scripts/make_models.py (PyTorch export, random weights) into BUILD/models,
# the large ones with --bench; ONNX Runtime from npm (scripts/setup.sh --bench).
# BENCH_MODELS="m1 m2" limits the first table to those models.
set -u
build=$1
here=$(cd "$(dirname "$0")" && pwd)
nt=$build/nntrace
models=$build/models
repeat=${BENCH_REPEAT:-20}
repeat_big=${BENCH_REPEAT_BIG:-4}
small="resnet18 mobilenet_v2 squeezenet transformer ocr_det lstm gru vad_like"
big="resnet18_int8 resnet18_qdq efficientnet_b0 convnext_t vit_s16 bert_base llama_prefill llama_decode unet1024"
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
    echo "bench: ONNX Runtime is not installed: run scripts/setup.sh --bench" >&2
    exit 1
fi
export_models() { # [--bench]: the test set, or the large bench set
    echo "bench: exporting models into $models${1:+ ($1)}"
    /usr/bin/python3 "$here/../scripts/make_models.py" "$models" "$@" >/dev/null 2>&1 || {
        echo "bench: model export failed (needs python3-torch, python3-torchvision)" >&2
        exit 1
    }
}
[ -f "$models/resnet18.onnx" ] || export_models
[ -f "$models/vad_like.onnx" ] || export_models --only vad_like
for m in $big; do
    [ -f "$models/$m.onnx" ] || { export_models --bench; break; }
done
median() { /usr/bin/python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["median_ms"])'; }

rounds=${BENCH_ROUNDS:-3}
least() { /usr/bin/python3 -c "import sys; print(min(map(float, sys.argv[1:])))" "$@"; }
ratio() { /usr/bin/python3 -c "import sys; a, b = map(float, sys.argv[1:]); print('%.2f' % (a / b))" "$1" "$2"; }
# inputs MODEL: -i for MODEL.input.npy, MODEL.input1.npy, ... in order
inputs() {
    printf -- '-i %s' "$models/$1.input.npy"
    k=1
    while [ -f "$models/$1.input$k.npy" ]; do
        printf -- ' -i %s' "$models/$1.input$k.npy"
        k=$((k + 1))
    done
}
rss_file=$(mktemp)
trap 'rm -f "$rss_file"' EXIT
# measure ENGINE MODEL THREADS REPEAT: "median_ms peak_rss_kb" of one process
measure() {
    local engine=$1 m=$2 th=$3 rep=$4 t
    if [ "$engine" = nt ]; then
        t=$(/usr/bin/time -o "$rss_file" -f %M $nt run "$models/$m.onnx" $(inputs "$m") --threads "$th" \
            --repeat "$rep" --json 2>/dev/null | median)
    else
        t=$(/usr/bin/time -o "$rss_file" -f %M node "$here/ort_run.js" "$models/$m.onnx" $(inputs "$m") \
            --threads "$th" --repeat "$rep" --json 2>/dev/null | median)
    fi
    [ -n "$t" ] && echo "$t $(tail -n 1 "$rss_file")"
}
node_idle=inf
for _ in $(seq "$rounds"); do
    /usr/bin/time -o "$rss_file" -f %M node -e 0
    node_idle=$(least "$node_idle" "$(tail -n 1 "$rss_file")")
done
node_idle=${node_idle%.*}

lscpu | grep 'Model name' | sed 's/  */ /g'
echo "inference: median of $repeat runs ($repeat_big for the large models) after a warm-up, the best of $rounds"
echo "alternating rounds (ms); ratio = nntrace / onnxruntime.  Peak RSS in MB (1 thread); onnxruntime's"
echo "is node's minus an idle node's ($((node_idle / 1024)) MB)"
printf '%-15s %10s %10s %6s  %10s %10s %6s  %8s %8s %6s\n' model "nt 1t" "ort 1t" ratio "nt 2t" "ort 2t" \
    ratio "nt MB" "ort MB" ratio
for m in ${BENCH_MODELS:-$small $big}; do
    [ -f "$models/$m.onnx" ] || continue
    rep=$repeat
    case " $big " in *" $m "*) rep=$repeat_big ;; esac
    a1=inf b1=inf a2=inf b2=inf ra=inf rb=inf err=
    for _ in $(seq "$rounds"); do
        x1=$(measure nt "$m" 1 "$rep") || x1=
        y1=$(measure ort "$m" 1 "$rep") || y1=
        x2=$(measure nt "$m" 2 "$rep") || x2=
        y2=$(measure ort "$m" 2 "$rep") || y2=
        if [ -z "$x1" ] || [ -z "$y1" ] || [ -z "$x2" ] || [ -z "$y2" ]; then
            err="nntrace:${x1:+ok}${x1:-error} onnxruntime:${y1:+ok}${y1:-error}"
            break
        fi
        a1=$(least "$a1" "${x1% *}")
        b1=$(least "$b1" "${y1% *}")
        a2=$(least "$a2" "${x2% *}")
        b2=$(least "$b2" "${y2% *}")
        ra=$(least "$ra" "${x1#* }")
        rb=$(least "$rb" "$((${y1#* } - node_idle))")
    done
    if [ -n "$err" ]; then
        printf '%-15s %s\n' "$m" "$err"
        continue
    fi
    printf '%-15s %10s %10s %6s  %10s %10s %6s  %8s %8s %6s\n' "$m" "$a1" "$b1" "$(ratio "$a1" "$b1")" \
        "$a2" "$b2" "$(ratio "$a2" "$b2")" "$((${ra%.*} / 1024))" "$((${rb%.*} / 1024))" "$(ratio "$ra" "$rb")"
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

# µs per node on the model of tiny nodes: the median run time over the nodes
# a run executes (If bodies included), counted from one profiled run
if [ -f "$models/vad_like.onnx" ]; then
    echo
    prof=$(mktemp -d)
    $nt run "$models/vad_like.onnx" $(inputs vad_like) --trace profile --run-dir "$prof" >/dev/null 2>&1
    for th in 1 2; do
        a=inf o=inf
        for _ in $(seq "$rounds"); do
            a=$(least "$a" "$(measure nt vad_like "$th" "$repeat" | cut -d' ' -f1)")
            o=$(least "$o" "$(measure ort vad_like "$th" "$repeat" | cut -d' ' -f1)")
        done
        /usr/bin/python3 - "$prof/profile.json" "$th" "$a" "$o" <<'PY'
import json, sys
events = [e for e in json.load(open(sys.argv[1]))["traceEvents"] if e.get("ph") == "X"]
n = sum(1 for e in events if e["args"].get("run") == events[0]["args"].get("run"))
th, a, o = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
print(f"small nodes: vad_like, {n} nodes a run, {th} thread{'s' if th != '1' else ' '}: nntrace "
      f"{1000 * a / n:.3f} us/node, onnxruntime {1000 * o / n:.3f} us/node")
PY
    done
    rm -rf "$prof"
fi

if [ -x "$build/bench/writer_bench" ]; then
    echo
    "$build/bench/writer_bench"
fi
