#!/bin/sh
# web_vendor.sh — installs the dashboard's front-end libraries from npm
# (web/package.json: uPlot) and copies the files the page loads into
# web/vendor/, which scripts/embed.sh then compiles into the binary.
# Nothing is vendored in the repository: the build installs it.
#
# If npm or the registry is unavailable the dashboard still builds and
# works with its own simple canvas charts (web/app.js checks for uPlot), so
# this prints a warning and exits 0 unless NT_WEB_VENDOR_REQUIRED=1.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
web=$here/web
vendor=$web/vendor
fail() {
    echo "web_vendor: $*; the dashboard falls back to its built-in charts" >&2
    [ "${NT_WEB_VENDOR_REQUIRED:-0}" = 1 ] && exit 1
    exit 0
}
command -v npm >/dev/null 2>&1 || fail "npm not found"
if [ ! -f "$web/node_modules/uplot/dist/uPlot.iife.min.js" ]; then
    (cd "$web" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null 2>&1) ||
        fail "npm install in web/ failed"
fi
dist=$web/node_modules/uplot/dist
[ -f "$dist/uPlot.iife.min.js" ] && [ -f "$dist/uPlot.min.css" ] || fail "uplot's dist files are missing"
mkdir -p "$vendor"
# Copy only when different, so make sees no change on a rebuild.
for f in uPlot.iife.min.js uPlot.min.css; do
    cmp -s "$dist/$f" "$vendor/$f" 2>/dev/null || cp "$dist/$f" "$vendor/$f"
done
# uPlot's licence travels with the copy.
[ -f "$web/node_modules/uplot/LICENSE" ] && { cmp -s "$web/node_modules/uplot/LICENSE" "$vendor/uPlot.LICENSE.txt" 2>/dev/null || cp "$web/node_modules/uplot/LICENSE" "$vendor/uPlot.LICENSE.txt"; }
echo "web_vendor: uPlot $(sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$web/node_modules/uplot/package.json" | head -1) in web/vendor/"
