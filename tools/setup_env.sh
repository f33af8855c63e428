#!/usr/bin/env bash
# Create (or refresh) the development environment: a virtual environment with
# ROS 2 from the PyPI ros-* wheels, a development build of vision_msgs, the
# Python dependencies and rdk_classifier itself (editable).
#
# The venv is made with RDK_PYTHON if set, else python3 when it is 3.10 to 3.13,
# else the newest python3.13 ... python3.10 on PATH. Everything version-specific
# afterwards follows the venv's own interpreter.
#
# The ROS 2 packages that no registry has (launch, launch_testing, ros2cli, ...) come from the
# folder RDK_ROS_SOURCES names, by tools/install_ros_sources.sh (RDK_ROS_FLAVOR: rolling, the
# default, or humble). Unset, it defaults to ../shared/ros-sources beside the repository when that
# folder exists: CI and the development machines have it there, and a new machine needs exactly
# `make test` (README) to run the launch tests; elsewhere nothing changes. RDK_ROS_SOURCES= (set,
# empty) opts out. Without the folder, a sourced ROS 2 that provides launch_testing serves; with
# neither, one line says that the launch tests will skip.
#
# rdk_classifier is installed editable and laid out as colcon would install it (ament index
# marker, share/rdk_classifier/, lib/rdk_classifier/; tools/ament_layout.py), so that
# `ros2 launch rdk_classifier ...` and `ros2 run rdk_classifier ...` find the working tree.
#
# Idempotent: a stamp of every input (the ROS sources folder's files included) is kept in the
# venv, so a second run with nothing changed returns in well under a second.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${RDK_VENV:-$repo/.venv}
# Per environment: two environments (the dev one, a CI one) may be set up at the same time.
build_dir=$venv/.rdk_build

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

default_ros_sources=$(dirname "$repo")/shared/ros-sources
if [[ -z ${RDK_ROS_SOURCES+set} && -d $default_ros_sources ]]; then
  export RDK_ROS_SOURCES=$default_ros_sources
fi

ros_sources_state() {
  # The installer's own stamp (flavor, tools, every file of the folder), or why there is none.
  if [[ -n ${RDK_ROS_SOURCES:-} ]]; then
    "$repo/tools/install_ros_sources.sh" --stamp
  else
    echo 'no RDK_ROS_SOURCES'
  fi
}

report_launch_tests() {
  # With no sources folder: one line on whether the launch tests can run, and how to make them.
  [[ -z ${RDK_ROS_SOURCES:-} ]] || return 0
  "$venv/bin/python" -c 'import launch_testing, launch_ros' >/dev/null 2>&1 && return 0
  echo "setup: the launch tests will skip: launch_testing and launch_ros are on no package" \
    "registry and no sourced ROS 2 provides them; set RDK_ROS_SOURCES to a folder laid out as" \
    "../shared/ros-sources, or source a ROS 2, to run them"
}

inputs=(
  "$repo/tools/setup_env.sh" "$repo/tools/fix_wheel_cmake.sh" "$repo/tools/ament_layout.py"
  "$repo/requirements/ros.txt" "$repo/requirements/python.txt" "$repo/requirements/export.txt"
  "$repo/setup.py" "$repo/package.xml"
)
mapfile -t interface_files < <(find "$repo/dev_interfaces" -type f | sort)
# The names in launch/ and config/: share/rdk_classifier/ links each file (tools/ament_layout.py).
stamp=$( (cat "${inputs[@]}" "${interface_files[@]}"; ls "$repo/launch" "$repo/config"
          ros_sources_state) | sha256sum | cut -d' ' -f1)
ensure_default_model() {
  # The embedded default model, exported once into the model cache where the node looks.
  local model
  model=$("$venv/bin/python" -c 'from rdk_classifier.catalog import default_cache_dir
print(default_cache_dir() / "models" / "EfficientNet_Lite0.onnx")')
  [[ -f $model ]] || "$venv/bin/python" -m rdk_classifier.programs.export_onnx EfficientNet_Lite0
}

if [[ -f $venv/.rdk_setup_stamp && $(cat "$venv/.rdk_setup_stamp") == "$stamp" ]]; then
  ensure_default_model
  report_launch_tests
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

# Point the wheels' cmake exports at this interpreter's headers and numpy.
"$repo/tools/fix_wheel_cmake.sh" "$venv"

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

if [[ -n ${RDK_ROS_SOURCES:-} ]]; then
  "$repo/tools/install_ros_sources.sh" "$venv"
fi

"${pip[@]}" install --no-deps --no-build-isolation -e "$repo"
"$venv/bin/python" "$repo/tools/ament_layout.py" develop "$repo"
ensure_default_model
report_launch_tests
echo "$stamp" >"$venv/.rdk_setup_stamp"
echo "setup: done"
