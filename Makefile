# SPDX-License-Identifier: Apache-2.0
# uringprov - OpenSSL 3 provider that offloads private-key work to io_uring-driven worker threads.
#
#   make                  build/uringprov.so
#   make test             install missing Debian packages, build, run the whole suite
#   make demo             install missing Debian packages, build, show openssl speed with and without
#   make bench            side-by-side benchmarks (docs/benchmarks.md)
#   make install          the module into libcrypto's modulesdir, uringprov(7) into the manual
#                         (DESTDIR and PREFIX honoured)
#   make deb              the Debian package openssl-provider-uringprov, into build/deb
#   make SANITIZE=address,undefined test      make SANITIZE=thread test      make CC=clang
#   make MB=no            build without crypto_mb (no multi-buffer batches)
#   V=1                   show the commands

CC         ?= cc
PKG_CONFIG ?= pkg-config
BUILD      ?= build
PREFIX     ?= /usr/local
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
SANITIZE   ?=

ifeq ($(origin CC),default)
CC := cc
endif

# Another OpenSSL (the version matrix): make OPENSSL_PREFIX=DIR BUILD=build-35 all|check builds
# against the OpenSSL installed in DIR (tools/openssl.sh): libcrypto and libssl from its pkg-config
# files (liburing and check still from the system's), an rpath to DIR/lib in the module and the test
# binaries, and DIR/bin first in PATH (its openssl) and DIR/lib in LD_LIBRARY_PATH (evp_test, and
# 3.x: the system's servers and curl then run on DIR's libssl.so.3) for the recipes; the fuzz build
# gets a directory of its own too. $(shell) does not see exported variables before make 4.4, hence
# the env in PKG_CONFIG.
OPENSSL_PREFIX ?=
ifneq ($(OPENSSL_PREFIX),)
ifeq ($(BUILD),build)
$(error OPENSSL_PREFIX needs a build directory of its own, such as BUILD=build-35)
endif
export PKG_CONFIG_PATH := $(OPENSSL_PREFIX)/lib/pkgconfig$(if $(PKG_CONFIG_PATH),:$(PKG_CONFIG_PATH))
override PKG_CONFIG    := env PKG_CONFIG_PATH=$(PKG_CONFIG_PATH) $(PKG_CONFIG)
LDFLAGS                += -Wl,-rpath,$(OPENSSL_PREFIX)/lib
export PATH            := $(OPENSSL_PREFIX)/bin:$(PATH)
export LD_LIBRARY_PATH := $(OPENSSL_PREFIX)/lib$(if $(LD_LIBRARY_PATH),:$(LD_LIBRARY_PATH))
export OPENSSL_PREFIX
export FUZZ_BUILD      ?= $(BUILD)-fuzz
endif

OPENSSL_MODULESDIR := $(shell $(PKG_CONFIG) --variable=modulesdir libcrypto 2>/dev/null)
# modulesdir is absolute (/usr/lib/<triplet>/ossl-modules); PREFIX moves it only when it is not /usr.
ifeq ($(PREFIX),/usr)
MODULESDIR ?= $(OPENSSL_MODULESDIR)
else ifeq ($(PREFIX),/usr/local)
MODULESDIR ?= $(OPENSSL_MODULESDIR)
else
MODULESDIR ?= $(PREFIX)/lib/ossl-modules
endif

# What debian/control's Build-Depends name, then the tools that build and check the package (make
# deb, the CI's package stage): debhelper, lintian, man for the manual page's warnings.
BUILD_DEPS      := build-essential pkg-config libssl-dev liburing-dev check dpkg-dev
PACKAGING_TOOLS := debhelper lintian man-db groff-base
DEBIAN_PACKAGES := $(BUILD_DEPS) openssl clang valgrind curl haproxy nginx nghttp2-client \
                   gnuplot-nox libseccomp-dev linux-perf libclang-rt-dev $(PACKAGING_TOOLS)

# crypto_mb (multi-buffer batches): the distribution's libcrypto-mb-dev where it has one (Debian 13
# and later), else a static build from Debian's ipp-crypto source, made by `make deps` into a cache
# outside the clone (tools/crypto_mb.sh) and linked into the module with its symbols hidden.
# MB_FROM says which (make print-mb), for debian/rules.
MB         ?= auto
MB_VERSION := 2021.12.1
MB_CACHE   ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/uringprov/crypto_mb-$(MB_VERSION)
MB_FROM    := none
ifeq ($(MB),no)
MB_CFLAGS  :=
MB_LIBS    :=
else ifneq ($(wildcard /usr/include/crypto_mb/rsa.h),)
MB_FROM    := system
MB_CFLAGS  := -DUO_HAVE_CRYPTO_MB
MB_LIBS    := -lcrypto_mb
else ifneq ($(wildcard $(MB_CACHE)/lib/libcrypto_mb.a),)
MB_FROM    := static
MB_CFLAGS  := -DUO_HAVE_CRYPTO_MB -I$(MB_CACHE)/include
MB_LIBS    := $(MB_CACHE)/lib/libcrypto_mb.a
endif

WARN     := -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wstrict-prototypes \
            -Wno-unused-parameter
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -fPIC -fvisibility=hidden $(WARN) -Iinclude -MMD -MP \
            $(shell $(PKG_CONFIG) --cflags libcrypto liburing 2>/dev/null)
CFLAGS   += $(MB_CFLAGS)
LIBS     := $(MB_LIBS) $(shell $(PKG_CONFIG) --libs libcrypto liburing 2>/dev/null) -lpthread
SOFLAGS  := -shared -Wl,--version-script=provider/uringprov.map -Wl,-z,nodelete
TEST_LIBS := $(shell $(PKG_CONFIG) --libs check libssl libcrypto 2>/dev/null) -lpthread

ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -O1
LDFLAGS  += -fsanitize=$(SANITIZE)
else
SOFLAGS  += -Wl,-z,defs
endif

ifeq ($(V),1)
Q :=
else
Q := @
endif

OFFLOAD_SRC  := $(wildcard offload/*.c)
MB_SRC       := $(wildcard mb/*.c)
PROVIDER_SRC := $(wildcard provider/*.c)
OFFLOAD_OBJ  := $(OFFLOAD_SRC:%.c=$(BUILD)/%.o)
MB_OBJ       := $(MB_SRC:%.c=$(BUILD)/%.o)
PROVIDER_OBJ := $(PROVIDER_SRC:%.c=$(BUILD)/%.o)
TEST_SRC     := $(wildcard test/test_*.c)
TEST_BIN     := $(TEST_SRC:test/%.c=$(BUILD)/test/%)
TEST_HELPERS := $(wildcard test/helpers/*.c)
TEST_HELPER_OBJ := $(TEST_HELPERS:%.c=$(BUILD)/%.o)

MODULE := $(BUILD)/uringprov.so

.PHONY: all deps test check demo bench install uninstall clean deb print-mb
.SECONDARY:
all: $(MODULE)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/liboffload.a: $(OFFLOAD_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

$(BUILD)/libmb.a: $(MB_OBJ)
	@$(if $(Q),echo "  AR      $@")
	$(Q)$(AR) rcs $@ $^

$(MODULE): $(PROVIDER_OBJ) $(BUILD)/liboffload.a $(BUILD)/libmb.a provider/uringprov.map
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) $(SOFLAGS) -o $@ $(PROVIDER_OBJ) $(BUILD)/liboffload.a $(BUILD)/libmb.a \
	    $(LIBS)

# Unit tests link the offload and multi-buffer libraries statically; provider tests load
# build/uringprov.so at run time.
$(BUILD)/test/%: $(BUILD)/test/%.o $(TEST_HELPER_OBJ) $(BUILD)/liboffload.a $(BUILD)/libmb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(TEST_HELPER_OBJ) $(BUILD)/liboffload.a $(BUILD)/libmb.a \
	    $(TEST_LIBS) $(LIBS)

$(BUILD)/test/%.o: CFLAGS += $(shell $(PKG_CONFIG) --cflags check 2>/dev/null) -Wno-missing-prototypes

# test_faults installs seccomp filters (io_uring_setup and thread creation made to fail).
$(BUILD)/test/test_faults: TEST_LIBS += $(shell $(PKG_CONFIG) --libs libseccomp 2>/dev/null)

deps:
	@sh test/deps.sh $(DEBIAN_PACKAGES)
	@MB=$(MB) sh tools/crypto_mb.sh $(MB_VERSION) $(MB_CACHE)

check: $(MODULE) $(TEST_BIN)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) sh test/run-all.sh $(TEST_BIN)

test: deps
	@$(MAKE) --no-print-directory check

demo: deps
	@$(MAKE) --no-print-directory all
	@sh test/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/latency $(BUILD)/bench/mb_limit
	@BUILD=$(BUILD) sh bench/run.sh

install: $(MODULE)
	install -d $(DESTDIR)$(MODULESDIR) $(DESTDIR)$(MANDIR)/man7
	install -m 0755 $(MODULE) $(DESTDIR)$(MODULESDIR)/uringprov.so
	install -m 0644 man/uringprov.7 $(DESTDIR)$(MANDIR)/man7/uringprov.7

uninstall:
	rm -f $(DESTDIR)$(MODULESDIR)/uringprov.so $(DESTDIR)$(MANDIR)/man7/uringprov.7

# The Debian package: the build dependencies and packaging tools, crypto_mb as make deps makes it,
# then dpkg-buildpackage on a copy of the tree (tools/deb.sh), so that the .deb and .changes land in
# DEB_OUT and not in the clone's parent directory. MB=no, or the build profile pkg.uringprov.nomb
# (DEB_BUILD_PROFILES), makes a package without batches.
DEB_OUT ?= $(BUILD)/deb
ifeq ($(MB),no)
DEB_PROFILES := $(strip $(DEB_BUILD_PROFILES) pkg.uringprov.nomb)
else
DEB_PROFILES := $(DEB_BUILD_PROFILES)
endif
deb:
	@sh test/deps.sh $(BUILD_DEPS) $(PACKAGING_TOOLS)
	@$(if $(filter pkg.uringprov.nomb,$(DEB_PROFILES)),:,sh tools/crypto_mb.sh $(MB_VERSION) $(MB_CACHE))
	@DEB_BUILD_PROFILES="$(DEB_PROFILES)" MB_CACHE=$(MB_CACHE) sh tools/deb.sh $(DEB_OUT)

# Where crypto_mb comes from with these settings: "system", "static CACHE_DIR" or "none CACHE_DIR".
print-mb:
	@echo $(MB_FROM)$(if $(filter system,$(MB_FROM)),, $(MB_CACHE))

clean:
	rm -rf $(BUILD)

-include $(OFFLOAD_OBJ:.o=.d) $(MB_OBJ:.o=.d) $(PROVIDER_OBJ:.o=.d) $(TEST_SRC:test/%.c=$(BUILD)/test/%.d) \
         $(TEST_HELPER_OBJ:.o=.d)

$(BUILD)/bench/latency: bench/latency.c $(TEST_HELPER_OBJ) $(MODULE)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ bench/latency.c $(TEST_HELPER_OBJ) $(TEST_LIBS) $(LIBS)

# The multi-buffer limit: the mb layer alone, eight full lanes on every CPU (docs/benchmarks.md).
$(BUILD)/bench/mb_limit: bench/mb_limit.c $(BUILD)/libmb.a
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ bench/mb_limit.c $(BUILD)/libmb.a $(LIBS)
