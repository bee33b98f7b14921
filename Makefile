# MTF-Grasp for ROS 2. `make demo` and `make test` do everything on a fresh machine.
SHELL := /bin/bash
.DEFAULT_GOAL := help
.PHONY: help setup test test-unit test-ros demo bench clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup:  ## idempotent: .venv with pinned requirements, Debian libs, colcon build of src/
	@bash tools/setup_workspace.sh

test: setup  ## set-up, then every test (unit, ROS multi-process, launch)
	@bash tools/run_tests.sh tests

test-unit: setup  ## only the tests that need no ROS
	@bash tools/run_tests.sh tests/unit

test-ros: setup  ## only the ROS 2 multi-process tests
	@bash tools/run_tests.sh tests/ros tests/launch

demo: setup  ## set-up, then the real ROS 2 fleet on the built-in SimGrasp dataset
	@bash tools/demo.sh

bench: setup  ## the benchmark commands whose figures are in the README
	@bash benchmarks/run_all.sh

clean:  ## remove build outputs (keeps .venv)
	rm -rf build install log
