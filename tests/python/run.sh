#!/bin/sh
# run.sh BUILD — `make python-check`: installs the package into the project's
# venv (.venv, made by scripts/setup.sh --test) from this tree, reusing
# BUILD's libnntrace.a, and runs the pytest suite; then checks that an sdist
# holds what a wheel needs by building the wheel from it.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$1
case $build in /*) ;; *) build=$root/$build ;; esac
py=$root/.venv/bin/python
if [ ! -x "$py" ]; then
    echo "python: skipped: no venv at .venv (scripts/setup.sh --test makes it)"
    exit 0
fi
cd "$root"
NNTRACE_BUILD=$build "$py" -m pip install -q --no-build-isolation --no-deps . >/tmp/nntrace-pip.$$ 2>&1 || {
    cat /tmp/nntrace-pip.$$; rm -f /tmp/nntrace-pip.$$; echo "python: pip install . failed"; exit 1; }
rm -f /tmp/nntrace-pip.$$
NT_MODELS=${NT_MODELS:-$build/models} "$py" -m pytest -q -p no:cacheprovider tests/python
# sdist -> wheel: the sdist alone must be enough to build the package.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -m build --sdist --no-isolation --outdir "$tmp" . >"$tmp/sdist.log" 2>&1 || { cat "$tmp/sdist.log"; echo "python: sdist failed"; exit 1; }
mkdir "$tmp/src" && tar -xzf "$tmp"/nntrace-*.tar.gz -C "$tmp/src"
(cd "$tmp/src"/nntrace-* && "$py" -m build --wheel --no-isolation --outdir "$tmp" . >"$tmp/wheel.log" 2>&1) || {
    tail -30 "$tmp/wheel.log"; echo "python: wheel from the sdist failed"; exit 1; }
ls "$tmp"/nntrace-*.whl >/dev/null && echo "python: sdist and wheel built ($(cd "$tmp" && ls nntrace-*))"
