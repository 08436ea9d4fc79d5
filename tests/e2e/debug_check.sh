#!/bin/sh
# debug_check.sh [BUILD] — scripted `nntrace debug` sessions on models built
# here with nntrace's own ONNX writer (tests/e2e/debug/make_models.c): a NaN
# born at a known node (Log of a negative, 0/0 in a Div), breakpoints on an
# op type, a node and conditions, watches, stepping, `set` then continue
# changing the output, where/list/info, printed slices, histograms, dumps
# read back by numpy, bad commands reported with their script line, stdin
# scripts, and (when python3 can open a pty) libedit tab completion.
# Prints "debug-check: N passed, N failed"; exits non-zero on any failure.
build=${1:-build}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
nt=$build/nntrace
py=/usr/bin/python3
[ -x "$py" ] || py=python3
scripts=$here/debug
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
finish() {
    echo "debug-check: $pass passed, $fail failed"
    [ "$fail" -eq 0 ]
    exit $?
}

tmp=$(mktemp -d /tmp/debug_check.XXXXXX)
# DEBUG_CHECK_KEEP=1 keeps the temp dir for a look after a failure.
trap "${DEBUG_CHECK_KEEP:+:} rm -rf \"$tmp\"" EXIT INT TERM

if [ ! -x "$nt" ] || [ ! -f "$build/libnntrace.a" ]; then
    bad "$nt or $build/libnntrace.a not built"
    finish
fi
libs=$(pkg-config --libs openblas libpng zlib libmicrohttpd libgvc libedit jansson 2>/dev/null)
# (a sanitizer build's library needs the sanitizer runtime linked in too)
build_models() {
    cc -std=c11 -D_GNU_SOURCE "$@" -I"$root/include" -I"$root/src" -o "$tmp/make_models" "$scripts/make_models.c" \
        "$build/libnntrace.a" $libs -lm -lpthread 2>"$tmp/cc.err"
}
if ! build_models && ! build_models -fsanitize=address,undefined; then
    bad "building make_models.c: $(cat "$tmp/cc.err")"
    finish
fi
if ! "$tmp/make_models" "$tmp"; then
    bad "make_models failed"
    finish
fi
cp "$root/examples/demo/model.onnx" "$tmp/demo.onnx"
cp "$root/examples/demo/digit.npy" "$tmp/digit.npy"

# session NAME MODEL INPUT: runs debug/NAME.dbg in $tmp; output in $tmp/NAME.out
session() {
    # $3 is left unquoted on purpose: "a.npy -i b.npy" binds two inputs
    (cd "$tmp" && "$nt" debug "$2" -i $3 -x "$scripts/$1.dbg" >"$1.out" 2>&1)
    echo $? >"$tmp/$1.rc"
}
# has NAME TEXT: the session output holds the line fragment TEXT
has() {
    if grep -qF -- "$2" "$tmp/$1.out"; then ok; else bad "$1: no '$2'"; fi
}
lacks() {
    if grep -qF -- "$2" "$tmp/$1.out"; then bad "$1: unexpected '$2'"; else ok; fi
}
# has_block NAME LINE1 LINE2...: consecutive lines in the output
has_block() {
    name=$1
    shift
    printf '%s\n' "$@" >"$tmp/block.txt"
    if "$py" -c 'import sys; sys.exit(0 if open(sys.argv[2]).read() in open(sys.argv[1]).read() else 1)' \
        "$tmp/$name.out" "$tmp/block.txt"; then ok; else bad "$name: no block: $*"; fi
}
rc_is() {
    got=$(cat "$tmp/$1.rc")
    if [ "$got" = "$2" ]; then ok; else bad "$1: exit $got, expected $2"; fi
}

# ---- break on an op type, where/list/info, print slices, next, stats
session break_op nan.onnx x.npy
rc_is break_op 0
has break_op "5 nodes in execution order:"
has break_op "   #1 'log' (Log): /Sub_output_0 -> /Log_output_0"
has break_op "  input 0 'x' float32[2,3] (not computed yet)"
has break_op "Breakpoint 1 at op:Log (1 node)"
has break_op "1    break      no    0      op:Log"
has break_op "Breakpoint 1, before node #1 'log' (Log)"
has_block break_op "At node #1 'log' (Log), before it runs (2 of 5)" \
    "  input  0 '/Sub_output_0' float32[2,3] min=-1 max=4 mean=1.5" \
    "  output 0 '/Log_output_0' (not computed yet)"
has break_op "=> #1 'log' (Log): /Sub_output_0 -> /Log_output_0  [breakpoint 1]"
has_block break_op "/Sub_output_0: float32[2,3]" "[[-1,  0,  1]," " [ 2,  3,  4]]"
has_block break_op "/Sub_output_0[0]: float32[3]" "[-1,  0,  1]"
has_block break_op "/Sub_output_0[:, ::-1]: float32[2,3]" "[[ 1,  0, -1]," " [ 4,  3,  2]]"
has break_op "/Sub_output_0[1, 2] = 4"
has_block break_op "Stopped after node #1 'log' (Log)" \
    "  output 0 '/Log_output_0' float32[2,3] min=0 max=1.38629 mean=0.794513 nan=1 inf=1"
has break_op "At node #1 'log' (Log), after it ran (2 of 5)"
has_block break_op "[[     nan,     -inf,        0]," " [0.693147,  1.09861,  1.38629]]"
has break_op "  nan        1"
has break_op "  inf        1 (+0 -1)"
has break_op "Temporary breakpoint 2 at node #4 'scale' (Mul)"
has break_op "Temporary breakpoint 2, before node #4 'scale' (Mul)"
n=$(grep -c "^2    break      yes" "$tmp/break_op.out")
if [ "$n" = 0 ]; then ok; else bad "break_op: the temporary breakpoint was not deleted after stopping"; fi
has_block break_op "Run finished (5 nodes)" \
    "  output 'y' float32[2,3] min=3.4641 max=7.67157 mean=5.79783 nan=1 inf=1"
has break_op "  output 0 'y' float32[2,3] min=3.4641 max=7.67157 mean=5.79783 nan=1 inf=1"
has_block break_op "y[..., 0]: float32[2]" "[    nan, 5.38629]"

# ---- condition breakpoints (with scopes, a temporary one), delete/disable
session break_cond nan.onnx x.npy
rc_is break_cond 0
has break_cond "Condition 1 ((zeros > 0.1 && zeros < 0.2) && op:Sub) hit after node #0 'sub' (Sub)"
has break_cond "At node #0 'sub' (Sub), after it ran (1 of 5)"
has break_cond "Condition 2 (nan > 0 && op:Log) hit after node #1 'log' (Log)"
has_block break_cond "Temporary condition 3 (op:Add && inf > 0) hit after node #3 'add' (Add)" \
    "  output 0 '/Add_output_0' float32[2,3] min=1.73205 max=3.83578 mean=2.89892 nan=1 inf=1"
lacks break_cond "Condition 4 (max"
has break_cond "2    condition  no    1      if nan > 0 && op:Log"
has break_cond "Deleted breakpoint 1"
has break_cond "Disabled breakpoint 2"
has break_cond "2    condition  no    2      if nan > 0 && op:Log"
n=$(grep -c "^Run finished" "$tmp/break_cond.out")
if [ "$n" = 2 ]; then ok; else bad "break_cond: $n runs finished, expected 2 (disable let the run end)"; fi
n=$(grep -c "Temporary condition 3 (" "$tmp/break_cond.out")
if [ "$n" = 1 ]; then ok; else bad "break_cond: the temporary breakpoint stopped $n times"; fi

# ---- watch, set + continue (what-if), inputs restored by run, watch on an input
session watch_set nan.onnx x.npy
rc_is watch_set 0
has watch_set "Watch 1: /Add_output_0: nan > 0 || inf > 0 (tested after node #3 'add' (Add))"
has watch_set "Set /Sub_output_0[0, 0] = 1 (1 element)"
has_block watch_set "/Sub_output_0: float32[2,3]" "[[1, 1, 1]," " [2, 3, 4]]"
# patched before 'log': no NaN is born, the watch stays quiet, y changes
has_block watch_set "Run finished (5 nodes)" "  output 'y' float32[2,3] min=2 max=7.67157 mean=4.66996"
has_block watch_set "y: float32[2,3]" "[[      2, 2.82843,  3.4641]," " [5.38629, 6.66936, 7.67157]]"
has_block watch_set "/Sub_output_0[0]: float32[3]" "[-1,  0,  1]"
has_block watch_set "Watch 1 (/Add_output_0: nan > 0 || inf > 0) hit after node #3 'add' (Add)" \
    "  output 0 '/Add_output_0' float32[2,3] min=1.73205 max=3.83578 mean=2.89892 nan=1 inf=1"
has_block watch_set "Set x = -1 (6 elements)" "(nntrace) finish" "Run finished (5 nodes)" \
    "  output 'y' float32[2,3] nan=6"
has_block watch_set "(nntrace) print x" "x: float32[2,3]" "[[1, 2, 3]," " [4, 5, 6]]"
has watch_set "Watch 3: x: max > 5 (tested before the first node)"
has_block watch_set "(nntrace) restart" "Restarting the run from the beginning." \
    "Watch 3 (x: max > 5), before node #0 'sub' (Sub)"

# ---- 0/0 in a Div: the origin by condition, then a what-if on its input
session div div.onnx x2.npy
rc_is div 0
has_block div "Condition 1 (nan > 0) hit after node #1 'div' (Div)" \
    "  output 0 '/Div_output_0' float32[2,2] nan=4"
# a stop asked for after the last node is reported, then the end of the run
has_block div "Condition 1 (nan > 0) hit after node #2 'out' (Add)" "  output 0 'z' float32[2,2] nan=4" \
    "Run finished (3 nodes)" "  output 'z' float32[2,2] nan=4"
has_block div "Breakpoint 2, before node #1 'div' (Div)" "(nntrace) set /zero_output_0 = 1" \
    "Set /zero_output_0 = 1 (4 elements)" "(nntrace) continue" "Run finished (3 nodes)" \
    "  output 'z' float32[2,2] min=2 max=5 mean=3.5"
has_block div "z: float32[2,2]" "[[2, 3]," " [4, 5]]"

# ---- a run that fails in a kernel: where it failed, exit 2; a what-if on an int64 input
session reshape reshape.onnx "x.npy -i s.npy"
rc_is reshape 1
has reshape "Run failed: node 'rs' (Reshape): cannot reshape 6 elements into 16"
has_block reshape "The run failed at node #0 'rs' (Reshape) (1 of 2)" \
    "  input  0 'x' float32[2,3] min=1 max=6 mean=3.5" "  input  1 's' int64[2] min=4 max=4 mean=4" \
    "  output 0 '/rs_output_0' (not computed yet)"
has reshape "$scripts/reshape.dbg:9: error: 2.5 is not an integer (the tensor holds int64)"
has_block reshape "Run finished (2 nodes)" "  output 'r' float32[3,2] min=-6 max=-1 mean=-3.5"
has_block reshape "r: float32[3,2]" "[[-1, -2]," " [-3, -4]," " [-5, -6]]"
echo run | (cd "$tmp" && "$nt" debug reshape.onnx -i x.npy -i s.npy >fail.out 2>&1)
rc=$?
if [ $rc = 2 ] && grep -q "^Run failed: node 'rs'" "$tmp/fail.out"; then ok; else bad "a failed last run: exit $rc, expected 2"; fi

# ---- break takes --trace filter patterns: globs, op:TYPE in any case; no match said on stderr
session break_glob demo.onnx digit.npy
rc_is break_glob 0
has break_glob "Breakpoint 1 at /[3-9]/* (5 nodes)"
has break_glob "Breakpoint 2 at op:relu (2 nodes)"
has break_glob "warning: 'no-such-*' matches no node; breakpoint 3 will not stop"
has break_glob "Breakpoint 2, before node #1 '/1/Relu' (Relu)"
has break_glob "Breakpoint 1, before node #3 '/3/Conv' (Conv)"
has break_glob "Breakpoint 1, before node #4 '/4/Relu' (Relu)"

# ---- the demo CNN: summarization, hist, dump (numpy reads it), next N, help
session demo demo.onnx digit.npy
rc_is demo 0
has demo "Breakpoint 1, before node #3 '/3/Conv' (Conv)"
has demo "   #6 '/6/Flatten' (Flatten): /5/GlobalAveragePool_output_0 -> /6/Flatten_output_0"
has demo "/2/MaxPool_output_0[0, 0, :2]: float32[2,8]"
has demo "/1/Relu_output_0: float32[1,8,16,16]"
has demo "  ...,"
has demo "histogram of /1/Relu_output_0 float32[1,8,16,16]:"
has demo "  2048 finite values in 8 bins"
has demo "histogram of /0/Conv_output_0[0, 0] float32[16,16]:"
has demo "  256 finite values in 10 bins"
has demo "Wrote /1/Relu_output_0 (float32[1,8,16,16]) to relu.npy"
has demo "Wrote /1/Relu_output_0[0, 2, 3:5] (float32[2,16]) to relu_slice.npy"
has demo "Stopped after node #5 '/5/GlobalAveragePool' (GlobalAveragePool)"
has demo "At node #5 '/5/GlobalAveragePool' (GlobalAveragePool), after it ran (6 of 8)"
has demo "Wrote logits (float32[1,4]) to logits.npy"
has demo "  watch VALUE COND"
has demo "COND is as for 'break if'"
"$nt" run "$tmp/demo.onnx" -i "$tmp/digit.npy" -o "$tmp/runout" >/dev/null 2>&1 || bad "nntrace run of the demo"
if "$py" - "$tmp" >"$tmp/np.txt" 2>&1 <<'EOF'
import sys
import numpy as np
d = sys.argv[1]
relu = np.load(d + "/relu.npy")
sl = np.load(d + "/relu_slice.npy")
logits = np.load(d + "/logits.npy")
ref = np.load(d + "/runout/logits.npy")
assert relu.shape == (1, 8, 16, 16) and relu.dtype == np.float32, relu.shape
assert relu.min() >= 0, relu.min()
assert sl.shape == (2, 16) and np.array_equal(sl, relu[0, 2, 3:5]), sl.shape
assert logits.shape == (1, 4) and np.array_equal(logits, ref), (logits, ref)
EOF
then ok; else bad "numpy check of dumps: $(cat "$tmp/np.txt")"; fi
# the histogram counts add up to the number of elements
total=$(sed -n '/^histogram of \/1\/Relu_output_0/,/^(nntrace)/p' "$tmp/demo.out" |
    sed -n 's/^  \[[^])]*[])] *\([0-9][0-9]*\).*/\1/p' | awk '{s += $1} END {print s}')
if [ "$total" = 2048 ]; then ok; else bad "demo: histogram counts sum to $total, not 2048"; fi

# ---- bad commands: reported with their line, the script goes on, exit 1
session bad nan.onnx x.npy
rc_is bad 1
b=$scripts/bad.dbg
has bad "$b:2: error: unknown command 'bogus' (try 'help')"
has bad "$b:3: error: no value named 'nosuch'"
has bad "$b:4: error: the model has not run yet"
has bad "$b:5: error: the model is not running (use 'run' or 'start')"
has bad "$b:6: error: no node named 'nosuchnode'"
has bad "$b:7: error: condition 'max >': expected a number at the end"
has bad "$b:8: error: watch needs a condition"
has bad "$b:10: error: index 5 is out of range for axis 0 of size 2"
has bad "$b:11: error: 'two' is a weight (initializer)"
has bad "$b:12: error: set: 'abc' is not a number"
has bad "$b:13: error: histogram bins must be 1 to 1000, not 0"
has bad "$b:14: error: no breakpoint number 99"
has bad "$b:15: error: unknown info topic 'bogus'"
has bad "$b:16: error: 'next' takes a positive count of nodes, not '0'"
has bad "y[0, 1] = -inf"
n=$(grep -c ": error: " "$tmp/bad.out")
if [ "$n" = 14 ]; then ok; else bad "bad: $n errors reported, expected 14"; fi
n=$(grep -c "^(nntrace) print y$" "$tmp/bad.out")
if [ "$n" = 1 ]; then ok; else bad "bad: commands after quit ran ($n 'print y')"; fi

# ---- the same commands from stdin (not a terminal) give the same output
(cd "$tmp" && "$nt" debug nan.onnx -i x.npy <"$scripts/break_op.dbg" >stdin.out 2>&1)
if cmp -s "$tmp/stdin.out" "$tmp/break_op.out"; then ok; else bad "stdin session differs from -x"; fi

# ---- usage errors
"$nt" debug >/dev/null 2>&1
[ $? = 1 ] && ok || bad "debug without MODEL should exit 1"
"$nt" debug "$tmp/nan.onnx" -i "$tmp/x.npy" -x "$tmp/missing.dbg" >/dev/null 2>&1
[ $? = 1 ] && ok || bad "a missing script should exit 1"
"$nt" debug "$tmp/nan.onnx" -x "$scripts/break_op.dbg" >/dev/null 2>"$tmp/noinput.err"
[ $? = 1 ] && grep -q "x" "$tmp/noinput.err" && ok || bad "a missing input should exit 1 naming it"
"$nt" debug "$tmp/missing.onnx" -x "$scripts/break_op.dbg" >/dev/null 2>&1
[ $? = 2 ] && ok || bad "a missing model should exit 2"
"$nt" debug --help | grep -q "usage: nntrace debug MODEL" && ok || bad "debug --help"

# ---- libedit at a terminal: tab completion of commands and node names
if "$py" -c "import pty" 2>/dev/null; then
    if "$py" - "$nt" "$tmp" >"$tmp/pty.txt" 2>&1 <<'EOF'
import os, pty, select, sys, time
nt, d = sys.argv[1], sys.argv[2]
pid, fd = pty.fork()
if pid == 0:
    os.chdir(d)
    os.environ["TERM"] = "dumb"
    os.environ["HOME"] = d  # no ~/.editrc
    os.execv(nt, [nt, "debug", "nan.onnx", "-i", "x.npy"])
out = b""
def read_for(t):
    global out
    end = time.time() + t
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                return
            if not chunk:
                return
            out += chunk
read_for(1.0)
for keys in [b"bre\tlo\t\n", b"inf\tno\t\n", b"r\n", b"p /Sub_out\t\n", b"q\n"]:
    os.write(fd, keys)
    read_for(0.7)
os.waitpid(pid, 0)
text = out.decode("utf-8", "replace")
print(text)
need = ["Breakpoint 1 at node #1 'log' (Log)", "5 nodes in execution order:",
        "Breakpoint 1, before node #1 'log' (Log)", "/Sub_output_0: float32[2,3]"]
missing = [n for n in need if n not in text]
if missing:
    print("MISSING:", missing)
    sys.exit(1)
EOF
    then ok; else bad "terminal session with tab completion: $(tail -5 "$tmp/pty.txt")"; fi
else
    echo "debug-check: pty test skipped (no python3 pty)"
fi
# ---- inside If and Loop bodies: breakpoints by the names stats and doctor
# use, step into a body, where with the nesting and the loop iteration,
# values of the body and around it, next over a whole If
if "$py" "$here/subgraph_model.py" "$tmp" 2>"$tmp/sg.err"; then
    session subgraph subgraph.onnx subgraph_x.npy
    rc_is subgraph 1
    has subgraph "Breakpoint 1 at node 'then_add' (Add) in then_branch of node #2 'choose' (If)"
    has subgraph "Breakpoint 2 at node 'loop_add' (Add) in body of node #3 'accumulate' (Loop)"
    has subgraph "4 nodes in execution order, and 5 in If/Loop/Scan bodies (under their node):"
    has subgraph "       'then_mul' (Mul): x, two -> then_mul_out"
    has subgraph "Stepped into a body, stopped before node 'then_mul' (Mul) [1 of 2] in then_branch of #2 'choose' (If)"
    has_block subgraph "At node 'then_add' (Add), before it runs (2 of 2 in its body)" \
        "  #1  then_branch of node #2 'choose' (If)" \
        "  input  0 'then_mul_out' float32[2,3] min=2 max=12 mean=7"
    has_block subgraph "then_mul_out: float32[2,3]" "[[ 2,  4,  6]," " [ 8, 10, 12]]"
    has subgraph "Breakpoint 2, before node 'loop_add' (Add) [1 of 2] in body of #3 'accumulate' (Loop), iteration 0"
    has_block subgraph "acc_in: float32[2,3]" "[[ 3,  5,  7]," " [ 9, 11, 13]]"
    has subgraph "=> 'loop_add' (Add): acc_in, x -> acc_out  [breakpoint 2]"
    has_block subgraph "At node 'loop_add' (Add), before it runs (1 of 2 in its body)" \
        "  #1  body of node #3 'accumulate' (Loop), iteration 2"
    has subgraph "Stopped after node 'loop_add' (Add) [1 of 2] in body of #3 'accumulate' (Loop), iteration 2"
    has subgraph "Stopped after node 'loop_cond' (Identity) [2 of 2] in body of #3 'accumulate' (Loop), iteration 2"
    has_block subgraph "y: float32[2,3]" "[[ 6, 11, 16]," " [21, 26, 31]]"
    has subgraph "Breakpoint 3 at node 'else_neg' (Neg) in else_branch of node #2 'choose' (If)"
    has subgraph "value 'then_mul_out' lives in then_branch of node #2 'choose' (If) and exists only while"
    has subgraph "value 'y' is not computed yet"
    has subgraph "Run finished (4 nodes)"
    lacks subgraph "no node named"
else
    bad "subgraph_model.py: $(cat "$tmp/sg.err")"
fi


finish
