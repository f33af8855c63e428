#!/usr/bin/env bash
# CI job: the test suite on the RDK X5 board's Python stack.
#
# Usage: tools/ci_board_stack.sh numpy121|numpy126 [VENV]
#
# The board runs Ubuntu 22.04 and ROS 2 Humble: Python 3.10, OpenCV 4.5.4, pytest 6.2.5,
# hypothesis 6.36 and numpy 1.21.5 from apt (numpy 1.26.4 once the hobot_dnn wheel is installed),
# no onnxruntime, onnx or torch. This makes a venv of those versions
# (requirements/board-<set>.txt) with rclpy from the ros-* wheels of requirements/ros.txt, the
# development vision_msgs and, when RDK_ROS_SOURCES names a folder laid out as
# ../shared/ros-sources (by default that folder, when it exists; RDK_ROS_SOURCES= opts out),
# Humble's launch stack (launch 1.0.7, launch_ros 0.19.8), then runs the
# whole suite there and lists why tests skipped. Tests that need what the board lacks skip, each
# with its reason.
#
# VENV defaults to a new temporary folder, removed at the end; a VENV given is kept, and set up
# only once for the same inputs (for re-runs while developing).
# Python 3.10: RDK_BOARD_PYTHON, else python3.10 on PATH, else pyenv's newest 3.10.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
set_name=${1:?usage: $0 numpy121|numpy126 [VENV]}
requirements=$repo/requirements/board-$set_name.txt
[[ -f $requirements ]] || { echo "ci_board_stack: no $requirements" >&2; exit 2; }

if [[ -n ${2:-} ]]; then
  venv=$2
else
  scratch=$(mktemp -d "${TMPDIR:-/tmp}/rdk_board.XXXXXX")
  trap 'rm -rf "$scratch"' EXIT
  venv=$scratch/venv
fi

if [[ -z ${RDK_ROS_SOURCES+set} && -d $repo/../shared/ros-sources ]]; then
  export RDK_ROS_SOURCES=$(cd "$repo/../shared/ros-sources" && pwd)
fi

is_py310() {
  "$1" -c 'import sys, venv; sys.exit(sys.version_info[:2] != (3, 10))' >/dev/null 2>&1
}

pick_python() {
  local candidate
  for candidate in ${RDK_BOARD_PYTHON:-} python3.10 \
      $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -rV); do
    is_py310 "$candidate" && { echo "$candidate"; return; }
  done
  echo "ci_board_stack: no Python 3.10 with venv (the board's Python): install one" \
    "(apt install python3.10-venv on Ubuntu 22.04, or pyenv install 3.10) or set RDK_BOARD_PYTHON" >&2
  return 1
}

stamp=$(cat "$0" "$repo/requirements/board-base.txt" "$requirements" "$repo/requirements/ros.txt" \
  | sha256sum | cut -d' ' -f1)
if [[ ! -f $venv/.rdk_board_stamp || $(cat "$venv/.rdk_board_stamp") != "$stamp" ]]; then
  python=$(pick_python)
  rm -rf "$venv"
  "$python" -m venv "$venv"
  echo "ci_board_stack: $("$venv/bin/python" --version) in $venv, $set_name"
  pip=("$venv/bin/python" -m pip --disable-pip-version-check -q)
  # One resolution: the board set's numpy is also the one the ros-* wheels get.
  "${pip[@]}" install -r "$requirements" -r "$repo/requirements/ros.txt"
  "$repo/tools/fix_wheel_cmake.sh" "$venv"

  log=$venv/vision_msgs.log
  (export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv PATH=$venv/bin:$PATH
   cmake -S "$repo/dev_interfaces/vision_msgs" -B "$venv/.build/vision_msgs" \
     -DCMAKE_INSTALL_PREFIX="$venv" -DPython3_EXECUTABLE="$venv/bin/python" -DBUILD_TESTING=OFF \
   && cmake --build "$venv/.build/vision_msgs" -j"$(nproc)" \
   && cmake --install "$venv/.build/vision_msgs") >"$log" 2>&1 \
    || { tail -n 30 "$log" >&2; echo "ci_board_stack: vision_msgs build failed" >&2; exit 1; }

  if [[ -n ${RDK_ROS_SOURCES:-} ]]; then
    "$repo/tools/install_ros_sources.sh" "$venv" humble
  else
    echo "ci_board_stack: RDK_ROS_SOURCES is empty: the launch tests will skip (launch_testing" \
      "and launch_ros are on no package registry)"
  fi
  "${pip[@]}" install --no-deps --no-build-isolation -e "$repo"
  "$venv/bin/python" "$repo/tools/ament_layout.py" develop "$repo"
  echo "$stamp" >"$venv/.rdk_board_stamp"
fi

"$venv/bin/python" - <<'EOF'
import cv2, hypothesis, numpy, pytest, sys
versions = ['Python %d.%d.%d' % sys.version_info[:3], 'numpy ' + numpy.__version__,
            'OpenCV ' + cv2.__version__, 'pytest ' + pytest.__version__,
            'hypothesis ' + hypothesis.__version__]
for name in ('rclpy', 'launch', 'launch_ros', 'onnxruntime', 'onnx', 'torch'):
    try:
        __import__(name)
        versions.append(name)
    except ImportError:
        versions.append('no ' + name)
print('ci_board_stack: ' + ', '.join(versions))
EOF

cd "$repo"
results=$venv/.rdk_board_results.xml
launch_check=()
[[ -z ${RDK_ROS_SOURCES:-} ]] || launch_check=(--launch-tests)
set +e
# ci_junit.py lists the skips with their reasons.
"$venv/bin/python" -m pytest test -p no:cacheprovider --junitxml="$results"
test_rc=$?
set -e
"$venv/bin/python" "$repo/tools/ci_junit.py" "board-$set_name" "$results" "${launch_check[@]}"
exit "$test_rc"
