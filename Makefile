# Two commands for a new machine: `make demo` and `make test`. Both create the
# development environment (.venv) first when it is missing or out of date.
# `make test` runs the launch tests and a real `ros2 launch` too where set-up could install the
# launch stack: from RDK_ROS_SOURCES, by default ../shared/ros-sources when it exists (see
# tools/setup_env.sh), or from a sourced ROS 2; else set-up says in one line that they skip.
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup demo test

setup:
	@tools/setup_env.sh

demo: setup
	$(PYTHON) -m rdk_classifier.programs.demo

test: setup
	$(PYTHON) -m pytest test
