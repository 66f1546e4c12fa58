# Convenience front door: `make` builds everything into build/ (CLI at
# build/bin/obscura); `make demo` and `make test` are the README's commands.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test clean kodak asan fuzz install

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
asan: deps
	# (No Python module: a sanitized library cannot load into the plain
	# interpreter. The Halide generators are build tools and stay plain; the
	# kernels they emit are not instrumented, so one baseline x86-64 target
	# serves and costs a third of the generator time.)
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOBSCURA_PYTHON=OFF \
	    -DOBSCURA_SANITIZE=address,undefined -DOBSCURA_HALIDE_TARGETS=x86-64-linux
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	    ctest --output-on-failure -j $(JOBS)

# The libFuzzer targets (clang, ASan + UBSan): FUZZ_RUNS inputs each from a
# fixed seed (reproducible, as CI runs it), or FUZZ_SECONDS each when set.
FUZZ_RUNS ?= 200000
fuzz: deps
	if [ -n "$(FUZZ_SECONDS)" ]; then bash scripts/fuzz.sh $(FUZZ_SECONDS); else bash scripts/fuzz.sh --runs $(FUZZ_RUNS); fi

kodak: build
	python3 scripts/kodak_eval.py --obscura $(BUILD)/bin/obscura

clean:
	rm -rf $(BUILD)
