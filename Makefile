# Convenience wrapper around meson; every target works on a fresh Debian machine.
BUILD ?= build
SAN_BUILD ?= build-san
MESON_TEST_ARGS ?= --print-errorlogs --num-processes 2

.PHONY: deps build demo test test-sanitize fuzz bench clean

deps:
	scripts/install-deps.sh

build:
	@[ -d $(BUILD) ] || meson setup $(BUILD)
	ninja -C $(BUILD)

demo: build
	scripts/demo.sh $(BUILD)

test: build
	scripts/run-tests.sh $(BUILD) $(MESON_TEST_ARGS)

test-sanitize:
	@[ -d $(SAN_BUILD) ] || CC=clang meson setup $(SAN_BUILD) -Db_sanitize=address,undefined -Db_lundef=false
	ninja -C $(SAN_BUILD)
	scripts/run-tests.sh $(SAN_BUILD) $(MESON_TEST_ARGS) --timeout-multiplier 3

fuzz:
	scripts/fuzz.sh

bench: build
	scripts/bench.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(SAN_BUILD)
