# atad: `make run` starts the daemon on the simulated board; `make demo` places
# a first call between two simulated adapters; `make test` runs every test.
# They install the Debian packages they need when missing.

SWIFT        ?= swift
SWIFT_ROOT   := $(shell dirname $$(dirname $$(readlink -f $$(command -v swiftc 2>/dev/null || echo /opt/swift/usr/bin/swiftc))))
EMBEDDED_LIB := $(SWIFT_ROOT)/lib/swift/embedded/x86_64-unknown-linux-gnu
FIRMWARE_DIR := .build-firmware
FIRMWARE     := $(FIRMWARE_DIR)/atad
PYTHON       ?= python3
SUDO         := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
ARCH         ?= arm64
VERSION      := $(shell sed -n 's/.*static let number = "\(.*\)"/\1/p' Sources/Daemon/Version.swift)

# Debian packages: to build, to run, and to test.
BUILD_PACKAGES := libspandsp-dev libgpiod-dev libasound2-dev libssl-dev libc-ares-dev pkg-config binutils
TEST_PACKAGES  := python3 file qemu-user-static debian-archive-keyring dpkg-dev espeak-ng sox \
                  kamailio sip-tester sipsak baresip-core dnsmasq-base iproute2 nftables conntrack coturn \
                  minimodem multimon-ng

# The firmware: Embedded Swift, whole-module, size-optimised, one section
# per function so the linker drops the copies every module carries.
# Link-time optimisation (lld, whole program) removes what each module
# specialised for itself; the machine outliner (run at link time, where
# LTO generates the code) and identical-code folding shave a few percent
# more, and the x86-64 unwind tables nothing uses are discarded. Packed
# relative relocations (DT_RELR, glibc 2.36) store the PIE's ~1,200
# pointer fix-ups as bitmaps instead of 24-byte entries. The Unicode
# tables of the standard library are replaced by answers for text that
# needs none (Cross/unicode-data-stubs.c, compiled to bitcode so LTO folds
# them in). The ARM builds use the same flags (Cross/*.toolset.json.in,
# Cross/link.sh).
EMBEDDED_FLAGS := --experimental-lto-mode=full \
  -Xswiftc -enable-experimental-feature -Xswiftc Embedded -Xswiftc -wmo \
  -Xswiftc -Osize -Xswiftc -Xfrontend -Xswiftc -function-sections -Xswiftc -use-ld=lld \
  -Xlinker --gc-sections -Xlinker --icf=all -Xlinker -mllvm=-enable-machine-outliner=always \
  -Xlinker --no-eh-frame-hdr -Xlinker $(CURDIR)/Cross/discard-unwind-tables.ld \
  -Xlinker -z -Xlinker pack-relative-relocs \
  -Xlinker $(CURDIR)/$(FIRMWARE_DIR)/unicode-data-stubs.o -Xlinker -lm

.PHONY: all build firmware run demo test unit-test scenario-test qemu-test rig-test deps test-deps cross deb clean bench

all: firmware

deps:
	@missing=""; for p in $(BUILD_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi

test-deps: deps
	@missing=""; for p in $(TEST_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; fi
	@$(PYTHON) -c 'import pytest' 2>/dev/null || $(PYTHON) -m pip install -q pytest
	@$(PYTHON) -c 'import pjsua2' 2>/dev/null || $(PYTHON) -m pip install -q pjsua2-python 2>/dev/null || $(PYTHON) -m pip install -q --break-system-packages pjsua2-python

build: deps
	$(SWIFT) build

# The product: the Embedded Swift binary, stripped. Its own scratch folder,
# since SwiftPM does not rebuild when only -X flags change. spandsp comes
# from its static archive (Cross/pkgconfig-static/spandsp.pc).
firmware: deps
	@flags="$$({ echo '$(EMBEDDED_FLAGS)'; cat Cross/pkgconfig-static/*.pc; } | sha256sum | cut -c1-16)"; \
	if [ "$$(cat $(FIRMWARE_DIR)/work/.atad-flags 2>/dev/null)" != "$$flags" ]; then \
	  rm -rf $(FIRMWARE_DIR)/work; mkdir -p $(FIRMWARE_DIR)/work; echo "$$flags" > $(FIRMWARE_DIR)/work/.atad-flags; fi
	$(SWIFT_ROOT)/bin/clang -flto=full -Os -fPIC -c Cross/unicode-data-stubs.c -o $(FIRMWARE_DIR)/unicode-data-stubs.o
	PKG_CONFIG_PATH=$(CURDIR)/Cross/pkgconfig-static $(SWIFT) build -c release --product atad --scratch-path $(FIRMWARE_DIR)/work $(EMBEDDED_FLAGS)
	strip -o $(FIRMWARE) $(FIRMWARE_DIR)/work/release/atad
	@echo "firmware: $(FIRMWARE): $$(stat -c %s $(FIRMWARE)) bytes stripped"
	@bash Cross/check-size.sh amd64 $(FIRMWARE)

run: firmware
	$(FIRMWARE) run --config etc/sim.conf

# A first call, no hardware and no SIP server: two daemons on loopback, one
# calling the other; prints what each handset heard and the SIP exchanged.
demo: firmware
	@command -v $(PYTHON) >/dev/null || { echo "installing: python3"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq python3; }
	$(PYTHON) demo/demo.py --atad $(FIRMWARE)

unit-test: build
	$(SWIFT) test

scenario-test: firmware test-deps
	bash Debian/build-deb.sh amd64 $(FIRMWARE) .build-deb
	ATAD_BIN=$(CURDIR)/$(FIRMWARE) ATAD_DEB=$(CURDIR)/.build-deb/atad_$(VERSION)_amd64.deb \
	  $(PYTHON) -m pytest -q Tests/Scenarios bench/test_bench_parsing.py

test: test-deps
	$(MAKE) unit-test
	$(MAKE) scenario-test
	$(MAKE) qemu-test
	$(MAKE) rig-test

cross: deps
	bash Cross/build.sh $(ARCH)

# The ARM firmware under qemu-user: the same scenario suite as the host build,
# less what only waits out real time (marked slow: the 20 s howler, 30 s of
# speech; they ran on the host build) and the self-tests of the SIP peers,
# which do not involve atad.
qemu-test: test-deps
	@for arch in arm64 armhf; do \
	  bash Cross/build.sh $$arch || exit 1; \
	  printf '#!/bin/sh\nexec env -u ATAD_BIN bash $(CURDIR)/Cross/run-qemu.sh %s "$$@"\n' $$arch > .build-cross/$$arch/atad-qemu; \
	  chmod +x .build-cross/$$arch/atad-qemu; \
	  echo "== scenario tests on $$arch under qemu"; \
	  bash Debian/build-deb.sh $$arch .build-cross/$$arch/atad .build-deb || exit 1; \
	  ATAD_BIN=$(CURDIR)/.build-cross/$$arch/atad-qemu ATAD_UNDER_QEMU=1 \
	    ATAD_DEB=$(CURDIR)/.build-deb/atad_$(VERSION)_$$arch.deb $(PYTHON) -m pytest -q -m "not slow" \
	    --ignore=Tests/Scenarios/test_sip_peers.py --ignore=Tests/Scenarios/test_media_peers.py Tests/Scenarios || exit 1; \
	done

# Board in a box: the gpio driver against a real Linux kernel (Debian's own,
# under qemu-system-x86_64 without KVM) with simulated hardware: gpio-sim for
# the SLIC's lines, snd-aloop for the sound card (Board/box.conf). The kernel,
# its headers and source and busybox are downloaded and unpacked into
# .build-rig/, never installed; gpio-sim is built there. The tests
# (Tests/Rig) run inside the VM. The last part of `make test`. Takes the
# build lock itself: do not wrap it in flock.
RIG_PACKAGES := qemu-system-x86 gcc-12 make xz-utils
rig-test: firmware test-deps
	@missing=""; for p in $(RIG_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi
	bash Tests/Rig/prepare.sh
	ATAD_BIN=$(CURDIR)/$(FIRMWARE) $(PYTHON) Tests/Rig/run.py --timeout 600 --env ATAD_BIN -- \
	  "$$($(PYTHON) -c 'import sys; print(sys.executable)')" -m pytest -q -p no:cacheprovider Tests/Rig

clean:
	rm -rf .build .build-firmware .build-cross .build-deb .build-rig

# A Debian package: `make deb ARCH=amd64|arm64|armhf` -> .build-deb/atad_VERSION_ARCH.deb
deb: deps
	@if [ "$(ARCH)" = amd64 ]; then $(MAKE) firmware >/dev/null && bin=$(FIRMWARE); \
	 else bash Cross/build.sh $(ARCH) >/dev/null && bin=.build-cross/$(ARCH)/atad; fi; \
	 bash Debian/build-deb.sh $(ARCH) $$bin .build-deb

# `make bench`: atad against baresip on this machine (footprint, memory, CPU
# per call, start-up, lines per core, latency; several minutes), and the gpio
# path against the simulated board in the rig's VM (Tests/Rig). Prints the
# tables and writes docs/BENCHMARKS.md. Not part of `make test`. Builds the
# firmware only when it is missing; see bench/README.md.
bench: test-deps
	@dpkg -s valgrind >/dev/null 2>&1 || { echo "installing: valgrind"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq valgrind; }
	@missing=""; for p in $(RIG_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; fi
	@[ -x $(FIRMWARE) ] || $(MAKE) firmware
	bash Tests/Rig/prepare.sh
	$(PYTHON) bench/run_bench.py --atad $(FIRMWARE) --output docs/BENCHMARKS.md
