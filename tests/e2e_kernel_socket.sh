#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# End to end on kernel sockets: the target in one namespace, the host in
# another with the engine attached to its veth; reads completed out of
# order, every byte verified, and the engine's counters held to what the
# kernel's own acceptance test (blktests nvme/056) asks of an offload:
#   reads of 32 KiB to 1 MiB: at least 90% of bytes and 95% of packets
#   offloaded; reads under the io_threshold: about none; drops and resync
#   requests under 5% of packets; as many tags torn down as set up.
# Everything made here is removed on exit, failure included.
set -euo pipefail
[ -n "${E2E_DEBUG:-}" ] && set -x

build=${1:-build}
. "$(dirname "$0")/lib/netns.sh"
host=$(realpath "$build/ddp-host")
target=$(realpath "$build/ddp-target")
ddpctl=$(realpath "$build/ddpctl")
h=dde$$h
t=dde$$t
nqn=nqn.2024-01.io.ddp:e2e
tmp=$(mktemp -d)
target_pid=
attached=

cleanup() {
	[ -n "$target_pid" ] && kill "$target_pid" 2>/dev/null
	[ -n "$attached" ] && in_h "$ddpctl" detach "$h" >/dev/null 2>&1
	netns_cleanup
	rm -rf "$tmp"
}

in_h() {
	nsenter --net="/run/netns/$h" "$@"
}

fail() {
	echo "FAIL: e2e: $*" >&2
	exit 1
}

netns_pair "$h" "$t" 10.254.0.1/24 10.254.0.2/24
trap cleanup EXIT
netns_sender "$t" "$t"

nsenter --net="/run/netns/$t" "$target" -a 10.254.0.2 -s 4420 -n "$nqn" \
	--pattern --size 256M >"$tmp/target.log" 2>&1 &
target_pid=$!
for _ in $(seq 50); do
	grep -q '^listening on' "$tmp/target.log" && break
	sleep 0.1
done
grep -q '^listening on' "$tmp/target.log" || fail "the target did not start"

in_h "$ddpctl" attach "$h" >/dev/null
attached=1

# perf NAME ARGS...: a perf run whose JSON summary lands in $tmp/NAME
perf() {
	local name=$1
	shift
	in_h "$host" perf -t tcp -a 10.254.0.2 -s 4420 -n "$nqn" --json \
		"$@" >"$tmp/$name" || fail "$name: $(cat "$tmp/$name")"
}

num() {
	sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$tmp/$1"
}

# at_least NAME PART WHOLE PCT: PART is at least PCT% of WHOLE
at_least() {
	local part whole
	part=$(num "$1" "$2")
	whole=$(num "$1" "$3")
	[ $((part * 100)) -ge $((whole * $4)) ] ||
		fail "$1: $2 $part is under $4% of $3 $whole: $(cat "$tmp/$1")"
}

# under NAME PART WHOLE PCT: PART is under PCT% of WHOLE
under() {
	local part whole
	part=$(num "$1" "$2")
	whole=$(num "$1" "$3")
	[ $((part * 100)) -lt $((whole * $4)) ] ||
		fail "$1: $2 $part is not under $4% of $3 $whole"
}

perf big --rw randread --bs 32K-1M --qd 32 -i 2 --time 4 --verify -g -G
at_least big placed_bytes read_bytes 90
at_least big engine_offload_bytes read_bytes 90
at_least big engine_offload_packets engine_rx_packets 95
under big engine_drop engine_rx_packets 5
under big engine_resync engine_rx_packets 5

perf small --rw randread --bs 4K-16K --qd 32 -i 2 --time 2 --verify
under small engine_offload_bytes read_bytes 1

perf mixed --rw randread --bs 4K-1M --qd 32 -i 2 --time 3 --verify
[ "$(num mixed verify_bad)" = 0 ] || fail "mixed: bytes differ"

stats=$(in_h "$ddpctl" stats "$h" --json)
setup=$(sed -n 's/.*"ddp_setup":\([0-9]*\).*/\1/p' <<<"$stats")
torn=$(sed -n 's/.*"ddp_teardown":\([0-9]*\).*/\1/p' <<<"$stats")
[ "$setup" = "$torn" ] || fail "tags leaked: $setup set up, $torn torn down"

echo "e2e (kernel sockets): 32K-1M reads $(num big placed_bytes) of $(num big read_bytes) bytes placed," \
	"$(num big engine_offload_packets) of $(num big engine_rx_packets) packets;" \
	"4K-16K reads $(num small engine_offload_bytes) bytes placed;" \
	"$(num mixed ios) mixed reads verified; $setup tags set up and torn down: ok"
