#!/usr/bin/env bash
# Create (or refresh) the development environment: a virtual environment with
# ROS 2 from the PyPI ros-* wheels, a development build of vision_msgs, the
# Python dependencies and rdk_classifier itself (editable).
#
# Idempotent: a stamp of every input is kept in the venv, so a second run with
# nothing changed returns in well under a second.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${RDK_VENV:-$repo/.venv}
python=${RDK_PYTHON:-python3.11}
build_dir=$repo/.build

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
  [[ -f $model ]] || "$venv/bin/python" -m rdk_classifier.export_onnx EfficientNet_Lite0
}

if [[ -f $venv/.rdk_setup_stamp && $(cat "$venv/.rdk_setup_stamp") == "$stamp" ]]; then
  ensure_default_model
  exit 0
fi

echo "setup: creating the development environment in $venv (a few minutes the first time)"
[[ -x $venv/bin/python ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -r "$repo/requirements/ros.txt" -r "$repo/requirements/python.txt" \
  -r "$repo/requirements/export.txt"

# The wheels' cmake exports name the include directories of the container they
# were built in; point them at this interpreter's headers and numpy.
py_include=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
np_include=$("$venv/bin/python" -c 'import numpy; print(numpy.get_include())')
{ grep -rlZ --include='*.cmake' '/opt/python/cp311-cp311' "$venv/share" || true; } | xargs -0r sed -i \
  -e "s#/opt/python/cp311-cp311/include/python3.11#$py_include#g" \
  -e "s#/opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include#$np_include#g"

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
