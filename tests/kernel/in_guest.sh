#!/bin/sh
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Runs inside the guest that tests/kernel/guest.sh boots, after /init set
# it up: the project's tests on Debian's kernel, on virtio-net. One line
# per check on the console, "DDP-GUEST-OK NAME: what" or "DDP-GUEST-FAIL
# NAME: why", then "DDP-GUEST-END". The target listens at $TARGET.
export PATH=/usr/local/sbin:/sbin:/bin:/usr/sbin:/usr/bin
. /etc/guest.conf
cd /ddp

# seconds since the guest booted, to see where its time goes
up() {
	read -r s _ </proc/uptime
	echo "${s%.*}s"
}

ok() {
	echo "DDP-GUEST-OK [$(up)] $*"
}

bad() {
	echo "DDP-GUEST-FAIL [$(up)] $*"
	FAILED=1
}

# the number NAME in JSON FILE, 0 where there is none
num() {
	v=$(sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1")
	echo "${v:-0}"
}

FAILED=0
echo "DDP-GUEST-KERNEL $(uname -r)"

# 1. the engine's suite (fixtures, the randomized streams against the
# reference model, fewer of them: TCG) and the library's (control
# programs, processes sharing an engine, the library on veth)
for t in $SUITES; do
	if DDP_STREAMS=$STREAMS ./$t --jobs 1 >/tmp/$t.log 2>&1; then
		ok "$t: $(grep Synthesis /tmp/$t.log)"
	else
		grep -E 'FAIL|Assert|\[----\]' /tmp/$t.log | grep -v '^\[----\]   $' | head -30
		tail -5 /tmp/$t.log
		bad "$t: $(grep Synthesis /tmp/$t.log)"
	fi
done

# 2. the object as built, loaded by iproute2 on the NIC
if ip link set dev eth0 xdp obj ddp.bpf.o sec xdp 2>/tmp/ip.log &&
	ip -d link show dev eth0 | grep -q 'prog/xdp id'; then
	mode=native
	ip -d link show dev eth0 | grep -q xdpgeneric && mode=generic
	ip link set dev eth0 xdp off
	ok "ip link set dev eth0 xdp obj ddp.bpf.o sec xdp: $mode"
else
	bad "ip link xdp obj: $(cat /tmp/ip.log)"
fi

# 3. ddpctl on virtio-net, natively
if ./ddpctl attach eth0 --mode native --buffers 128M >/tmp/attach.log 2>&1; then
	ok "ddpctl attach eth0: $(cat /tmp/attach.log)"
	# one queue pair of one: it says XDP has none of its own
	grep -q "has none to spare for XDP's own TX queues" /tmp/attach.log &&
		ok "ddpctl attach says virtio-net has no queue pair to spare" ||
		bad "ddpctl attach said nothing of virtio-net's queue pairs"
else
	bad "ddpctl attach eth0: $(cat /tmp/attach.log)"
	./ddpctl -v attach eth0 --mode native --buffers 128M 2>&1 | tail -40
fi
./ddpctl status eth0 >/tmp/status.log 2>&1 &&
	grep -q 'eth0 *native' /tmp/status.log &&
	ok "ddpctl status: $(tail -1 /tmp/status.log)" ||
	bad "ddpctl status: $(cat /tmp/status.log)"
bpftool map dump name ddp_stats 2>/dev/null | grep -q '"offload_bytes"' &&
	ok "bpftool map dump name ddp_stats: counters named" ||
	bad "bpftool map dump name ddp_stats shows no counter names"

# reads T WHO [PINNED]: reads from the target across the tap over
# transport T, verified, placed, their data digests checked by the engine
# (WHO computing the CRC32C); with PINNED, into the host's own buffers,
# pinned through kmod_glue's module
reads() {
	t=$1
	pinned=${3:-0}
	./ddp-host perf -t $t -a ${TARGET%:*} -s ${TARGET#*:} -n $NQN --json \
		--rw randread --bs 32K-1M --qd 16 -i 1 --time $READ_SECONDS \
		--verify -g -G >/tmp/$t.json 2>/tmp/$t.err
	rc=$?
	f=/tmp/$t.json
	# data digests: the engine's verdict taken for nearly every PDU
	dg=$(($(num $f ddgst_ok) + $(num $f ddgst_bad) + $(num $f ddgst_computed)))
	if [ $rc = 0 ] && grep -q "\"transport\":\"$t\"" $f &&
		[ "$(num $f verify_bad)" = 0 ] && [ "$(num $f failed)" = 0 ] &&
		[ $(($(num $f placed_bytes) * 100)) -ge $(($(num $f read_bytes) * 90)) ] &&
		[ $(($(num $f ddgst_ok) * 100)) -ge $((dg * 95)) ] &&
		[ "$(num $f engine_ddp_setup)" = "$(num $f engine_ddp_teardown)" ] &&
		{ [ "$pinned" = 0 ] || [ "$(num $f bufs_pinned)" -gt 0 ]; }; then
		ok "reads over $t: $(num $f ios) verified, $(num $f placed_bytes) of $(num $f read_bytes) bytes placed into $(num $f bufs_pinned) pinned buffers (0: the region), $(num $f ddgst_ok) of $dg data digests checked by $2, $(num $f gibps) GiB/s, csum_bad $(num $f engine_csum_bad), csum_partial $(num $f engine_csum_partial)"
	else
		bad "reads over $t: exit $rc $(cat /tmp/$t.err) $(cat $f)"
	fi
}

# 4. reads from the target across the tap, on both receive paths
reads xsk "the engine"
reads kernel "the engine"
./ddpctl stats eth0 | grep -E '^(offload_bytes|csum_bad|csum_partial|drop) ' | tr '\n' ' ' |
	sed 's/^/DDP-GUEST-INFO stats: /'
echo
flows=$(./ddpctl flows eth0 --json)
tags=$(./ddpctl tags eth0 --json)
[ "$flows" = "[]" ] && [ "$tags" = "[]" ] &&
	ok "ddpctl flows, tags: none left" || bad "left: flows $flows tags $tags"
./ddpctl detach eth0 >/tmp/detach.log 2>&1 &&
	! ip -d link show dev eth0 | grep -q 'prog/xdp' &&
	ok "ddpctl detach: $(cat /tmp/detach.log)" ||
	bad "ddpctl detach: $(cat /tmp/detach.log)"

[ -e kmod/ddp_glue.ko ] && . ./in_guest_kmod.sh

echo "DDP-GUEST-END $FAILED"

# 5. the other way: a target here, read by the host across its tap (the
# engine on the tap there, frames from this virtio-net)
./ddp-target -a $GUEST_IP -s 4420 -n $NQN --pattern --size 64M >/tmp/target.log 2>&1 &
i=0
while ! grep -q '^listening on' /tmp/target.log && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
echo "DDP-GUEST-TARGET $GUEST_IP:4420 $(head -1 /tmp/target.log)"
while :; do
	sleep 3600
done
