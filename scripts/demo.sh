#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The main job: two namespaces joined by a veth pair, ddp-target on one
# side with a pattern-filled namespace, the engine attached to the other
# side, and ddp-host there reading over its own TCP on AF_XDP: reads of 4 KiB
# to 1 MiB, completed out of order, every byte checked against the pattern.
# Then the summary and the engine's counters; everything is removed.
set -euo pipefail
. "$(dirname "$0")/../tests/lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
secs=${DEMO_SECONDS:-5}
here=$(dirname "$0")
. "$here/../tests/lib/netns.sh"
netns_bins "$build"
h=demo$$h
t=demo$$t
nqn=nqn.2024-01.io.ddp:demo

in_h() {
	in_ns "$h" "$@"
}

echo "== namespaces $h (host) and $t (target), veth 10.254.0.1 <-> 10.254.0.2"
netns_pair "$h" "$t" 10.254.0.1/24 10.254.0.2/24
netns_tmp
tmp=$NETNS_TMP
netns_sender "$t" "$t"

echo "== ddp-target in $t: $nqn, 256 MiB namespace in pattern mode, out-of-order completion"
target_start "$target" "$t" 10.254.0.2 "$nqn" 256M

echo "== the engine on $h, with a 128 MiB buffer region (2 queues x 32 reads of up to 1 MiB, and the AF_XDP frames)"
in_h "$ddpctl" attach "$h" --buffers 128M

echo "== ddp-host over AF_XDP: random reads of 4 KiB to 1 MiB, 2 queues, depth 32, ${secs} s, verified"
in_h "$host" perf -t xsk -a 10.254.0.2 -s 4420 -n "$nqn" --rw randread \
	--bs 4K-1M --qd 32 -i 2 --time "$secs" --verify -g -G --json >"$tmp/perf"
num() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$tmp/perf"
}
read_bytes=$(num read_bytes)
placed=$(num placed_bytes)
echo
echo "== summary"
printf '  %-34s %s\n' "transport" "$(sed -n 's/.*"transport":"\([a-z]*\)".*/\1/p' "$tmp/perf")"
printf '  %-34s %s (%s reads)\n' "bytes read and verified" "$read_bytes" "$(num ios)"
printf '  %-34s %s\n' "bytes not matching the pattern" "$(num verify_bad)"
printf '  %-34s %s (%s%%)\n' "bytes placed by the engine" "$placed" \
	"$(awk -v p="$placed" -v r="$read_bytes" 'BEGIN { printf "%.1f", r ? 100 * p / r : 0 }')"
printf '  %-34s %s\n' "resync requests (confirmed)" "$(num engine_resync) ($(num resync_confirm))"
printf '  %-34s %s GiB/s, %s IOPS\n' "throughput" "$(num gibps)" "$(num iops)"
printf '  %-34s p50 %s, p99 %s, p99.9 %s\n' "latency (us)" "$(num lat_p50_us)" \
	"$(num lat_p99_us)" "$(num lat_p999_us)"
echo
echo "== ddpctl stats $h"
in_h "$ddpctl" stats "$h"
echo
echo "== removing the namespaces, the engine, the target"
[ "$(num verify_bad)" = 0 ] && [ "$(num failed)" = 0 ]
