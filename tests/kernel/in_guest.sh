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

# the NIC's channels: its maximum and current combined queue pairs
channels() {
	ethtool -l eth0 2>/dev/null | sed -n 's/^Combined:[[:space:]]*\([0-9]*\).*/\1/p' | tr '\n' ' '
}
set -- $(channels)
MAX_COMBINED=${1:-0}
COMBINED=${2:-0}

# the engine detached and the channels as they were at boot: after each
# part, whatever failed in it, and on the way out
reset_nic() {
	./ddpctl detach eth0 >/dev/null 2>&1
	ip link set dev eth0 xdp off 2>/dev/null
	[ "$(channels)" = "$MAX_COMBINED $COMBINED " ] ||
		ethtool -L eth0 combined "$COMBINED" 2>/dev/null
}
trap reset_nic EXIT

# counter NAME of the engine on eth0
counter() {
	./ddpctl stats eth0 | sed -n "s/^$1  *\([0-9]*\).*/\1/p"
}

# 3. virtio-net's TX queues for XDP: its own when combined + possible CPUs
# (nr_cpu_ids, the highest listed plus one) <= max combined. guest.sh gives
# the NIC 2 queue pairs for 1 CPU: room at boot; at combined 2 none, which
# ddpctl's attach names with the figures and the fix (newer kernels share
# the stack's queues, locked: a notice; older ones refuse: the error)
p=$(cat /sys/devices/system/cpu/possible)
cpus=$((${p##*[-,]} + 1))
if [ "$COMBINED" -ge 1 ] && [ $((COMBINED + cpus)) -le "$MAX_COMBINED" ]; then
	if ./ddpctl attach eth0 --mode native --buffers 128M >/tmp/attach.log 2>&1 &&
		! grep -q "XDP has TX queues of its own" /tmp/attach.log; then
		ok "ddpctl attach eth0 with $COMBINED of $MAX_COMBINED queue pairs for $cpus possible CPUs ($p): XDP's own TX queues, nothing said of them"
	else
		bad "ddpctl attach eth0 with $COMBINED of $MAX_COMBINED queue pairs for $cpus CPUs: $(cat /tmp/attach.log)"
	fi
	reset_nic
	if ethtool -L eth0 combined "$MAX_COMBINED" 2>/tmp/ethtool.log; then
		want="here $MAX_COMBINED + $cpus > $MAX_COMBINED: ethtool -L eth0 combined $((MAX_COMBINED - cpus))"
		# since 5.13 virtio-net shares the stack's TX queues rather
		# than refuse, and the engine needs 5.18: attached, said
		how=
		./ddpctl attach eth0 --mode native --buffers 128M >/tmp/attach.log 2>&1 &&
			grep -q "until then XDP_TX shares the stack's, locked" /tmp/attach.log &&
			how="attached, XDP_TX shared"
		grep -qF "$want" /tmp/attach.log && [ -n "$how" ] &&
			ok "ddpctl attach eth0 at combined $MAX_COMBINED ($how): $(grep -F "$want" /tmp/attach.log)" ||
			bad "ddpctl attach eth0 at combined $MAX_COMBINED said nothing of the rule ($want): $(cat /tmp/attach.log)"
	else
		bad "ethtool -L eth0 combined $MAX_COMBINED: $(cat /tmp/ethtool.log)"
	fi
	reset_nic
	[ "$(channels)" = "$MAX_COMBINED $COMBINED " ] &&
		ok "eth0 back to $COMBINED of $MAX_COMBINED queue pairs, detached" ||
		bad "eth0's channels not reset: $(channels)"
else
	bad "eth0 has $COMBINED of $MAX_COMBINED queue pairs for $cpus possible CPUs ($p): guest.sh's NIC should have room for XDP's TX queues"
fi

# 4. ddpctl on virtio-net, natively
if ./ddpctl attach eth0 --mode native --buffers 128M >/tmp/attach.log 2>&1; then
	ok "ddpctl attach eth0: $(cat /tmp/attach.log)"
else
	bad "ddpctl attach eth0: $(cat /tmp/attach.log)"
	./ddpctl -v attach eth0 --mode native --buffers 128M 2>&1 | tail -40
fi
# which checksum checks run: before 6.13 (6.1, 6.12) bpf_csum_diff() sums
# at most 512 bytes a call
csum=$(./ddpctl status eth0 --json 2>/dev/null | sed -n 's/.*"csum_call_max":\([0-9]*\).*/\1/p')
v=$(uname -r)
major=${v%%.*}
minor=${v#*.}
minor=${minor%%[!0-9]*}
if [ "$major" -lt 6 ] || { [ "$major" = 6 ] && [ "$minor" -lt 13 ]; }; then
	want='headers,512B-calls'
else
	want=headers
fi
./ddpctl status eth0 >/tmp/status.log 2>&1 &&
	grep -q 'eth0 *native' /tmp/status.log &&
	grep -q " $want" /tmp/status.log &&
	ok "ddpctl status: $(tail -1 /tmp/status.log) (checksums: $want, $csum bytes a call)" ||
	bad "ddpctl status (checksums: $want wanted): $(cat /tmp/status.log)"
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
		[ "$(num $f ios)" -gt 0 ] && [ "$(num $f ddgst_ok)" -gt 0 ] &&
		[ "$(num $f engine_ddp_setup)" = "$(num $f engine_ddp_teardown)" ] &&
		{ [ "$pinned" = 0 ] || [ "$(num $f bufs_pinned)" -gt 0 ]; }; then
		ok "reads over $t: $(num $f ios) verified, $(num $f placed_bytes) of $(num $f read_bytes) bytes placed into $(num $f bufs_pinned) pinned buffers (0: the region), $(num $f ddgst_ok) of $dg data digests checked by $2, $(num $f gibps) GiB/s, csum_bad $(num $f engine_csum_bad), csum_partial $(num $f engine_csum_partial)"
	else
		bad "reads over $t: exit $rc $(cat /tmp/$t.err) $(cat $f)"
	fi
}

# 5. reads from the target across the tap, on both receive paths; the
# engine's counters moved with them
MOVED="rx_packets pdus ddp_setup ddp_teardown offload_packets offload_bytes ddgst_ok"
before=
for c in $MOVED; do
	before="$before $(counter $c)"
done
reads xsk "the engine"
reads kernel "the engine"
set -- $before
moved=
still=
for c in $MOVED; do
	n=$(counter $c)
	if [ "${n:-0}" -gt "${1:-0}" ]; then
		moved="$moved $c +$((n - $1))"
	else
		still="$still $c"
	fi
	shift
done
[ -z "$still" ] && ok "ddpctl stats: moved with the reads:$moved" ||
	bad "ddpctl stats: did not move:$still (moved:$moved)"
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
reset_nic

[ -e kmod/ddp_glue.ko ] && . ./in_guest_kmod.sh
reset_nic

echo "DDP-GUEST-END $FAILED"

# 6. the other way: a target here, read by the host across its tap (the
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
