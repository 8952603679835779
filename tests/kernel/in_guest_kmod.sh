# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Sourced by in_guest.sh where the image holds kmod_glue's module: the
# engine with the module's kfuncs, its API for in-kernel L5Ps, the module
# held while the engine uses them, and the engine without it once it is
# gone.

# k1. the module loads, and its BTF names its kfunc
if insmod kmod/ddp_glue.ko 2>/tmp/insmod.log &&
	bpftool btf dump file /sys/kernel/btf/ddp_glue 2>/tmp/btf.log |
	grep -q "FUNC 'bpf_ddp_crc32c'"; then
	ok "insmod ddp_glue.ko: /sys/kernel/btf/ddp_glue names bpf_ddp_crc32c"
else
	bad "insmod ddp_glue.ko: $(cat /tmp/insmod.log /tmp/btf.log)"
	return
fi

# k2. the engine's suites that use the module: the digest fixtures and
# randomized streams through the CRC kfunc (every verdict against a CRC
# computed apart, the kfunc used: the suite checks), and tags placing into
# pinned buffers of this process's memory (byte by byte, nothing after an
# unpin, only the caller's pins)
kmod_tests='@(fixtures/*@(digest|ddgst|verdict|judged|believed)*|random/*|pinned/*)'
# (a tenth of the streams: the first run had them all)
if [ "$KMOD_SUITES" != 1 ]; then
	:
elif DDP_STREAMS=$((STREAMS / 10 + 1)) ./test_engine --jobs 1 --filter "$kmod_tests" \
	>/tmp/kfunc.log 2>&1; then
	ok "test_engine with the module's kfuncs: $(grep Synthesis /tmp/kfunc.log)"
else
	grep -E 'FAIL|Assert' /tmp/kfunc.log | head -30
	bad "test_engine with the module's kfuncs: $(grep Synthesis /tmp/kfunc.log)"
fi

# k3. attached with the module: digests by the kernel's crc32c, unless
# told not to use it
if ./ddpctl attach eth0 --mode native --no-kfuncs >/tmp/attach.log 2>&1 &&
	./ddpctl status eth0 --json | grep -q '"ddgst_crc":"bpf"'; then
	ok "ddpctl attach --no-kfuncs with the module: the engine's own CRC32C"
else
	bad "ddpctl attach --no-kfuncs: $(cat /tmp/attach.log; ./ddpctl status eth0 --json)"
fi
./ddpctl detach eth0 >/dev/null 2>&1
if ./ddpctl attach eth0 --mode native --buffers 128M >/tmp/attach.log 2>&1 &&
	grep -q "data digests checked (the kernel's crc32c, kmod_glue)" /tmp/attach.log &&
	./ddpctl status eth0 --json | grep -q '"ddgst_crc":"kfunc","pinned_buffers":true'; then
	ok "ddpctl attach with the module: $(tail -1 /tmp/attach.log)"
else
	bad "ddpctl attach with the module: $(cat /tmp/attach.log; ./ddpctl status eth0 --json)"
	./ddpctl detach eth0 >/dev/null 2>&1
	./ddpctl -v attach eth0 --mode native --buffers 128M 2>&1 | grep -v '^libbpf: elf' | tail -40
fi
# the host's own buffers, pinned: every read placed there (half as long:
# the first reads had the time)
READ_SECONDS=$(((READ_SECONDS + 1) / 2))
reads xsk "the kernel's crc32c" pinned
reads kernel "the kernel's crc32c" pinned

# l. the API for in-kernel L5Ps, where the machine's side serves a lossy
# target too
[ "$KMOD_SUITES" = 1 ] && . ./in_guest_l5p.sh

# k4. held while the engine's programs call it; then gone, the engine
# works on without it
if rmmod ddp_glue 2>/dev/null; then
	bad "rmmod ddp_glue while the engine uses its kfunc: it went"
else
	ok "rmmod ddp_glue refused while the engine uses its kfunc"
fi
./ddpctl detach eth0 >/dev/null 2>&1
# the programs go once the kernel's deferred frees have run
i=0
while ! rmmod ddp_glue 2>/tmp/rmmod.log && [ $i -lt 50 ]; do
	i=$((i + 1))
	sleep 0.1
done
if [ ! -e /sys/kernel/btf/ddp_glue ] &&
	./ddpctl attach eth0 --mode native >/tmp/attach.log 2>&1 &&
	./ddpctl status eth0 --json | grep -q '"ddgst_crc":"bpf"' &&
	./ddpctl detach eth0 >/dev/null 2>&1; then
	ok "rmmod ddp_glue once detached; the engine attaches again, its own CRC32C"
else
	bad "after rmmod ddp_glue: $(cat /tmp/rmmod.log /tmp/attach.log)"
	./ddpctl detach eth0 >/dev/null 2>&1
fi
