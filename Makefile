# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make` builds everything into build/. Quiet by default; V=1 shows commands.
#   make demo          install what is missing, build, run the main job: a
#                      host reading over AF_XDP with DDP from a target
#   make test          install what is missing, build, run every test suite
#   make bench         reads end to end: AF_XDP and kernel sockets, with and
#                      without DDP, throughput and CPU cycles per byte
#   make bench-engine  engine costs measured with BPF_PROG_TEST_RUN
#   make vmlinux       regenerate vmlinux.h from the running kernel's BTF

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

BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -Wall -Werror \
	-D__TARGET_ARCH_$(ARCH) -I. -Ibpf
CFLAGS := -g -O2 -Wall -Wextra -Werror -std=gnu11 -D_GNU_SOURCE \
	-Ibpf -Iloader -I$(OUT)
LIBBPF_LIBS := -lxdp $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lpthread

BPF_HDRS := $(wildcard bpf/*.h) vmlinux.h
LOADER_SRCS := $(filter-out loader/ddpctl.c,$(wildcard loader/*.c))
LOADER_OBJS := $(LOADER_SRCS:loader/%.c=$(OUT)/loader/%.o)
L5P_LIB_SRCS := l5p_userspace/nvme_tcp_pdu.c l5p_userspace/xport_sock.c \
	l5p_userspace/xsk_port.c l5p_userspace/utcp.c
UTCP_TEST_SRCS := $(filter-out %.bpf.c,$(wildcard tests/utcp/*.c))
L5P_LIB_OBJS := $(L5P_LIB_SRCS:l5p_userspace/%.c=$(OUT)/l5p/%.o)
TARGET_SRCS := $(wildcard l5p_userspace/target*.c)
HOST_SRCS := $(wildcard l5p_userspace/host*.c)
L5P_TEST_SRCS := $(wildcard tests/l5p/*.c)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
FUZZERS := $(patsubst tests/fuzz/fuzz_%.c,$(OUT)/fuzz_%,$(wildcard tests/fuzz/fuzz_*.c))
ENGINE_TEST_SRCS := $(wildcard tests/engine/*.c)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps demo test test-engine test-veth test-ddpctl test-fuzz \
	test-interop test-l5p test-e2e test-utcp bench bench-engine vmlinux

all: $(OUT)/ddp.bpf.o $(OUT)/libddp.a $(OUT)/ddpctl $(OUT)/ddp-target \
	$(OUT)/ddp-host $(OUT)/test_engine $(OUT)/test_l5p $(OUT)/bench_engine \
	$(OUT)/veth_place $(OUT)/xdp_pass.bpf.o $(OUT)/ddp_hold $(OUT)/test_utcp \
	$(OUT)/fault_inject $(FUZZERS)

$(OUT) $(OUT)/loader $(OUT)/tests $(OUT)/l5p:
	$(Q)mkdir -p $@

# BPF objects: compile, link with bpftool (as libbpf-bootstrap), skeleton.
$(OUT)/%.tmp.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.tmp.bpf.o: tests/bench/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.tmp.bpf.o: tests/%.bpf.c $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.tmp.bpf.o: tests/utcp/%.bpf.c tests/utcp/utcp_fault.h $(BPF_HDRS) | $(OUT)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(OUT)/%.bpf.o: $(OUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# The control library
$(OUT)/loader/%.o: loader/%.c $(OUT)/ddp.skel.h $(OUT)/ddp_probe.skel.h \
		$(wildcard loader/*.h) \
		bpf/ddp.h | $(OUT)/loader
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libddp.a: $(LOADER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/ddpctl: loader/ddpctl.c $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(OUT)/libddp.a $(LIBBPF_LIBS) -lpthread

# NVMe/TCP: protocol and transport, the target, the host
L5P_HDRS := $(wildcard l5p_userspace/*.h) bpf/ddp.h loader/libddp.h
$(OUT)/l5p/%.o: l5p_userspace/%.c $(L5P_HDRS) | $(OUT)/l5p
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Il5p_userspace -c $< -o $@

$(OUT)/libl5p.a: $(L5P_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/ddp-target: $(TARGET_SRCS) $(L5P_HDRS) $(OUT)/libl5p.a $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Il5p_userspace $(TARGET_SRCS) -o $@ \
		$(OUT)/libl5p.a $(OUT)/libddp.a $(LIBBPF_LIBS) -lisal

$(OUT)/ddp-host: $(HOST_SRCS) $(L5P_HDRS) $(OUT)/libl5p.a $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Il5p_userspace $(HOST_SRCS) -o $@ \
		$(OUT)/libl5p.a $(OUT)/libddp.a $(LIBBPF_LIBS) -lisal -lm

$(OUT)/test_l5p: $(L5P_TEST_SRCS) $(wildcard tests/l5p/*.h) $(OUT)/libl5p.a \
		$(OUT)/libddp.a $(OUT)/ddp-target
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Il5p_userspace -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(L5P_TEST_SRCS) -o $@ $(OUT)/libl5p.a $(OUT)/libddp.a \
		-lcriterion $(LIBBPF_LIBS) -lisal

# utcp against the kernel's TCP, faults injected by utcp_fault.bpf.o
$(OUT)/test_utcp: $(UTCP_TEST_SRCS) $(wildcard tests/utcp/*.h) tests/lib/bpffs.c \
		$(OUT)/libl5p.a $(OUT)/libddp.a $(OUT)/utcp_fault.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Il5p_userspace -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(UTCP_TEST_SRCS) tests/lib/bpffs.c -o $@ $(OUT)/libl5p.a \
		$(OUT)/libddp.a \
		-lcriterion $(LIBBPF_LIBS)

# faults for the end-to-end tests, the utcp tests' programs
$(OUT)/fault_inject: tests/fault_inject.c tests/utcp/fault_env.c \
		tests/utcp/fault_env.h $(OUT)/utcp_fault.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/utcp $< tests/utcp/fault_env.c -o $@ \
		$(LIBBPF_LIBS)

# libFuzzer targets: the PDU decoders of the host and the target
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE \
	-Ibpf -Iloader -Il5p_userspace -I$(OUT)
$(OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(L5P_HDRS) $(wildcard l5p_userspace/*.c) \
		$(OUT)/libddp.a
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $< $(L5P_LIB_SRCS) -o $@ $(OUT)/libddp.a \
		$(LIBBPF_LIBS) -lisal

# Tests and benchmarks
$(OUT)/test_engine: $(ENGINE_TEST_SRCS) $(TESTLIB_SRCS) $(wildcard tests/*/*.h) \
		$(OUT)/libddp.a $(OUT)/xdp_pass.bpf.o
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib -DDDP_BUILD='"$(OUT)"' \
		$(ENGINE_TEST_SRCS) $(TESTLIB_SRCS) \
		-o $@ $(OUT)/libddp.a -lcriterion $(LIBBPF_LIBS)

$(OUT)/bench_engine: tests/bench/bench_engine.c $(TESTLIB_SRCS) \
		$(OUT)/bench_engine.skel.h $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(TESTLIB_SRCS) -o $@ \
		$(OUT)/libddp.a $(LIBBPF_LIBS)

$(OUT)/ddp_hold: tests/ddp_hold.c $(TESTLIB_SRCS) $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(TESTLIB_SRCS) -o $@ \
		$(OUT)/libddp.a $(LIBBPF_LIBS)

$(OUT)/veth_place: tests/veth_place.c $(TESTLIB_SRCS) $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Itests/lib $< $(TESTLIB_SRCS) -o $@ \
		$(OUT)/libddp.a $(LIBBPF_LIBS)

deps:
	$(Q)scripts/deps.sh

# The README's test command: installs, builds, runs every suite.
test: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory test-engine test-veth test-ddpctl \
		test-l5p test-utcp test-e2e test-fuzz test-interop

test-engine: $(OUT)/test_engine
	$(Q)$(OUT)/test_engine --jobs 2

test-veth: $(OUT)/ddp.bpf.o $(OUT)/veth_place
	$(Q)tests/veth_attach.sh $(OUT)/ddp.bpf.o
	$(Q)tests/veth_place.sh $(OUT)/veth_place >/dev/null
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

test-utcp: $(OUT)/test_utcp
	$(Q)$(OUT)/test_utcp --jobs 2

test-l5p: $(OUT)/test_l5p $(OUT)/ddp-target
	$(Q)$(OUT)/test_l5p --jobs 2

# Target and host in namespaces, the engine between them, on both of the
# host's transports; in skb mode with a sender's offloads; two hosts, one
# killed
test-e2e: $(OUT)/ddp-host $(OUT)/ddp-target $(OUT)/ddpctl $(OUT)/fault_inject
	$(Q)tests/e2e.sh $(OUT) xsk
	$(Q)tests/e2e.sh $(OUT) kernel
	$(Q)tests/e2e_skb.sh $(OUT)
	$(Q)tests/e2e_owners.sh $(OUT)

test-ddpctl: $(OUT)/ddpctl $(OUT)/ddp_hold $(OUT)/xdp_pass.bpf.o
	$(Q)tests/ddpctl.sh $(OUT)

# The main job: a target and a host in namespaces, the host reading over
# AF_XDP while the engine places, every byte verified.
demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh $(OUT)

bench: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)tests/bench/bench_e2e.sh $(OUT)

bench-engine: deps
	$(Q)$(MAKE) --no-print-directory $(OUT)/bench_engine
	$(Q)$(OUT)/bench_engine

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	$(Q)rm -rf $(OUT)
