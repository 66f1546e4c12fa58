# Convenience front door: `make` builds everything into build/ (CLI at
# build/bin/obscura); `make demo` and `make test` are the README's commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test clean kodak asan fuzz install deps-arm64 arm64 test-arm64

all: build

deps:
	@if [ "$$(id -u)" = 0 ]; then bash scripts/install-deps.sh; else sudo bash scripts/install-deps.sh; fi

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release

configure: $(BUILD)/build.ninja

build: configure
	cmake --build $(BUILD) -j $(JOBS)

demo: deps build
	bash scripts/demo.sh $(BUILD)

test: deps build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The CLI, the looks and the Python module (into the system Python's site
# packages under PREFIX, default /usr/local).
install: build
	cmake --install $(BUILD)

# The test suite built with AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps configure
	# (No Python module: a sanitized library cannot load into the plain
	# interpreter. The Halide kernels are not instrumented: the main build's
	# are linked as they are instead of generated again, which was most of
	# this build's time. -O1 with line tables only, as ASan's own docs advise:
	# its stacks keep their lines, and the build takes ~40 % less CPU than
	# at -O2 -g.)
	cmake --build $(BUILD) -j $(JOBS) --target obscura
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBSCURA_PYTHON=OFF \
	    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO='-O1 -g1 -DNDEBUG' -DCMAKE_C_FLAGS_RELWITHDEBINFO='-O1 -g1 -DNDEBUG' \
	    -DOBSCURA_SANITIZE=address,undefined -DOBSCURA_KERNELS_FROM=$(CURDIR)/$(BUILD)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    ctest --output-on-failure -j $(JOBS)

# The libFuzzer targets (clang, ASan + UBSan): FUZZ_RUNS inputs each from a
# fixed seed (reproducible, as CI runs it), or FUZZ_SECONDS each when set.
FUZZ_RUNS ?= 200000
fuzz: deps
	if [ -n "$(FUZZ_SECONDS)" ]; then bash scripts/fuzz.sh $(FUZZ_SECONDS); else bash scripts/fuzz.sh --runs $(FUZZ_RUNS); fi

# ARM64 (aarch64-linux-gnu) cross build into build-arm64/: the Halide
# generators are the host build's (they run here and emit arm-64-linux code);
# the library, CLI and tests are arm64 programs, run under qemu-aarch64.
ARM64_BUILD ?= build-arm64
deps-arm64: deps
	@if [ "$$(id -u)" = 0 ]; then bash scripts/install-arm64-deps.sh; else sudo bash scripts/install-arm64-deps.sh; fi

arm64: deps-arm64 configure
	cmake --build $(BUILD) -j $(JOBS) --target obscura_generators
	cmake -S . -B $(ARM64_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release -DOBSCURA_PYTHON=OFF \
	    -DCMAKE_TOOLCHAIN_FILE=$(CURDIR)/cmake/aarch64-linux-gnu.cmake \
	    -Dobscura-halide_generators_ROOT=$(CURDIR)/$(BUILD)/cmake $(ARM64_CMAKE_ARGS)
	cmake --build $(ARM64_BUILD) -j $(JOBS)

# The GoogleTest suite under qemu-aarch64 (ARM64_EXCLUDE: a ctest -E regex of
# tests to leave out), then the arm64 CLI's photos against the host's
# (arm64_check.sh).
ARM64_EXCLUDE ?=
test-arm64: arm64 build
	cd $(ARM64_BUILD) && ctest --output-on-failure -j $(JOBS) $(if $(ARM64_EXCLUDE),-E '$(ARM64_EXCLUDE)')
	bash scripts/arm64_check.sh $(BUILD)/bin/obscura $(ARM64_BUILD)/bin/obscura

kodak: build
	python3 scripts/kodak_eval.py --obscura $(BUILD)/bin/obscura

clean:
	rm -rf $(BUILD)
