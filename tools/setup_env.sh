#!/usr/bin/env bash
# Create (or refresh) the development environment: a virtual environment with
# ROS 2 from the PyPI ros-* wheels, a development build of vision_msgs, the
# Python dependencies and rdk_classifier itself (editable).
#
# The venv is made with RDK_PYTHON if set, else python3 when it is 3.10 to 3.13,
# else the newest python3.13 ... python3.10 on PATH. Everything version-specific
# afterwards follows the venv's own interpreter.
#
# Idempotent: a stamp of every input is kept in the venv, so a second run with
# nothing changed returns in well under a second.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${RDK_VENV:-$repo/.venv}
build_dir=$repo/.build

usable_python() {
  # Runs the candidate: a pyenv shim is on PATH even when its version is not selected.
  "$1" -c 'import sys, ensurepip, venv
sys.exit(not (3, 10) <= sys.version_info[:2] <= (3, 13))' >/dev/null 2>&1
}

pick_python() {
  local candidate
  if [[ -n ${RDK_PYTHON:-} ]]; then
    usable_python "$RDK_PYTHON" && { echo "$RDK_PYTHON"; return; }
    echo "setup: RDK_PYTHON=$RDK_PYTHON is not Python 3.10 to 3.13 with venv" >&2
    return 1
  fi
  for candidate in python3 python3.13 python3.12 python3.11 python3.10; do
    usable_python "$candidate" && { echo "$candidate"; return; }
  done
  echo "setup: no usable Python: needs 3.10 to 3.13 with its venv module (python3 here:" \
    "$(python3 --version 2>/dev/null || echo none)); install one, or point RDK_PYTHON at it" >&2
  return 1
}

inputs=(
  "$repo/tools/setup_env.sh" "$repo/requirements/ros.txt" "$repo/requirements/python.txt"
  "$repo/requirements/export.txt"
  "$repo/setup.py" "$repo/package.xml"
)
mapfile -t interface_files < <(find "$repo/dev_interfaces" -type f | sort)
stamp=$(cat "${inputs[@]}" "${interface_files[@]}" | sha256sum | cut -d' ' -f1)
ensure_default_model() {
  # The embedded default model, exported once into the model cache where the node looks.
  local model
  model=$("$venv/bin/python" -c 'from rdk_classifier.catalog import default_cache_dir
print(default_cache_dir() / "models" / "EfficientNet_Lite0.onnx")')
  [[ -f $model ]] || "$venv/bin/python" -m rdk_classifier.programs.export_onnx EfficientNet_Lite0
}

if [[ -f $venv/.rdk_setup_stamp && $(cat "$venv/.rdk_setup_stamp") == "$stamp" ]]; then
  ensure_default_model
  exit 0
fi

if [[ ! -x $venv/bin/python ]]; then
  python=$(pick_python)
  echo "setup: creating the development environment in $venv (a few minutes the first time)"
  "$python" -m venv "$venv"
fi
echo "setup: $("$venv/bin/python" --version) in $venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -r "$repo/requirements/ros.txt" -r "$repo/requirements/python.txt" \
  -r "$repo/requirements/export.txt"

# The wheels' cmake exports name the include directories of the container they
# were built in (/opt/python/cp312-cp312/include/python3.12 for the cp312 wheels);
# point them at this interpreter's headers and numpy.
py_include=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_include=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')
py_tag=$("$venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
container=/opt/python/cp${py_tag/./}-cp${py_tag/./}
{ grep -rlZ --include='*.cmake' "$container" "$venv/share" || true; } | xargs -0r sed -i \
  -e "s#$container/include/python$py_tag#$py_include#g" \
  -e "s#$container/lib/python$py_tag/site-packages/numpy/_core/include#$np_include#g"

mkdir -p "$build_dir"
echo "setup: building the development vision_msgs"
export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv PATH=$venv/bin:$PATH
rm -rf "$build_dir/vision_msgs"
cmake -S "$repo/dev_interfaces/vision_msgs" -B "$build_dir/vision_msgs" \
  -DCMAKE_INSTALL_PREFIX="$venv" -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF \
  >"$build_dir/vision_msgs.log" 2>&1 \
  && cmake --build "$build_dir/vision_msgs" -j"$(nproc)" >>"$build_dir/vision_msgs.log" 2>&1 \
  && cmake --install "$build_dir/vision_msgs" >>"$build_dir/vision_msgs.log" 2>&1 \
  || { tail -n 30 "$build_dir/vision_msgs.log"; echo "setup: vision_msgs build failed, log: $build_dir/vision_msgs.log" >&2; exit 1; }

"${pip[@]}" install --no-deps --no-build-isolation -e "$repo"
ensure_default_model
echo "$stamp" >"$venv/.rdk_setup_stamp"
echo "setup: done"
