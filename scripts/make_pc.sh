#!/bin/sh
# make_pc.sh PREFIX VERSION "PKGS" [static] — prints nntrace.pc (or, with
# `static`, nntrace-static.pc) for `make install`.
#   nntrace.pc         links libnntrace.so; Libs.private lists what a static
#                      link of libnntrace.a needs (pkg-config --static)
#   nntrace-static.pc  links libnntrace.a itself plus those libraries, so
#                      `pkg-config --libs nntrace-static` gives a binary that
#                      does not need libnntrace.so at run time
# The dependencies' own link flags are written out (not Requires.private):
# their private libraries (OpenBLAS's libgfortran.a) are not needed when
# they are linked as shared libraries.
prefix=$1
version=$2
pkgs=$3
deps="$(pkg-config --libs $pkgs) -lm -lpthread"
cat <<PC
prefix=$prefix
exec_prefix=\${prefix}
libdir=\${exec_prefix}/lib
includedir=\${prefix}/include

Version: $version
Cflags: -I\${includedir}
PC
if [ "${4:-}" = static ]; then
    cat <<PC
Name: nntrace-static
Description: nntrace's C library, linked statically (libnntrace.a)
Libs: \${libdir}/libnntrace.a $deps
PC
else
    cat <<PC
Name: nntrace
Description: trace every node of an ONNX model on a CPU interpreter; TensorBoard event files from C
Libs: -L\${libdir} -Wl,-rpath,\${libdir} -lnntrace
Libs.private: $deps
PC
fi
