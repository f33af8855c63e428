# Two commands for a new machine: `make demo` and `make test`. Both create the
# development environment (.venv) first when it is missing or out of date.
VENV ?= .venv
PYTHON := $(VENV)/bin/python

.PHONY: setup demo test

setup:
	@tools/setup_env.sh

demo: setup
	$(PYTHON) -m rdk_classifier.programs.demo

test: setup
	$(PYTHON) -m pytest test
