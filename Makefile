# Convenience front door: `make` builds everything into build/ (CLI at
# build/bin/obscura); `make demo` and `make test` are the README's commands.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps configure build demo test clean kodak

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

kodak: build
	python3 scripts/kodak_eval.py --obscura $(BUILD)/bin/obscura

clean:
	rm -rf $(BUILD)
