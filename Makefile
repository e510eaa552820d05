# herald - build, test, run, install, bench, sanitizers.
#
# `make` builds build/herald from libherald.a; every test links the same
# library.  Flavours (asan, fuzz) re-run make into another build folder.

PREFIX   ?= /usr/local
DESTDIR  ?=
BUILD    ?= build
CC       ?= gcc
PKG      ?= pkg-config

LIBS_PC  := libical jansson libcurl sqlite3 libmicrohttpd libcrypto zlib yaml-0.1 ldap
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
            -Wmissing-prototypes -Wformat=2 -Wvla -Wpointer-arith \
            -Wcast-qual -Wwrite-strings -Wundef -Wno-unused-parameter
OPT      ?= -O2 -g
# The user's CPPFLAGS/CFLAGS/LDFLAGS come last so distribution hardening
# flags apply.
HCFLAGS   = -std=c17 -D_GNU_SOURCE -Iinclude $(OPT) $(WARN) \
            $(shell $(PKG) --cflags $(LIBS_PC) 2>/dev/null) $(CPPFLAGS) $(CFLAGS)
HLDLIBS   = $(shell $(PKG) --libs $(LIBS_PC) 2>/dev/null) -lpthread -lm
TESTLIBS  = $(shell $(PKG) --libs cmocka 2>/dev/null)

LIB_SRC  := $(filter-out svc/main.c,$(wildcard svc/*.c))
LIB_OBJ  := $(LIB_SRC:svc/%.c=$(BUILD)/obj/%.o)
TEST_SRC := $(wildcard tests/test_*.c)
TESTS    := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
BENCH_SRC:= $(wildcard tests/bench/*.c)

.PHONY: all deps deps-test deps-bench run test unit integration layers asan fuzz \
        bench install uninstall clean
all: $(BUILD)/herald

deps:
	@contrib/install-deps build
deps-test:
	@contrib/install-deps test
deps-bench:
	@contrib/install-deps bench

$(BUILD)/obj/%.o: svc/%.c | $(BUILD)/obj
	$(CC) $(HCFLAGS) -MMD -c -o $@ $<

$(BUILD)/obj $(BUILD)/tests:
	@mkdir -p $@

$(BUILD)/libherald.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# LDFLAGS before the objects and libraries, so that -Wl,--as-needed applies
# to them.
$(BUILD)/herald: $(BUILD)/obj/main.o $(BUILD)/libherald.a
	$(CC) $(HCFLAGS) $(LDFLAGS) -o $@ $^ $(HLDLIBS)

# A test is rebuilt when any header changes: it sees structs by value.
$(BUILD)/tests/%: tests/%.c $(BUILD)/libherald.a $(wildcard tests/*.h tests/fuzz/*.h include/herald/*.h) | $(BUILD)/tests
	$(CC) $(HCFLAGS) -Wno-missing-prototypes -Itests $(LDFLAGS) -o $@ $< \
	    $(BUILD)/libherald.a $(HLDLIBS) $(TESTLIBS)

# A herald with one more channel type, made from the test tree alone:
# tests/chan_carrier.c and one more line in chan_types.c's list (the
# proof, in tests/integration/chan_table.sh, that a type is one file plus
# one row).  Its own list object comes before the library, so the
# library's chan_types.o is not linked.
EXTRA    := $(BUILD)/tests/herald-extra
$(EXTRA): tests/chan_carrier.c svc/chan_types.c $(BUILD)/obj/main.o $(BUILD)/libherald.a | $(BUILD)/tests
	$(CC) $(HCFLAGS) -Wno-missing-prototypes '-DCHAN_TYPES_EXTRA(X)=X(carrier)' \
	    $(LDFLAGS) -o $@ tests/chan_carrier.c svc/chan_types.c \
	    $(BUILD)/obj/main.o $(BUILD)/libherald.a $(HLDLIBS)

# `make run`: the realistic plan, dry-run, demo secrets, database under var/.
run: deps $(BUILD)/herald
	@mkdir -p var
	$(BUILD)/herald run plans/acme-isms.json --db var/herald.db \
	    --listen 127.0.0.1:8080 --dry-run

test: deps deps-test $(BUILD)/herald $(TESTS) $(EXTRA)
	@tests/run-tests $(BUILD)

unit: $(BUILD)/herald $(TESTS) $(EXTRA)
	@HERALD_ONLY=unit tests/run-tests $(BUILD)

# The integration scripts only, HERALD_JOBS (default 3) at a time.
integration: deps deps-test $(BUILD)/herald $(EXTRA)
	@HERALD_ONLY=integration tests/run-tests $(BUILD)

# Includes only point down the layers of contrib/layers.
layers:
	@contrib/check-layers

# The whole suite under AddressSanitizer + UndefinedBehaviorSanitizer.
asan:
	$(MAKE) BUILD=build/asan OPT="-O1 -g -fno-omit-frame-pointer \
	    -fsanitize=address,undefined -fno-sanitize-recover=undefined" \
	    LDFLAGS="$(LDFLAGS) -fsanitize=address,undefined" test

# libFuzzer targets: FUZZ_TARGET=plan (the plan loader and schedule
# expansion) or inputs (member CSV files, tokens, times, addresses and the
# output escapers), seeded from the repository.
FUZZ_SECONDS ?= 60
FUZZ_TARGET ?= plan
FUZZ_SEEDS_plan = plans/*.json plans/*.yaml plans/examples/*.json tests/data/bad/*.json \
	tests/data/bad/*.yaml tests/fuzz/regressions/*
FUZZ_SEEDS_inputs = plans/people/*.csv tests/data/bad/people/*.csv tests/fuzz/regressions-inputs/*
fuzz: deps
	@mkdir -p build/fuzz fuzz-corpus/$(FUZZ_TARGET)
	clang -std=c17 -D_GNU_SOURCE -Iinclude -g -O1 \
	    -fsanitize=fuzzer,address,undefined \
	    $(shell $(PKG) --cflags $(LIBS_PC)) -o build/fuzz/fuzz_$(FUZZ_TARGET) \
	    tests/fuzz/fuzz_$(FUZZ_TARGET).c $(LIB_SRC) $(HLDLIBS)
	cp -n $(FUZZ_SEEDS_$(FUZZ_TARGET)) fuzz-corpus/$(FUZZ_TARGET)/ 2>/dev/null || true
	build/fuzz/fuzz_$(FUZZ_TARGET) -max_total_time=$(FUZZ_SECONDS) -timeout=5 \
	    -rss_limit_mb=2048 -max_len=65536 fuzz-corpus/$(FUZZ_TARGET)

# A soak outside `make test`: kill -9 every few seconds under delivery
# load, disk-full episodes (as root), bounded by SOAK_SECONDS (600).
soak: deps deps-test $(BUILD)/herald $(BUILD)/tests/test_evidence
	@HERALD=$(CURDIR)/$(BUILD)/herald PY=/usr/bin/python3 tests/soak/soak.sh

bench: deps deps-bench $(BUILD)/herald
	@tests/bench/run-bench $(BUILD)

install: $(BUILD)/herald
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BUILD)/herald $(DESTDIR)$(PREFIX)/bin/herald
	install -m 0644 contrib/herald.1 $(DESTDIR)$(PREFIX)/share/man/man1/herald.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/herald $(DESTDIR)$(PREFIX)/share/man/man1/herald.1

clean:
	rm -rf build

-include $(wildcard $(BUILD)/obj/*.d)
