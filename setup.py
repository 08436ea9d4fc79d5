"""Builds the extension module nntrace._nntrace: libnntrace.a is made by the
project's Makefile (into build-python/) and linked into the module, with the
system libraries it uses (pkg-config).  The analyses (doctor, diff, eval,
report, analyze) are library calls from the module; the nntrace program
built alongside is installed inside the package (nntrace/bin/nntrace) for
eval(run_dir=...), which records a run directory as the command line does."""
import os
import shutil
import subprocess

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = os.path.dirname(os.path.abspath(__file__))
# NNTRACE_BUILD reuses a build directory the Makefile already filled (make check does).
BUILD = os.path.abspath(os.environ.get("NNTRACE_BUILD") or os.path.join(ROOT, "build-python"))
PKGS = ["openblas", "libpng", "zlib", "libmicrohttpd", "libgvc", "libedit", "jansson"]


class BuildWithLibrary(build_ext):
    def run(self):
        jobs = str(max(1, min(os.cpu_count() or 1, 8)))
        subprocess.check_call(["make", "-j" + jobs, "BUILD=" + BUILD,
                               os.path.join(BUILD, "libnntrace.a"), os.path.join(BUILD, "nntrace")], cwd=ROOT)
        libs = subprocess.check_output(["pkg-config", "--libs"] + PKGS, text=True).split()
        for ext in self.extensions:
            ext.extra_objects = [os.path.join(BUILD, "libnntrace.a")]
            ext.extra_link_args = libs + ["-lm", "-lpthread"]
        super().run()
        dest = os.path.join(self.build_lib, "nntrace", "bin")
        os.makedirs(dest, exist_ok=True)
        shutil.copy2(os.path.join(BUILD, "nntrace"), os.path.join(dest, "nntrace"))


setup(
    ext_modules=[Extension("nntrace._nntrace", ["python/nntrace/_nntrace.c", "python/nntrace/_analyses.c"],
                           include_dirs=[os.path.join(ROOT, "include")],
                           extra_compile_args=["-std=c11", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                               "-Wno-missing-field-initializers", "-Wno-cast-function-type"])],
    cmdclass={"build_ext": BuildWithLibrary},
)
