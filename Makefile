# smplat-automation: the two commands are `make run` and `make test`.
# Everything else here is what they are made of.

BUILD      ?= build
TESTBUILD  ?= build/test
MESON      ?= meson
NINJA      ?= ninja
PY         ?= /usr/bin/python3

.PHONY: all deps build run demo test unit integration bench format format-check lint clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --buildtype=debugoptimized -Dtests=false >/dev/null

build: deps $(BUILD)/build.ninja
	$(NINJA) -C $(BUILD)
	@scripts/link-bin.sh $(BUILD)

run: build
	$(BUILD)/bin/smplat demo

# The test build: warnings are errors, AddressSanitizer and UndefinedBehaviorSanitizer on.
$(TESTBUILD)/build.ninja:
	$(MESON) setup $(TESTBUILD) --buildtype=debug -Dwerror=true \
	    -Db_sanitize=address,undefined -Db_lundef=false >/dev/null

test: deps $(TESTBUILD)/build.ninja
	$(NINJA) -C $(TESTBUILD)
	@scripts/link-bin.sh $(TESTBUILD)
	@scripts/test.sh $(TESTBUILD)

bench: build
	@bench/run.sh $(BUILD)

format:
	@find src tests bench -name '*.[ch]' | xargs clang-format -i

format-check:
	@find src tests bench -name '*.[ch]' | xargs clang-format --dry-run --Werror

clean:
	rm -rf $(BUILD)
