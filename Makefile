# Entry points. Each target installs missing Debian packages first, then
# configures and builds with CMake (ccache when present).
BUILD_DIR ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: deps configure build demo test bench bench-propagation format clean

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j $(JOBS)

demo: build
	@bash examples/demo.sh $(BUILD_DIR)

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS)

bench: build
	@$(BUILD_DIR)/bench/hotswap-bench-read --benchmark_repetitions=5 --benchmark_report_aggregates_only=true --benchmark_out=$(BUILD_DIR)/bench-read.json --benchmark_out_format=json

bench-propagation: build
	@$(BUILD_DIR)/bench/hotswap-bench-propagation --out $(BUILD_DIR)/bench-propagation-single.json
	@$(BUILD_DIR)/bench/hotswap-bench-propagation --sidecars 200 --out $(BUILD_DIR)/bench-propagation-fleet.json

format:
	@git ls-files '*.cc' '*.h' '*.hpp' | xargs clang-format -i

clean:
	@rm -rf $(BUILD_DIR)
