#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench-loss: the share of read bytes placed when 1% of the target's
# segments are dropped and 1% reordered (fault_inject on its veth), over
# AF_XDP and over kernel sockets, side by side in each of BENCH_ROUNDS
# rounds: BENCH_IOS reads of 32 KiB to 1 MiB at queue depth 32 on 2
# queues, with data digests, every byte verified. Prints each path's
# median, least and most share against the goal (85%). Not a test: on a
# loaded machine the host answers resync requests later and places less
# (make test-e2e holds a floor that load does not break).
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
rounds=${BENCH_ROUNDS:-5}
ios=${BENCH_IOS:-1500}
. "$(dirname "$0")/../lib/netns.sh"
netns_bins "$build"
h=bl$$h
t=bl$$t
nqn=nqn.2024-01.io.ddp:bench

netns_pair "$h" "$t" 10.254.0.1/24 10.254.0.2/24
netns_tmp
tmp=$NETNS_TMP
# a 2 Gbit/s wire, as make test-e2e's
netns_sender "$t" "$t" 2gbit
target_start "$target" "$t" 10.254.0.2 "$nqn" 256M
in_ns "$h" "$ddpctl" attach "$h" --buffers 128M >/dev/null

num() {
	sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1"
}

# lossy TRANSPORT: one run under faults; adds "TRANSPORT placed read" to
# the rounds' file
lossy() {
	local out=$tmp/out

	netns_faults "$t" "$t" 4420 "--drop 10000 --delay 10000" "$tmp/faults" \
		in_ns "$h" "$host" perf -t "$1" -a 10.254.0.2 -s 4420 -n "$nqn" \
		--json --rw randread --bs 32K-1M --qd 32 -i 2 --ios "$ios" \
		--time 300 --verify -G >"$out"
	[ "$(num "$out" verify_bad)" = 0 ] && [ "$(num "$out" failed)" = 0 ] || {
		echo "bench-loss: reads over $1 wrong or failed: $(cat "$out")" >&2
		exit 1
	}
	echo "$1 $(num "$out" placed_bytes) $(num "$out" read_bytes)" >>"$tmp/rounds"
}

for r in $(seq "$rounds"); do
	echo "round $r of $rounds" >&2
	lossy xsk
	lossy kernel
done

printf '%-8s %7s %8s %8s %6s   %s\n' path median min max rounds goal
for p in xsk kernel; do
	awk -v p="$p" '$1 == p { v[++k] = 100 * $2 / $3 }
	END {
		for (i = 2; i <= k; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				x = v[j]; v[j] = v[j - 1]; v[j - 1] = x
			}
		m = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		verdict = v[1] >= 85 ? "met" : v[k] < 85 ? "not met" : "spread decides"
		printf "%-8s %6.1f%% %7.1f%% %7.1f%% %6d   >= 85%%  %s\n", p, m,
			v[1], v[k], k, verdict
	}' "$tmp/rounds"
done
