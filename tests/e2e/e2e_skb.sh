#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# e2e_skb.sh BUILD: the engine in skb (generic) mode, GRO on the host's
# veth, and a target whose veth leaves checksums and segmentation to
# offload (the veth default): the engine then sees segments of up to 64
# KiB whose checksum field holds only the pseudo-header sum, as the
# kernel's own CHECKSUM_PARTIAL. Reads over kernel sockets, every byte
# verified, most of them placed, the partial checksums taken as the kernel
# takes them, no frame of a flow met on two CPUs at once (RPS). Everything made here is removed on exit, failure included.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
. "$(dirname "$0")/../lib/netns.sh"
netns_bins "$build"
h=dds$$h
t=dds$$t
nqn=nqn.2024-01.io.ddp:skb

fail() {
	echo "FAIL: e2e_skb: $*" >&2
	exit 1
}

netns_pair "$h" "$t" 10.249.0.1/24 10.249.0.2/24
netns_tmp
tmp=$NETNS_TMP
ip netns exec "$t" ethtool -K "$t" tx on tso on >/dev/null
ip netns exec "$h" ethtool -K "$h" gro on >/dev/null
# skb mode takes a frame on the CPU that sends it (here the target's
# thread, wherever it runs): RPS keeps each flow on one CPU, as a NIC's
# queues do (the engine would otherwise see frames of one flow on two
# CPUs at once, and not follow one of them)
ip netns exec "$h" sh -c "echo 3 > /sys/class/net/$h/queues/rx-0/rps_cpus"
target_start "$target" "$t" 10.249.0.2 "$nqn" 256M
in_ns "$h" "$ddpctl" attach "$h" --mode skb --buffers 128M >/dev/null
[[ $(in_ns "$h" "$ddpctl" status "$h") == *" skb "*"headers,partial-ok"* ]] ||
	fail "status: $(in_ns "$h" "$ddpctl" status "$h")"

in_ns "$h" "$host" perf -t kernel -a 10.249.0.2 -s 4420 -n "$nqn" --json \
	--rw randread --bs 32K-1M --qd 32 -i 2 --time 4 --verify -g -G \
	>"$tmp/perf" || fail "perf: $(cat "$tmp/perf")"
num() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$tmp/perf"
}
[ "$(num verify_bad)" = 0 ] || fail "bytes differ: $(cat "$tmp/perf")"
[ "$(num failed)" = 0 ] || fail "reads failed: $(cat "$tmp/perf")"
[ "$(num engine_csum_partial)" -gt 0 ] ||
	fail "no partial checksum seen: $(cat "$tmp/perf")"
# segments of more than one frame: the sender's, unsegmented
[ "$(num engine_rx_bytes)" -gt $(($(num engine_rx_packets) * 1500)) ] ||
	fail "only frame-sized segments: $(cat "$tmp/perf")"
[ "$(num engine_contended)" = 0 ] ||
	fail "frames of a flow on two CPUs at once: $(cat "$tmp/perf")"
[ $(($(num placed_bytes) * 100)) -ge $(($(num read_bytes) * 90)) ] ||
	fail "$(num placed_bytes) of $(num read_bytes) bytes placed: $(cat "$tmp/perf")"
echo "e2e_skb: skb mode, GRO, a sender with offloads: $(num ios) reads verified," \
	"$(num placed_bytes) of $(num read_bytes) bytes placed," \
	"$(num engine_rx_packets) segments of $(($(num engine_rx_bytes) / $(num engine_rx_packets))) bytes on average," \
	"$(num engine_csum_partial) partial checksums: ok"
