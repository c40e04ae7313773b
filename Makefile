# Vibify - one non-recursive Makefile.
#
#   make                 build every program into bin/
#   make check           run the test suite (prove); SANITIZE=1 for ASan+UBSan
#   make deps            install the Debian packages needed (as root)
#   make install         PREFIX=/usr/local DESTDIR=
#   make bench           side-by-side benchmarks against the Python peers
#   make fuzz            run each libFuzzer target for FUZZ_SECONDS
#   make pipeline        the whole data/model pipeline (see pipeline.mk)

VERSION   := 0.1
PREFIX    ?= /usr/local
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
DATADIR   ?= $(PREFIX)/share/vibify
DESTDIR   ?=

CC        ?= cc
PKGS      := libpng libjpeg yaml-0.1 jansson libxml-2.0
CFLAGS    ?= -O2 -g
override CFLAGS += -std=gnu11 -Wall -Wextra -pthread -MMD -MP \
	-DVB_VERSION='"$(VERSION)"' -DVB_DATADIR='"$(DATADIR)"' \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/x86_64-linux-gnu/openblas-pthread
LDLIBS    += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lopenblas -llapacke -lm -pthread

ifdef SANITIZE
OUT       := build/san
BIN       := build/san/bin
override CFLAGS += -O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS   += -fsanitize=address,undefined
else
OUT       := build/rel
BIN       := bin
endif

LIB_SRC   := $(sort $(wildcard lib/*.c))
LIB_OBJ   := $(LIB_SRC:%.c=$(OUT)/%.o)
LIB_A     := $(OUT)/libvibify.a
TOOLS     := $(sort $(basename $(notdir $(wildcard tools/*.c))))
PROGS     := $(TOOLS:%=$(BIN)/%)
UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
UNITS     := $(UNIT_SRC:tests/unit/%.c=$(OUT)/unit/%)
FUZZ_SRC  := $(sort $(wildcard fuzz/*.c))
MANS      := $(sort $(wildcard man/*.1 man/*.7))

all: $(PROGS) $(UNITS)

$(OUT)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -iquote lib -c -o $@ $<

$(LIB_A): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(PROGS): $(BIN)/%: $(OUT)/tools/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# emotion-predict runs once per photo (or stream) and is timed whole: with
# OpenBLAS linked in statically, only the part it uses and no libgfortran,
# it starts 6 ms sooner (a 26 MB program instead of 1 MB).
OPENBLAS_A := /usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.a
ifneq ($(wildcard $(OPENBLAS_A)),)
$(BIN)/emotion-predict: LDLIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) $(OPENBLAS_A) -lm -pthread
endif

$(UNITS): $(OUT)/unit/%: $(OUT)/tests/unit/%.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# --- dependencies -------------------------------------------------------
deps:
	@scripts/deps.sh test
deps-bench:
	@scripts/deps.sh bench

# --- tests --------------------------------------------------------------
PROVE_FLAGS ?= -j2
check: deps
	@$(MAKE) --no-print-directory all
	VB_BIN=$(CURDIR)/$(BIN) VB_UNIT=$(CURDIR)/$(OUT)/unit prove $(PROVE_FLAGS) --exec /bin/bash tests/*.t

# --- fuzzing (clang + libFuzzer) ----------------------------------------
FUZZ_SECONDS ?= 180
FUZZ_OUT  := build/fuzz
FUZZERS   := $(FUZZ_SRC:fuzz/%.c=$(FUZZ_OUT)/%)
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -std=gnu11 -iquote lib -pthread \
	$(shell pkg-config --cflags $(PKGS) 2>/dev/null) -I/usr/include/x86_64-linux-gnu/openblas-pthread
$(FUZZERS): $(FUZZ_OUT)/%: fuzz/%.c $(LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -o $@ $< $(LIB_SRC) $(LDLIBS)
fuzz: deps $(FUZZERS)
	@set -e; for f in $(FUZZERS); do n=$${f##*/}; mkdir -p $(FUZZ_OUT)/corpus-$$n; \
	  echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=1 \
	      $(FUZZ_OUT)/corpus-$$n $$( [ -d fuzz/seeds/$$n ] && echo fuzz/seeds/$$n ) ; done

# --- benchmarks ---------------------------------------------------------
bench: deps-bench all
	bench/run

# --- install ------------------------------------------------------------
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR)/models $(DESTDIR)$(DATADIR)/schemas
	install -m 755 $(PROGS) $(DESTDIR)$(BINDIR)/
	install -m 644 $(wildcard man/*.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 $(wildcard man/*.7) $(DESTDIR)$(MANDIR)/man7/
	install -m 644 $(filter-out models/production.safetensors,$(wildcard models/*.yaml models/*.safetensors)) \
	  $(DESTDIR)$(DATADIR)/models/
	install -m 644 $(wildcard schemas/*.yaml) $(DESTDIR)$(DATADIR)/schemas/

uninstall:
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) \
	  $(patsubst man/%,$(DESTDIR)$(MANDIR)/man1/%,$(wildcard man/*.1)) \
	  $(patsubst man/%,$(DESTDIR)$(MANDIR)/man7/%,$(wildcard man/*.7))
	rm -rf $(DESTDIR)$(DATADIR)

clean:
	rm -rf build bin

-include pipeline.mk
-include $(shell find build -name '*.d' 2>/dev/null)

.PHONY: all deps deps-bench check fuzz bench install uninstall clean
.DELETE_ON_ERROR:
