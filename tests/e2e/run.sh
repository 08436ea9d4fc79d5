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
# Real models exported with PyTorch (random weights), made once per build dir.
models=$build/models
if [ ! -f "$models/resnet18.onnx" ] && /usr/bin/python3 -c "import torch, torchvision" 2>/dev/null; then
    echo "== exporting test models into $models"
    /usr/bin/python3 "$here/../../scripts/make_models.py" "$models" >/dev/null 2>&1 || echo "model export failed"
fi
export NT_MODELS=$models
run_check cli sh "$here/cli_cases.sh" "$nt"
if [ -f "$models/resnet18.onnx" ] && [ -d "$here/../../bench/node_modules/onnxruntime-node" ]; then
    run_check compare-ort /usr/bin/python3 "$here/compare_ort.py" "$nt" "$models"
else
    echo "== compare-ort skipped: needs python3-torch and onnxruntime-node (scripts/setup.sh --test)"
fi
[ -f "$here/corrupt_models.sh" ] && run_check corrupt sh "$here/corrupt_models.sh" "$nt"
[ -f "$here/malicious_models.py" ] && run_check malicious /usr/bin/python3 "$here/malicious_models.py" "$nt"
[ -f "$here/info_check.py" ] && run_check info-check /usr/bin/python3 "$here/info_check.py" "$nt"
[ -f "$here/npy_numpy_check.py" ] && run_check npy-check /usr/bin/python3 "$here/npy_numpy_check.py" "$build"
[ -f "$here/tfevents_check.sh" ] && run_check tfevents-check sh "$here/tfevents_check.sh" "$build"
[ -f "$here/debug_check.sh" ] && run_check debug-check sh "$here/debug_check.sh" "$build"
[ -f "$here/exporters_check.py" ] && run_check exporters /usr/bin/python3 "$here/exporters_check.py" "$nt"
[ -f "$here/doctor_check.py" ] && run_check doctor-check /usr/bin/python3 "$here/doctor_check.py" "$nt"
[ -f "$here/trace_check.py" ] && run_check trace-check /usr/bin/python3 "$here/trace_check.py" "$nt"
[ -f "$here/fault_check.py" ] && run_check fault-check /usr/bin/python3 "$here/fault_check.py" "$build"
corpus=${NT_CORPUS:-$here/../../../shared/onnx-node-tests}
[ -d "$corpus" ] && run_check sequence-check /usr/bin/python3 "$here/sequence_check.py" "$nt" "$corpus"
if [ -d "$here/../../bench/node_modules/onnxruntime-node" ] && [ -d "$corpus" ]; then
    run_check half-check /usr/bin/python3 "$here/half_check.py" "$nt" "$corpus"
else
    echo "== half-check skipped: needs onnxruntime-node and the ONNX node-test corpus ($corpus)"
fi
[ -f "$here/fuse_check.py" ] && run_check fuse-check /usr/bin/python3 "$here/fuse_check.py" "$nt"
[ -f "$here/fuse_conv_check.py" ] && run_check fuse-conv-check /usr/bin/python3 "$here/fuse_conv_check.py" "$nt"
if [ -d "$here/../../bench/node_modules/onnxruntime-node" ]; then
    run_check resize-check /usr/bin/python3 "$here/resize_check.py" "$nt"
    run_check quant-check /usr/bin/python3 "$here/quant_check.py" "$nt"
    run_check qdq-check /usr/bin/python3 "$here/qdq_check.py" "$nt"
else
    echo "== resize-check, quant-check, qdq-check skipped: need onnxruntime-node (scripts/setup.sh --test)"
fi
# Modern architectures (scripts/make_arch_models.py, small sizes), exported once per build dir.
arch=$build/arch_models
if [ ! -f "$arch/manifest.json" ] && /usr/bin/python3 -c "import torch, torchvision" 2>/dev/null; then
    echo "== exporting architecture models into $arch"
    /usr/bin/python3 "$here/../../scripts/make_arch_models.py" "$arch" >/dev/null 2>&1 || echo "architecture export failed"
fi
if [ -f "$arch/manifest.json" ] && [ -d "$here/../../bench/node_modules/onnxruntime-node" ]; then
    run_check arch-check /usr/bin/python3 "$here/arch_check.py" "$nt" "$arch"
else
    echo "== arch-check skipped: needs python3-torch, torchvision and onnxruntime-node (scripts/setup.sh --test)"
fi
[ -f "$here/diff_check.py" ] && run_check diff-check /usr/bin/python3 "$here/diff_check.py" "$nt"
[ -f "$here/diff_inputs_check.py" ] && run_check diff-inputs-check /usr/bin/python3 "$here/diff_inputs_check.py" "$nt"
[ -f "$here/diff_qop_check.py" ] && run_check diff-qop-check /usr/bin/python3 "$here/diff_qop_check.py" "$nt"
[ -f "$here/strings_case_check.py" ] && run_check strings-case-check /usr/bin/python3 "$here/strings_case_check.py" "$nt"
[ -f "$here/analyze_batch_check.py" ] && run_check analyze-batch-check /usr/bin/python3 "$here/analyze_batch_check.py" "$nt"
[ -f "$here/graph_check.py" ] && run_check graph-check /usr/bin/python3 "$here/graph_check.py" "$nt"
[ -f "$here/extract_check.py" ] && run_check extract-check /usr/bin/python3 "$here/extract_check.py" "$nt"
[ -f "$here/eval_check.py" ] && run_check eval-check /usr/bin/python3 "$here/eval_check.py" "$nt"
[ -f "$here/report_check.py" ] && run_check report-check /usr/bin/python3 "$here/report_check.py" "$nt"
[ -f "$here/analyze_check.py" ] && run_check analyze-check /usr/bin/python3 "$here/analyze_check.py" "$nt"
run_check many-bodies /usr/bin/python3 "$here/many_bodies_check.py" "$nt"
run_check arity-rows /usr/bin/python3 "$here/../../scripts/arity_rows.py" --check "$here/../../src/exec/arity.c"
run_check install sh "$here/install_check.sh" "$build"
[ -f "$here/serve_check.py" ] && run_check serve-check /usr/bin/python3 "$here/serve_check.py" "$build"
[ -f "$here/serve_fault_check.py" ] && run_check serve-fault-check /usr/bin/python3 "$here/serve_fault_check.py" "$build"
[ -f "$here/memory_check.py" ] && run_check memory-check /usr/bin/python3 "$here/memory_check.py" "$nt"
if [ -x /usr/bin/chromium ] && [ -d "$here/browser/node_modules/playwright-core" ]; then
    run_check browser node "$here/browser/dashboard.test.js" "$build"
else
    echo "== browser skipped: needs chromium and playwright-core (scripts/setup.sh --test)"
fi
if [ "$total_fail" -eq 0 ]; then
    echo "e2e: all checks passed"
else
    echo "e2e: $total_fail check(s) failed"
fi
[ "$total_fail" -eq 0 ]
