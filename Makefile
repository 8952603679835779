# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make` builds everything into build/. Quiet by default; V=1 shows commands.
#   make demo          install what is missing, build, run the main job: a
#                      host reading over AF_XDP with DDP from a target
#   make test          install what is missing, build, run every test suite
#   make bench         reads end to end: AF_XDP and kernel sockets, with and
#                      without DDP, throughput and CPU cycles per byte
#   make bench-threshold  the same for 8K-64K reads: where placing pays
#   make bench-digest  the same with data digests: the CRC offloaded
#   make bench-engine  engine costs measured with BPF_PROG_TEST_RUN
#   make kmod          kmod_glue's module for the running Debian kernel
#                      (KVER=, BASE_BTF= for another): build/kmod/ddp_glue.ko
#   make vmlinux       regenerate vmlinux.h from the running kernel's BTF
#
# Sources are found by folder, a folder being a layer (docs/ARCHITECTURE.md):
# a file added to a folder is built with it. In l5p_userspace/host and
# l5p_userspace/target, host*.c and target*.c are the host and the target
# (what the fuzzers take); the other files are the program's command line.

OUT := build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= gcc
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

# One include path per library: the ABI header, libddp's headers, and the
# L5P layers by folder ("nvme/nvme.h", "xport/xport.h").
INCLUDES := -Ibpf -Iloader/libddp -Il5p_userspace -I$(OUT)
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror \
	-D__TARGET_ARCH_$(ARCH) -I. -Ibpf -I$(OUT)
CFLAGS := -g -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE $(INCLUDES)
LIBBPF_LIBS := -lxdp $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lpthread

BPF_HDRS := $(wildcard bpf/*.h) vmlinux.h $(OUT)/ddp_crc32c_tab.h
# loader/: the library, and ddpctl over it
LIBDDP_SRCS := $(wildcard loader/libddp/*.c)
LIBDDP_HDRS := $(wildcard loader/libddp/*.h) bpf/ddp.h bpf/ddp_records.h
LIBDDP_OBJS := $(LIBDDP_SRCS:%.c=$(OUT)/%.o)
DDPCTL_SRCS := $(wildcard loader/ddpctl/*.c)
# l5p_userspace/: the protocol and the streams (libl5p), the host, the target
L5P_LIB_SRCS := $(wildcard l5p_userspace/nvme/*.c l5p_userspace/xport/*.c)
L5P_LIB_OBJS := $(L5P_LIB_SRCS:%.c=$(OUT)/%.o)
L5P_HDRS := $(wildcard l5p_userspace/*/*.h) bpf/ddp.h bpf/ddp_records.h loader/libddp/libddp.h
HOST_SRCS := $(wildcard l5p_userspace/host/*.c)
TARGET_SRCS := $(wildcard l5p_userspace/target/*.c)
# tests/ mirrors the source tree; tests/lib is theirs in common
TESTLIB_SRCS := $(filter-out %.bpf.c,$(wildcard tests/lib/*.c))
ENGINE_TEST_SRCS := $(wildcard tests/bpf/*.c)
ENGINE_HARNESS_SRCS := $(filter-out tests/bpf/test_%.c,$(ENGINE_TEST_SRCS))
LIBDDP_TEST_SRCS := $(wildcard tests/loader/libddp/*.c)
L5P_TEST_SRCS := $(wildcard tests/l5p_userspace/nvme/*.c \
	tests/l5p_userspace/host/*.c \
	tests/l5p_userspace/target/*.c)
UTCP_TEST_DIR := tests/l5p_userspace/xport
UTCP_TEST_SRCS := $(filter-out %.bpf.c,$(wildcard $(UTCP_TEST_DIR)/*.c))
TEST_BPF_SRCS := $(wildcard tests/*/*.bpf.c tests/*/*/*.bpf.c)
TEST_BPF_DIRS := $(sort $(dir $(TEST_BPF_SRCS)))
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,$(OUT)/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps demo test test-layers test-engine test-veth \
	test-ddpctl test-fuzz test-interop test-l5p test-e2e test-utcp \
	test-kernel test-kmod test-scale kmod bench \
	bench-threshold bench-digest bench-loss bench-engine vmlinux

all: $(OUT)/ddp.bpf.o $(OUT)/libddp.a $(OUT)/ddpctl $(OUT)/ddp-target \
	$(OUT)/ddp-host $(OUT)/test_engine $(OUT)/test_libddp $(OUT)/test_l5p \
	$(OUT)/bench_engine $(OUT)/veth_place $(OUT)/xdp_pass.bpf.o \
	$(OUT)/ddp_hold $(OUT)/test_utcp $(OUT)/fault_inject $(FUZZERS)

$(OUT):
	$(Q)mkdir -p $@

# The engine's CRC32C tables, computed at build time
$(OUT)/ddp_crc32c_tab.h: scripts/gen_crc32c_tab.c | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(CC) -O2 -Wall -Werror $< -o $(OUT)/gen_crc32c_tab
	$(Q)$(OUT)/gen_crc32c_tab > $@

# BPF objects: compile, link with bpftool (as libbpf-bootstrap), skeleton.
# The engine's from bpf/, the tests' from wherever their folder is.
$(OUT)/%.tmp.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

vpath %.bpf.c $(TEST_BPF_DIRS)
$(OUT)/%.tmp.bpf.o: %.bpf.c $(BPF_HDRS) \
		$(wildcard $(addsuffix *.h,$(TEST_BPF_DIRS))) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# The control library, and ddpctl
$(OUT)/loader/libddp/%.o: loader/libddp/%.c $(OUT)/ddp.skel.h \
		$(OUT)/ddp_probe.skel.h $(LIBDDP_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libddp.a: $(LIBDDP_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/ddpctl: $(DDPCTL_SRCS) $(wildcard loader/ddpctl/*.h) $(LIBDDP_HDRS) \
		$(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(DDPCTL_SRCS) -o $@ $(OUT)/libddp.a \
		$(LIBBPF_LIBS) -lpthread

# NVMe/TCP: protocol and streams, the target, the host
$(OUT)/l5p_userspace/%.o: l5p_userspace/%.c $(L5P_HDRS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libl5p.a: $(L5P_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/ddp-target: $(TARGET_SRCS) $(L5P_HDRS) $(OUT)/libl5p.a $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(TARGET_SRCS) -o $@ \
		$(OUT)/libl5p.a $(OUT)/libddp.a $(LIBBPF_LIBS) -lisal

$(OUT)/ddp-host: $(HOST_SRCS) $(L5P_HDRS) $(OUT)/libl5p.a $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $(HOST_SRCS) -o $@ \
		$(OUT)/libl5p.a $(OUT)/libddp.a $(LIBBPF_LIBS) -lisal -lm

$(OUT)/test_l5p: $(L5P_TEST_SRCS) $(wildcard tests/l5p_userspace/*/*.h) \
		$(L5P_HDRS) $(OUT)/libl5p.a $(OUT)/libddp.a $(OUT)/ddp-target \
		$(OUT)/ddp-host
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(L5P_TEST_SRCS) -o $@ $(OUT)/libl5p.a $(OUT)/libddp.a \
		-lcriterion $(LIBBPF_LIBS) -lisal

# utcp against the kernel's TCP, faults injected by utcp_fault.bpf.o
$(OUT)/test_utcp: $(UTCP_TEST_SRCS) $(wildcard $(UTCP_TEST_DIR)/*.h) \
		tests/lib/bpffs.c $(L5P_HDRS) $(OUT)/libl5p.a $(OUT)/libddp.a \
		$(OUT)/utcp_fault.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(UTCP_TEST_SRCS) tests/lib/bpffs.c -o $@ $(OUT)/libl5p.a \
		$(OUT)/libddp.a \
		-lcriterion $(LIBBPF_LIBS) -lisal

# faults for the end-to-end tests, the utcp tests' programs
$(OUT)/fault_inject: tests/e2e/fault_inject.c $(UTCP_TEST_DIR)/fault_env.c \
		$(UTCP_TEST_DIR)/fault_env.h $(OUT)/utcp_fault.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -I$(UTCP_TEST_DIR) $< $(UTCP_TEST_DIR)/fault_env.c \
		-o $@ $(LIBBPF_LIBS)

# libFuzzer targets: the PDU decoders of the host and the target. A fuzzer
# includes host.c or target.c (for their static functions) and links the
# rest of its folder's host*.c or target*.c.
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
	$(INCLUDES)
$(OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(L5P_HDRS) $(wildcard l5p_userspace/*/*.c) \
		$(OUT)/libddp.a
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(wildcard l5p_userspace/$*/$*_*.c) \
		$(L5P_LIB_SRCS) -o $@ $(OUT)/libddp.a $(LIBBPF_LIBS) -lisal

# Tests and benchmarks. The library's tests drive the engine through the
# engine tests' harness.
$(OUT)/test_engine: $(ENGINE_TEST_SRCS) $(TESTLIB_SRCS) \
		$(wildcard tests/bpf/*.h tests/lib/*.h) $(LIBDDP_HDRS) \
		$(OUT)/libddp.a $(OUT)/xdp_pass.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(ENGINE_TEST_SRCS) $(TESTLIB_SRCS) \
		-o $@ $(OUT)/libddp.a -lcriterion $(LIBBPF_LIBS)

$(OUT)/test_libddp: $(LIBDDP_TEST_SRCS) $(ENGINE_HARNESS_SRCS) $(TESTLIB_SRCS) \
		$(wildcard tests/loader/libddp/*.h tests/bpf/*.h tests/lib/*.h) \
		$(LIBDDP_HDRS) \
		$(OUT)/libddp.a $(OUT)/xdp_pass.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/bpf -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(LIBDDP_TEST_SRCS) $(ENGINE_HARNESS_SRCS) $(TESTLIB_SRCS) \
		-o $@ $(OUT)/libddp.a -lcriterion $(LIBBPF_LIBS)

$(OUT)/bench_engine: tests/bench/bench_engine.c $(TESTLIB_SRCS) \
		$(OUT)/bench_engine.skel.h $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(TESTLIB_SRCS) -o $@ \
		$(OUT)/libddp.a $(LIBBPF_LIBS) -lisal

$(OUT)/ddp_hold: tests/loader/ddpctl/ddp_hold.c $(TESTLIB_SRCS) $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(TESTLIB_SRCS) -o $@ \
		$(OUT)/libddp.a $(LIBBPF_LIBS)

$(OUT)/veth_place: tests/bpf/veth/veth_place.c $(TESTLIB_SRCS) $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(TESTLIB_SRCS) -o $@ \
		$(OUT)/libddp.a $(LIBBPF_LIBS)

deps:
	$(Q)scripts/deps.sh

# The README's test command: installs, builds, runs every suite.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory test-layers test-engine test-veth \
		test-ddpctl test-l5p test-utcp test-e2e test-fuzz test-interop \
		test-kernel

# Which layer includes which, from the compiler's own dependencies; fails
# on an include upwards or a cycle. Needs no build.
test-layers:
	$(Q)CC="$(CC)" INCLUDES="$(INCLUDES)" scripts/layers.sh

# The engine's suite, then the library's (on veth)
test-engine: $(OUT)/test_engine $(OUT)/test_libddp
	$(Q)$(OUT)/test_engine --jobs 2
	$(Q)$(OUT)/test_libddp --jobs 2

test-veth: $(OUT)/ddp.bpf.o $(OUT)/veth_place
	$(Q)tests/bpf/veth/veth_attach.sh $(OUT)/ddp.bpf.o
	$(Q)tests/bpf/veth/veth_place.sh $(OUT)/veth_place >/dev/null
	@echo "veth_place: native XDP placement on veth verified: ok"

# Each fuzzer replays its seeds and the inputs that once broke it, then
# searches for FUZZ_SECONDS.
FUZZ_SECONDS ?= 20
test-fuzz: $(FUZZERS)
	$(Q)for f in $(FUZZERS); do \
		n=$${f##*/fuzz_}; dir=$(OUT)/fuzz-corpus/$$n; mkdir -p $$dir; \
		$$f -runs=0 tests/fuzz/seeds/$$n tests/fuzz/regress/$$n \
			>$$dir.log 2>&1 || { tail -30 $$dir.log; exit 1; }; \
		$$f -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $$dir \
			tests/fuzz/seeds/$$n >$$dir.log 2>&1 || \
			{ tail -30 $$dir.log; exit 1; }; \
		echo "fuzz_$$n: $$(grep -o 'Done [0-9]* runs' $$dir.log), no crash"; \
	done

# Independent implementations: the Linux kernel's NVMe/TCP target under
# qemu against our host; Wireshark's dissector on what ours send.
test-interop: $(OUT)/ddp-host $(OUT)/ddp-target $(OUT)/ddpctl
	$(Q)tests/interop/host_vs_kernel.sh $(OUT)
	$(Q)tests/interop/tshark_check.sh $(OUT)

# Debian 12's kernels, 6.1 and 6.12, under qemu (a core each, at once):
# the engine's and the library's suites, ddpctl and reads on virtio-net,
# reads across the host's tap; kmod_glue's module and its kfunc.
test-kernel: all
	$(Q)tests/kernel/guest.sh $(OUT) 6.1 6.12

# kmod_glue on Debian's 6.1 in qemu, without the suites that do not use
# it (the checks on virtio-net still run): the module built for it and
# loaded, the engine's digest suites and reads through its kfunc, the
# module held while used, and the engine without it once it is gone.
test-kmod: all
	$(Q)DDP_GUEST_SUITES= tests/kernel/guest.sh $(OUT) 6.1

# The kernel half for the machine this runs on (Debian's 6.1 or 6.12):
# make kmod && insmod build/kmod/ddp_glue.ko. For another kernel, KVER=
# and BASE_BTF= (its vmlinux).
KVER ?= $(shell uname -r)
kmod:
	$(Q)kmod_glue/build.sh $(OUT)/kmod $(KVER) $(BASE_BTF)

test-utcp: $(OUT)/test_utcp
	$(Q)$(OUT)/test_utcp --jobs 2

test-l5p: $(OUT)/test_l5p $(OUT)/ddp-target $(OUT)/ddp-host
	$(Q)$(OUT)/test_l5p --jobs 2

# Target and host in namespaces, the engine between them, on both of the
# host's transports; in skb mode with a sender's offloads; two hosts, one
# killed; AF_XDP on 4 RX queues
test-e2e: $(OUT)/ddp-host $(OUT)/ddp-target $(OUT)/ddpctl $(OUT)/fault_inject
	$(Q)tests/e2e/e2e.sh $(OUT) xsk
	$(Q)tests/e2e/e2e.sh $(OUT) kernel
	$(Q)tests/e2e/e2e_skb.sh $(OUT)
	$(Q)tests/e2e/e2e_owners.sh $(OUT)
	$(Q)tests/e2e/e2e_queues.sh $(OUT)

# 1,024 I/O queues at once from 4 hosts (not in make test: 20 s more)
test-scale: $(OUT)/ddp-host $(OUT)/ddp-target $(OUT)/ddpctl
	$(Q)tests/e2e/e2e_scale.sh $(OUT)

test-ddpctl: $(OUT)/ddpctl $(OUT)/ddp_hold $(OUT)/xdp_pass.bpf.o
	$(Q)tests/loader/ddpctl/ddpctl.sh $(OUT)

# The main job: a target and a host in namespaces, the host reading over
# AF_XDP while the engine places, every byte verified.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(OUT)

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/bench_e2e.sh $(OUT)

# Where placing stops paying: small reads with the threshold under them.
bench-threshold: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BENCH_SIZES="8K 16K 32K 64K" BENCH_THRESHOLD=4K \
		tests/bench/bench_e2e.sh $(OUT)

# The same with data digests: the engine's CRC against the host's
bench-digest: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BENCH_DIGESTS=1 BENCH_SIZES="64K 512K" tests/bench/bench_e2e.sh $(OUT)

# Placement under 1% loss and 1% reordering, on both receive paths.
bench-loss: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/bench_loss.sh $(OUT)

bench-engine: deps
	$(Q)$(MAKE) --no-print-directory $(OUT)/bench_engine
	$(Q)$(OUT)/bench_engine

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	$(Q)rm -rf $(OUT)
