#!/bin/sh
# install_check.sh BUILD — the library as an outside C user gets it:
# `make install PREFIX=tmp`, then examples/classify.c built with pkg-config
# (dynamically, and statically with --static) and run on the demo model;
# the shared library exports exactly the functions of include/nntrace.h and
# include/nntrace/*.h;
# `make layers` passes on the tree and fails on a copy with an upward include.
build=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { echo "  FAIL: $*"; fail=$((fail + 1)); }

if make -s -C "$root" BUILD="$build" install PREFIX="$tmp/prefix" >"$tmp/install.log" 2>&1; then ok; else
    bad "make install"; cat "$tmp/install.log"; fi
for f in bin/nntrace lib/libnntrace.a lib/libnntrace.so lib/libnntrace.so.0 include/nntrace.h include/nntrace/analysis.h lib/pkgconfig/nntrace.pc lib/pkgconfig/nntrace-static.pc; do
    [ -e "$tmp/prefix/$f" ] && ok || bad "installed $f missing"
done
export PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig"
demo="$root/examples/demo"
# shellcheck disable=SC2046
if cc "$root/examples/classify.c" $(pkg-config --cflags --libs nntrace) -o "$tmp/classify_dyn" 2>"$tmp/cc.log"; then
    out=$("$tmp/classify_dyn" "$demo/model.onnx" "$demo/digit.npy")
    case $out in "logits float32[1,4] argmax "*) ok ;; *) bad "dynamic classify printed '$out'" ;; esac
    readelf -d "$tmp/classify_dyn" | grep -q 'NEEDED.*libnntrace.so.0' && ok || bad "dynamic binary does not need libnntrace.so.0"
else
    bad "dynamic build"; cat "$tmp/cc.log"
fi
# shellcheck disable=SC2046
if cc "$root/examples/classify.c" $(pkg-config --cflags --libs nntrace-static) -o "$tmp/classify_static" 2>"$tmp/cc.log"; then
    out=$("$tmp/classify_static" "$demo/model.onnx" "$demo/digit.npy")
    case $out in "logits float32[1,4] argmax "*) ok ;; *) bad "static classify printed '$out'" ;; esac
    readelf -d "$tmp/classify_static" | grep -q 'libnntrace' && bad "static binary still needs libnntrace.so" || ok
else
    bad "static build"; cat "$tmp/cc.log"
fi
# Exactly the public header is exported.
nm -D --defined-only "$tmp/prefix/lib/libnntrace.so" | awk '{print $3}' | sort >"$tmp/exported"
sed -n 's/^NT_API .*[ *]\(nt_[a-z_0-9]*\)(.*/\1/p' "$root/include/nntrace.h" "$root"/include/nntrace/*.h | sort >"$tmp/declared"
if cmp -s "$tmp/exported" "$tmp/declared"; then ok; else
    bad "exported symbols differ from include/nntrace.h and include/nntrace/*.h:"; diff "$tmp/declared" "$tmp/exported" | head -20
fi
if make -s -C "$root" BUILD="$build" uninstall PREFIX="$tmp/prefix" >/dev/null 2>&1 && [ ! -e "$tmp/prefix/lib/libnntrace.so" ]; then ok; else
    bad "make uninstall"; fi
# make layers: the tree passes, a planted upward include fails.
sh "$root/scripts/check_layers.sh" "$root/src" >/dev/null 2>&1 && ok || bad "make layers fails on the tree"
mkdir -p "$tmp/src"
cp -r "$root/src/core" "$root/src/exec" "$tmp/src/"
echo '#include "exec/exec.h"' >>"$tmp/src/core/tensor.c"
if sh "$root/scripts/check_layers.sh" "$tmp/src" 2>"$tmp/layers.log"; then
    bad "make layers accepted core including exec"
else
    grep -q 'core/tensor.c:.*core includes exec' "$tmp/layers.log" && ok || { bad "layers message"; cat "$tmp/layers.log"; }
fi
echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
