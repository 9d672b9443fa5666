# Entry points. Each target installs missing Debian packages first, then
# configures and builds with CMake (ccache when present).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build install demo test bench bench-python bench-propagation bench-rollback format clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

# Headers, libhotswap.so/.a, hotswap.pc, the CMake package and the binaries
# under PREFIX (make install PREFIX=~/.local).
PREFIX ?= /usr/local
install: build
	@cmake --install $(BUILD_DIR) --prefix $(PREFIX)

demo: build
	@bash examples/demo.sh $(BUILD_DIR)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j $(JOBS)

# Repetitions run in random order across benchmarks, so that a slow spell
# of the machine falls on all of them alike; then the bounds are checked
# (exit 1 from the checker, a bound not met, does not fail the target).
bench: build
	@$(BUILD_DIR)/bench/hotswap-bench-read --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true --benchmark_display_aggregates_only=true --benchmark_out=$(BUILD_DIR)/bench-read.json --benchmark_out_format=json
	@$(BUILD_DIR)/bench/hotswap-bench-bounds $(BUILD_DIR)/bench-read.json || [ $$? -eq 1 ]

# Reads from Python (ctypes over libhotswap.so) beside a dict lookup.
bench-python: build
	@python3 bench/python_read.py $(BUILD_DIR) --rounds 15 --out $(BUILD_DIR)/bench-python-read.json

bench-propagation: build
	@$(BUILD_DIR)/bench/hotswap-bench-propagation --out $(BUILD_DIR)/bench-propagation-single.json
	@$(BUILD_DIR)/bench/hotswap-bench-propagation --sidecars 200 --out $(BUILD_DIR)/bench-propagation-fleet.json

# A bad canary caught and rolled back, good ones left alone: 10 sidecars
# and services at 1,000 requests/s (about 3 minutes).
bench-rollback: build
	@$(BUILD_DIR)/bench/hotswap-bench-rollback --out $(BUILD_DIR)/bench-rollback.json

format:
	@git ls-files '*.cc' '*.h' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
