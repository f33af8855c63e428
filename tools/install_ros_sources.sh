#!/usr/bin/env bash
# Install the ROS 2 packages that no package registry has, from a local folder of their sources.
#
# Usage: RDK_ROS_SOURCES=DIR tools/install_ros_sources.sh VENV [rolling|humble]
#        RDK_ROS_SOURCES=DIR tools/install_ros_sources.sh --stamp [rolling|humble]
#
# DIR is laid out as ../shared/ros-sources, whose README.md gives the recipe followed here; nothing
# is fetched from the web. VENV is a venv with the ros-* wheels of requirements/ros.txt, setuptools
# and wheel (tools/setup_env.sh makes one). Installed into it:
# - pure Python, `pip install --no-deps --no-build-isolation` from a temporary copy (pip builds
#   inside the source folder, and DIR may be read-only): rosidl_runtime_py first, then ros2cli and
#   its verbs, launch, launch_xml, launch_yaml, launch_testing, launch_ros, launch_testing_ros and
#   ros2launch. The flavor (second argument, else RDK_ROS_FLAVOR) picks their versions: rolling,
#   the default (launch 3.7.1, launch_ros 0.28.0: these work with the ros-rclpy 9.1.2 wheels), or
#   humble (launch 1.0.7, launch_ros 0.19.8, as on the RDK X5). Their PyPI dependencies come from
#   requirements/ros_sources.txt.
# - interfaces, built with CMake against the venv: composition_interfaces (launch_ros imports it),
#   ai_msgs and hbm_img_msgs (D-Robotics' perception results and shared-memory camera frames).
# pip's data_files give each package its ament index marker and share/<package>/; console scripts
# are also linked into VENV/lib/<package>/, where launch_ros and `ros2 run` look for executables
# (tools/ament_layout.py).
#
# Idempotent: VENV/.rdk_ros_sources_stamp holds a hash of the flavor, these tools and every file of
# DIR, so a second run with nothing changed returns at once. --stamp prints that hash
# (tools/setup_env.sh folds it into its own stamp).
set -euo pipefail

tools=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$tools")

fail() {
  echo "install_ros_sources: $*" >&2
  exit 1
}

[[ $# -ge 1 ]] || fail "usage: RDK_ROS_SOURCES=DIR $0 VENV|--stamp [rolling|humble]"
target=$1
flavor=${2:-${RDK_ROS_FLAVOR:-rolling}}
[[ -n ${RDK_ROS_SOURCES:-} ]] || fail 'RDK_ROS_SOURCES is not set: point it at a folder laid' \
  'out as ../shared/ros-sources'
[[ -f $RDK_ROS_SOURCES/README.md && -d $RDK_ROS_SOURCES/ros2cli ]] \
  || fail "RDK_ROS_SOURCES=$RDK_ROS_SOURCES is not a folder laid out as ../shared/ros-sources"
sources=$(cd "$RDK_ROS_SOURCES" && pwd)

case $flavor in
  rolling) launch_dir=launch-3.7.1 launch_ros_dir=launch_ros-0.28.0 ;;
  humble) launch_dir=launch-humble-1.0.7 launch_ros_dir=launch_ros-humble-0.19.8 ;;
  *) fail "unknown flavor '$flavor': rolling (launch 3.7.1) or humble (launch 1.0.7)" ;;
esac
# Installation order: each after what it imports.
python_packages=(
  rosidl_runtime_py
  ros2cli/ros2cli ros2cli/ros2pkg ros2cli/ros2node ros2cli/ros2param ros2cli/ros2topic
  ros2cli/ros2service ros2cli/ros2lifecycle ros2cli/ros2run
  "$launch_dir/launch" "$launch_dir/launch_xml" "$launch_dir/launch_yaml"
  "$launch_dir/launch_testing"
  "$launch_ros_dir/launch_ros" "$launch_ros_dir/launch_testing_ros" "$launch_ros_dir/ros2launch"
)
interface_packages=(rcl_interfaces/composition_interfaces hobot_msgs/ai_msgs
                    hobot_msgs/hbm_img_msgs)

stamp=$(
  {
    echo "$flavor"
    cat "$tools/install_ros_sources.sh" "$tools/ament_layout.py" "$tools/fix_wheel_cmake.sh" \
      "$repo/requirements/ros_sources.txt"
    (cd "$sources" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
  } | sha256sum | cut -d' ' -f1)
if [[ $target == --stamp ]]; then
  echo "$stamp"
  exit 0
fi

venv=$target
python=$venv/bin/python
[[ -x $python ]] || fail "$venv is not a virtual environment (no bin/python)"
stamp_file=$venv/.rdk_ros_sources_stamp
if [[ -f $stamp_file && $(cat "$stamp_file") == "$stamp" ]]; then
  exit 0
fi
rm -f "$stamp_file"

echo "setup: installing launch, launch_testing, ros2cli and interfaces ($flavor) from $sources"
work=$(mktemp -d "${TMPDIR:-/tmp}/rdk_ros_sources.XXXXXX")
trap 'rm -rf "$work"' EXIT
pip=("$python" -m pip --disable-pip-version-check -q)
"${pip[@]}" install -r "$repo/requirements/ros_sources.txt"

copies=()
for package in "${python_packages[@]}"; do
  copy=$work/src/$(basename "$package")
  mkdir -p "$(dirname "$copy")"
  cp -r "$sources/$package" "$copy"
  copies+=("$copy")
done
chmod -R u+w "$work/src"
"${pip[@]}" install --no-deps --no-build-isolation "${copies[0]}"
"${pip[@]}" install --no-deps --no-build-isolation "${copies[@]:1}"
names=()
for package in "${python_packages[@]}"; do names+=("$(basename "$package")"); done
"$python" "$tools/ament_layout.py" scripts "${names[@]}"

"$tools/fix_wheel_cmake.sh" "$venv"
for package in "${interface_packages[@]}"; do
  name=$(basename "$package")
  build=$work/build/$name
  log=$work/$name.log
  if ! (export AMENT_PREFIX_PATH=$venv CMAKE_PREFIX_PATH=$venv PATH=$venv/bin:$PATH
        cmake -S "$sources/$package" -B "$build" -DCMAKE_INSTALL_PREFIX="$venv" \
          -DPython3_EXECUTABLE="$python" -DBUILD_TESTING=OFF \
        && cmake --build "$build" -j"$(nproc)" && cmake --install "$build") >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    fail "building $name failed (the lines above are the end of its log)"
  fi
done

echo "$stamp" >"$stamp_file"
