#!/bin/sh
# setup.sh [--test] [--bench] — installs every Debian package nntrace needs
# (and, with --bench, ONNX Runtime from npm for the speed comparison).
#
#   (none)    build dependencies: compiler, OpenBLAS, zlib, libpng,
#             libmicrohttpd, Graphviz, libedit, jansson, cmocka
#   --test    plus what the test suite uses: clang + libFuzzer runtime,
#             protoc (independent protobuf decoder), python3-numpy and
#             python3-onnx (independent readers of our files), python3-torch
#             and python3-torchvision (export the real models the tests run),
#             and onnxruntime-node from npm (the reference outputs)
#   --bench   what `make bench` needs: the models and ONNX Runtime, as --test
#
# Safe to run again: apt-get skips what is installed.
set -eu
test_deps=0
bench_deps=0
for a in "$@"; do
    case $a in
    --test) test_deps=1 ;;
    --bench) bench_deps=1 ;;
    *) echo "usage: scripts/setup.sh [--test] [--bench]" >&2; exit 1 ;;
    esac
done
pkgs="build-essential pkg-config libopenblas-dev zlib1g-dev libpng-dev libmicrohttpd-dev
      libgraphviz-dev libedit-dev libjansson-dev libcmocka-dev"
# npm installs the dashboard's chart library at build time (web/package.json)
command -v npm >/dev/null || pkgs="$pkgs nodejs npm"
if [ $test_deps = 1 ]; then
    pkgs="$pkgs clang libclang-rt-14-dev protobuf-compiler python3-numpy python3-onnx chromium graphviz python3-sklearn
          python3-dev python3-venv python3-pip"
fi
if [ $test_deps = 1 ] || [ $bench_deps = 1 ]; then
    pkgs="$pkgs python3-numpy python3-onnx python3-torch python3-torchvision"
    command -v node >/dev/null || pkgs="$pkgs nodejs npm"
fi
SUDO=""
if [ "$(id -u)" != 0 ]; then
    SUDO=sudo
fi
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing$missing"
    $SUDO apt-get update -q
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi
if [ $test_deps = 1 ] || [ $bench_deps = 1 ]; then
    # onnxruntime-node ships its CPU library in the package: no install scripts needed.
    if [ ! -d bench/node_modules/onnxruntime-node ]; then
        (cd bench && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
    fi
fi
if [ $test_deps = 1 ]; then
    # playwright-core drives Debian's Chromium in the dashboard's browser tests
    if [ ! -d tests/e2e/browser/node_modules/playwright-core ]; then
        (cd tests/e2e/browser && npm install --no-audit --no-fund --ignore-scripts --loglevel=error)
    fi
fi
if [ $test_deps = 1 ]; then
    # The Python package's tests: a venv over Debian's python3 (it keeps
    # Debian's torch, numpy and onnx) with pytest, TensorBoard (interop),
    # ONNX Runtime (reference) and the build tools from the package index.
    if [ ! -x .venv/bin/pytest ] || [ ! -x .venv/bin/tensorboard ]; then
        /usr/bin/python3 -m venv --system-site-packages .venv
        .venv/bin/pip install -q --disable-pip-version-check pytest tensorboard onnxruntime build setuptools wheel
    fi
fi
echo "setup: done"
