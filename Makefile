# nntrace — build, test, bench, fuzz.  See README.md.
#
#   make                      build/nntrace, build/libnntrace.a, build/libnntrace.so
#   make check                unit tests, conformance corpus, end-to-end CLI tests
#   make unit                 unit tests only
#   make examples             build/examples/*
#   make bench                speed against ONNX Runtime (ratios), tracer overhead
#   make fuzz                 libFuzzer harnesses (clang) in build-fuzz/
#   make fuzz-ci              each harness, fixed seed and input count (CI)
#   make fuzz-explore         each harness FUZZ_SECS (600 s), random seed
#   make SANITIZE=address,undefined check    the same under ASan+UBSan (in build-san/)
#   make WERROR=1             warnings are errors (CI)
#   make layers               no source file includes a layer above its own
#   make install PREFIX=DIR   bin/, lib/ (.a, .so with soname), include/, lib/pkgconfig/nntrace.pc
#   make uninstall PREFIX=DIR

CC       ?= cc
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD    ?= build
SANFLAGS :=
else
BUILD    ?= build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
# leaks of system libraries nntrace cannot free (see the file)
export LSAN_OPTIONS := suppressions=$(CURDIR)/tests/lsan.supp
endif

PKGS     := openblas libpng zlib libmicrohttpd libgvc libedit jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# snprintf truncation is how we bound paths and messages on purpose.
WARN     := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wno-unused-parameter -Wno-format-truncation
ifeq ($(WERROR),1)
WARN     += -Werror
endif
OPT      ?= -O2 -g
ARCHFLAGS ?= -march=x86-64-v2 -mtune=native
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE $(PKG_CFLAGS)
CFLAGS   += -std=c11 $(OPT) $(ARCHFLAGS) $(WARN) -fPIC -pthread $(SANFLAGS)
LDLIBS   += $(PKG_LIBS) -lm -lpthread
LDFLAGS  += $(SANFLAGS) -pthread

LIB_SRC  := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
WEB_OBJ  := $(BUILD)/obj/web_assets.o

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLE_BIN := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)
CORPUS   ?= ../shared/onnx-node-tests

.PHONY: all lib check unit conformance conformance-update e2e examples bench fuzz fuzz-ci fuzz-explore clean layers install uninstall python-check
all: $(BUILD)/nntrace $(BUILD)/libnntrace.a $(BUILD)/libnntrace.so

lib: $(BUILD)/libnntrace.a $(BUILD)/libnntrace.so

# V=1 shows whole command lines.
ifeq ($(V),1)
Q :=
else
Q := @
endif

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

# The library's own objects hide every symbol that include/nntrace.h does not
# mark NT_API, so libnntrace.so exports exactly the public header (the static
# library and the CLI, linked statically, still see everything).
$(LIB_OBJ): CFLAGS += -fvisibility=hidden
# The element-wise float loops' AVX-512 clones (target_clones) use 512-bit
# vectors; gcc's tuning would keep them at 256 bits.  Same operations per
# element, so the same bits as the AVX2 and baseline clones.
$(BUILD)/obj/src/ops/unary.o $(BUILD)/obj/src/ops/binary.o: CFLAGS += -mprefer-vector-width=512

# The dashboard's front end is embedded into the binary (see scripts/embed.sh).
$(BUILD)/web_assets.c: scripts/embed.sh $(shell find web -type f ! -path '*/node_modules/*' 2>/dev/null)
	@mkdir -p $(dir $@)
	$(Q)sh scripts/embed.sh web $@

# The dashboard's npm libraries (uPlot), installed into web/vendor/ before embedding.
$(BUILD)/web_vendor.stamp: web/package.json scripts/web_vendor.sh
	@mkdir -p $(dir $@)
	$(Q)sh scripts/web_vendor.sh
	@touch $@

$(BUILD)/web_assets.c: $(BUILD)/web_vendor.stamp

$(WEB_OBJ): $(BUILD)/web_assets.c
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c $< -o $@

$(BUILD)/libnntrace.a: $(LIB_OBJ)
	@rm -f $@
	@$(if $(Q),echo "  AR      $@")
	$(Q)ar rcs $@ $^

# The soname carries the ABI's major version (NT_SOVERSION); bump it when a
# public struct or signature changes incompatibly.
NT_VERSION   := $(shell sed -n 's/^\#define NT_VERSION_STRING "\(.*\)"/\1/p' include/nntrace.h)
NT_SOVERSION := 0
# The public sections beside include/nntrace.h (installed as include/nntrace/).
PUBLIC_SUBHEADERS := $(wildcard include/nntrace/*.h)
# The version script lists the NT_API functions of the public headers, and hides the
# rest too (the resolvers gcc emits for target_clones ignore -fvisibility).
$(BUILD)/libnntrace.map: include/nntrace.h $(PUBLIC_SUBHEADERS)
	@mkdir -p $(dir $@)
	$(Q){ echo "{ global:"; sed -n 's/^NT_API .*[ *]\(nt_[a-z_0-9]*\)(.*/  \1;/p' $^; echo "  local: *; };"; } > $@
$(BUILD)/libnntrace.so: $(LIB_OBJ) $(BUILD)/libnntrace.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,-soname,libnntrace.so.$(NT_SOVERSION) -Wl,--version-script,$(BUILD)/libnntrace.map \
	    -o $@ $(LIB_OBJ) $(LDLIBS)

$(BUILD)/nntrace: $(CLI_OBJ) $(WEB_OBJ) $(BUILD)/libnntrace.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(WEB_OBJ) $(BUILD)/libnntrace.a $(LDLIBS)

# ---- tests
$(BUILD)/tests/test_%: tests/unit/test_%.c $(wildcard tests/unit/*.h) $(BUILD)/libnntrace.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) -Itests/unit $(CFLAGS) -o $@ $< $(BUILD)/libnntrace.a $(LDFLAGS) $(LDLIBS) -lcmocka

$(BUILD)/tests/conformance: tests/conformance/runner.c $(BUILD)/libnntrace.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libnntrace.a $(LDFLAGS) $(LDLIBS)

unit: $(UNIT_BIN)
	@sh tests/run_unit.sh $(BUILD) $(UNIT_BIN)

conformance: $(BUILD)/tests/conformance
	@$(BUILD)/tests/conformance --corpus $(CORPUS) --expect tests/conformance/expected.txt

e2e: all examples
	@NT_CORPUS=$(CORPUS) sh tests/e2e/run.sh $(BUILD)

# The Python tests run after e2e, which exports the models they use.
check: layers all unit conformance e2e
	@$(MAKE) --no-print-directory python-check

# The Python package's tests (pytest in .venv, made by scripts/setup.sh --test).
python-check: all
	@sh tests/python/run.sh $(BUILD)

layers:
	@sh scripts/check_layers.sh src

# ---- examples
examples: $(EXAMPLE_BIN)
$(BUILD)/examples/%: examples/%.c $(BUILD)/libnntrace.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libnntrace.a $(LDFLAGS) $(LDLIBS)

# ---- bench (needs models made by scripts/make_models.py and onnxruntime-node)
bench: all $(BUILD)/bench/writer_bench
	sh bench/run.sh $(BUILD)

$(BUILD)/bench/%: bench/%.c $(BUILD)/libnntrace.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -o $@ $< $(BUILD)/libnntrace.a $(LDFLAGS) $(LDLIBS)

# ---- fuzz
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=build-fuzz/obj/%.o)
# (clang has no -Wno-format-truncation; the objects are kept between builds
# and track their headers like the main build's.)
FUZZ_CFLAGS := -std=c11 -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer \
               $(filter-out -Wno-format-truncation,$(WARN)) -pthread
.SECONDARY: $(FUZZ_LIB_OBJ)
build-fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)clang $(CPPFLAGS) $(FUZZ_CFLAGS) -MMD -MP -c $< -o $@
build-fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	@$(if $(Q),echo "  LD      $@")
	$(Q)clang $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) $(LDLIBS)
fuzz: $(FUZZ_BIN)
	@echo "run e.g.: build-fuzz/fuzz_onnx -max_total_time=600 tests/fuzz/corpus/onnx"
	@echo "          sh tests/fuzz/run_fuzz_run.sh 300   (models that load, plan and run)"
# CI's stop: every harness on its corpus under ASan+UBSan, a fixed seed and
# number of inputs (reproducible: what passes here passes in CI).
fuzz-ci: $(FUZZ_BIN)
	sh tests/fuzz/fuzz_ci.sh
# Exploring: every harness FUZZ_SECS (600) with a random seed, corpus kept.
FUZZ_SECS ?= 600
fuzz-explore: $(FUZZ_BIN)
	sh tests/fuzz/fuzz_ci.sh $(FUZZ_SECS)
-include $(FUZZ_LIB_OBJ:.o=.d)

clean:
	rm -rf build build-san build-fuzz build-python

# ---- install (PREFIX=/usr/local; DESTDIR for staging)
PREFIX ?= /usr/local
LIBDIR := $(DESTDIR)$(PREFIX)/lib
install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(LIBDIR)/pkgconfig $(DESTDIR)$(PREFIX)/include
	install -m 755 $(BUILD)/nntrace $(DESTDIR)$(PREFIX)/bin/nntrace
	install -m 644 $(BUILD)/libnntrace.a $(LIBDIR)/libnntrace.a
	install -m 755 $(BUILD)/libnntrace.so $(LIBDIR)/libnntrace.so.$(NT_VERSION)
	ln -sf libnntrace.so.$(NT_VERSION) $(LIBDIR)/libnntrace.so.$(NT_SOVERSION)
	ln -sf libnntrace.so.$(NT_SOVERSION) $(LIBDIR)/libnntrace.so
	install -m 644 include/nntrace.h $(DESTDIR)$(PREFIX)/include/nntrace.h
	install -d $(DESTDIR)$(PREFIX)/include/nntrace
	install -m 644 $(PUBLIC_SUBHEADERS) $(DESTDIR)$(PREFIX)/include/nntrace/
	sh scripts/make_pc.sh "$(PREFIX)" "$(NT_VERSION)" "$(PKGS)" > $(LIBDIR)/pkgconfig/nntrace.pc
	sh scripts/make_pc.sh "$(PREFIX)" "$(NT_VERSION)" "$(PKGS)" static > $(LIBDIR)/pkgconfig/nntrace-static.pc
	@echo "installed into $(DESTDIR)$(PREFIX); build against it with: pkg-config --cflags --libs nntrace"

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/nntrace $(LIBDIR)/libnntrace.a $(LIBDIR)/libnntrace.so \
	      $(LIBDIR)/libnntrace.so.$(NT_SOVERSION) $(LIBDIR)/libnntrace.so.$(NT_VERSION) \
	      $(DESTDIR)$(PREFIX)/include/nntrace.h $(LIBDIR)/pkgconfig/nntrace.pc $(LIBDIR)/pkgconfig/nntrace-static.pc
	rm -f $(addprefix $(DESTDIR)$(PREFIX)/include/nntrace/,$(notdir $(PUBLIC_SUBHEADERS)))
	rmdir $(DESTDIR)$(PREFIX)/include/nntrace 2>/dev/null || true

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)

conformance-update: $(BUILD)/tests/conformance
	@$(BUILD)/tests/conformance --corpus $(CORPUS) --expect tests/conformance/expected.txt --update
