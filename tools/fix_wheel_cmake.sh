#!/usr/bin/env bash
# Point the CMake exports of the PyPI ros-* wheels at this venv's Python headers and numpy.
#
# Usage: tools/fix_wheel_cmake.sh VENV
#
# The wheels' cmake exports name the include directories of the container they were built in
# (/opt/python/cp312-cp312/include/python3.12 for the cp312 wheels), so an interface package
# built against the venv (vision_msgs, composition_interfaces, ...) would not find Python.h.
# Idempotent: a second run finds nothing to replace.
set -euo pipefail

venv=$1
py_include=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_include=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')
py_tag=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
container=/opt/python/cp${py_tag/./}-cp${py_tag/./}
{ grep -rlZ --include='*.cmake' "$container" "$venv/share" || true; } | xargs -0r sed -i \
  -e "s#$container/include/python$py_tag#$py_include#g" \
  -e "s#$container/lib/python$py_tag/site-packages/numpy/_core/include#$np_include#g"
