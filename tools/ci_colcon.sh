#!/usr/bin/env bash
# CI job: `colcon build` and `colcon test` of the package in a scratch workspace, as a robot
# builder runs them (README: On the robot).
#
# Usage: tools/ci_colcon.sh [VENV]
#
# VENV (default: RDK_VENV, else the repository's .venv) is the development environment that
# tools/setup_env.sh made: ROS 2 from the ros-* wheels, colcon, and the launch stack when
# RDK_ROS_SOURCES was set. The package's files (tracked and untracked, not ignored) are copied into
# a new workspace's src/, built and tested there; colcon test-result lists the outcome. Fails
# unless every collected test ran without failure, at least 400 of them, the launch scenarios
# (test/test_launch_scenarios.py) among those that passed.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$(cd "${1:-${RDK_VENV:-$repo/.venv}}" && pwd)
min_tests=400

ws=$(mktemp -d "${TMPDIR:-/tmp}/rdk_colcon_ws.XXXXXX")
trap 'rm -rf "$ws"' EXIT
mkdir -p "$ws/src/rdk_classifier"
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
  | xargs -0 cp --parents -t "$ws/src/rdk_classifier")

export PATH=$venv/bin:$PATH
# The venv is the underlay, as /opt/ros/humble is on the robot.
export AMENT_PREFIX_PATH=$venv${AMENT_PREFIX_PATH:+:$AMENT_PREFIX_PATH}
export CMAKE_PREFIX_PATH=$venv${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}
cd "$ws"
# The tests read ../shared beside the package: give the copy the same neighbour. Packages are
# looked for in src/rdk_classifier only (shared/ros-sources has package.xml files too).
if [[ -e $repo/../shared ]]; then
  ln -s "$(cd "$repo/.." && pwd)/shared" "$ws/src/shared"
fi
colcon_args=(--log-base "$ws/log")
select=(--base-paths "$ws/src/rdk_classifier" --packages-select rdk_classifier)
colcon "${colcon_args[@]}" build "${select[@]}"
set +e
colcon "${colcon_args[@]}" test "${select[@]}" --return-code-on-test-failure \
  --event-handlers console_direct+
test_rc=$?
set -e
colcon "${colcon_args[@]}" test-result --test-result-base build/rdk_classifier --verbose || true

python "$repo/tools/ci_junit.py" colcon "$ws/build/rdk_classifier/pytest.xml" \
  --min-tests "$min_tests" --launch-tests
[[ $test_rc == 0 ]] || { echo "ci_colcon: colcon test exited $test_rc"; exit 1; }
