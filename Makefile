# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# `make` builds everything into build/. Quiet by default; V=1 shows commands.
#   make test          install what is missing, build, run every test suite
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
LIBBPF_LIBS := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf) -lelf -lz -lpthread

BPF_HDRS := $(wildcard bpf/*.h) vmlinux.h
LOADER_SRCS := $(filter-out loader/ddpctl.c,$(wildcard loader/*.c))
LOADER_OBJS := $(LOADER_SRCS:loader/%.c=$(OUT)/loader/%.o)
TESTLIB_SRCS := $(wildcard tests/lib/*.c)
ENGINE_TEST_SRCS := $(wildcard tests/engine/*.c)

.DELETE_ON_ERROR:
.SECONDARY:
.PHONY: all clean deps demo test test-engine test-veth test-ddpctl bench-engine \
	vmlinux

all: $(OUT)/ddp.bpf.o $(OUT)/libddp.a $(OUT)/ddpctl $(OUT)/test_engine \
	$(OUT)/bench_engine $(OUT)/veth_place $(OUT)/xdp_pass.bpf.o \
	$(OUT)/ddp_hold

$(OUT) $(OUT)/loader $(OUT)/tests:
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

$(OUT)/%.bpf.o: $(OUT)/%.tmp.bpf.o
	$(call msg,GEN-OBJ,$@)
	$(Q)$(BPFTOOL) gen object $@ $<

$(OUT)/%.skel.h: $(OUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name $(subst -,_,$*)_bpf > $@

# The control library
$(OUT)/loader/%.o: loader/%.c $(OUT)/ddp.skel.h $(wildcard loader/*.h) \
		bpf/ddp.h | $(OUT)/loader
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(OUT)/libddp.a: $(LOADER_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(OUT)/ddpctl: loader/ddpctl.c $(OUT)/libddp.a
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) $< -o $@ $(OUT)/libddp.a $(LIBBPF_LIBS) -lpthread

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
	$(Q)$(MAKE) --no-print-directory test-engine test-veth test-ddpctl

test-engine: $(OUT)/test_engine
	$(Q)$(OUT)/test_engine --jobs 2

test-veth: $(OUT)/ddp.bpf.o $(OUT)/veth_place
	$(Q)tests/veth_attach.sh $(OUT)/ddp.bpf.o
	$(Q)tests/veth_place.sh $(OUT)/veth_place >/dev/null
	@echo "veth_place: native XDP placement on veth verified: ok"

test-ddpctl: $(OUT)/ddpctl $(OUT)/ddp_hold $(OUT)/xdp_pass.bpf.o
	$(Q)tests/ddpctl.sh $(OUT)

# The main job: the engine on a veth pair, a stream through it, verified.
demo: deps
	$(Q)$(MAKE) --no-print-directory $(OUT)/veth_place
	$(Q)tests/veth_place.sh $(OUT)/veth_place

bench-engine: deps
	$(Q)$(MAKE) --no-print-directory $(OUT)/bench_engine
	$(Q)$(OUT)/bench_engine

vmlinux:
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > vmlinux.h

clean:
	$(Q)rm -rf $(OUT)
