#!/bin/sh
# check_layers.sh [SRC_DIR] — `make layers`: fails when a source file includes
# a header of a layer above its own, or allocates with raw malloc/calloc/
# realloc outside core/alloc.c (nt_malloc & co. check sizes, apply the memory
# limit and record the error).  The layers, lowest first (README,
# "Architecture"); a file may include its own layer and any layer below:
#
#   core  graph  onnx  ops  exec  metrics  viz  trace  debug  analyze  serve  cli
#
# Includes are read from `#include "layer/file.h"` lines; a bare
# `#include "file.h"` names a header of the file's own directory;
# "nntrace/x.h" is a public header (include/nntrace/), open to every layer.
set -eu
src=${1:-src}
order="core graph onnx ops exec metrics viz trace debug analyze serve cli"
rank() {
    i=0
    for l in $order; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo -1
}
bad=0
checked=0
for dir in "$src"/*/; do
    layer=$(basename "$dir")
    mine=$(rank "$layer")
    if [ "$mine" -lt 0 ]; then
        echo "layers: $dir is not a known layer (add it to the order in scripts/check_layers.sh and the README)" >&2
        bad=$((bad + 1))
        continue
    fi
    for f in "$dir"*.c "$dir"*.h; do
        [ -f "$f" ] || continue
        checked=$((checked + 1))
        # "layer/x.h" includes only; <...> are system headers, "x.h" is this layer.
        for inc in $(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([a-z_]*\)\/[^"]*".*/\1/p' "$f" | sort -u); do
            [ "$inc" = nntrace ] && continue   # include/nntrace/*.h: the public API, open to every layer
            theirs=$(rank "$inc")
            if [ "$theirs" -lt 0 ]; then
                echo "layers: $f includes from unknown layer '$inc'" >&2
                bad=$((bad + 1))
            elif [ "$theirs" -gt "$mine" ]; then
                line=$(grep -n "#[[:space:]]*include[[:space:]]*\"$inc/" "$f" | head -1 | cut -d: -f1)
                echo "layers: $f:$line: $layer includes $inc, a layer above it" >&2
                bad=$((bad + 1))
            fi
        done
    done
done
# Raw allocation calls (not nt_malloc, not a member named like one).
raw=$(grep -Hn -E '(^|[^_a-zA-Z0-9.>])(malloc|calloc|realloc)[[:space:]]*\(' "$src"/*/*.c 2>/dev/null | grep -v "^$src/core/alloc.c:" || true)
if [ -n "$raw" ]; then
    echo "$raw" | sed 's/^/layers: raw allocation (use nt_malloc, nt_calloc, nt_realloc): /' >&2
    bad=$((bad + $(echo "$raw" | wc -l)))
fi
if [ "$bad" -ne 0 ]; then
    echo "layers: $bad problem(s); layer order (lowest first): $order" >&2
    exit 1
fi
echo "layers: $checked files, no upward include"
