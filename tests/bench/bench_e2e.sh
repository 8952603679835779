#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# make bench: reads through the whole path, side by side in one run, in the
# four ways the host can receive: AF_XDP or kernel socket, with or without
# direct data placement (make bench-digest: all four with data digests,
# which the engine checks where it places); 4 KiB, 64 KiB and 512 KiB random reads at queue
# depth 32, each run BENCH_SECONDS long, the whole set BENCH_ROUNDS times
# over (interleaved, so that drift in this VM hits every mode alike). The
# table sums the rounds; the goals are ratios of modes of one round, printed
# as the median with the least and the most of the rounds. Not a test: it
# prints figures and the goals beside them.
#
# For each: throughput, share placed, CPU cycles per byte read (CPU time at
# the CPU's clock: this VM has no hardware counters), and the copies made
# of each placed byte. CPU time is split in two:
#   host  the ddp-host process (all threads), and the host veth's receive
#         processing outside what follows: AF_XDP delivery or the kernel's
#         GRO and TCP (process: the ddp-host process alone, a part of host);
#   NIC   what a DDP NIC does in hardware and the emulation does on the
#         host's CPU: the veth taking each frame in for XDP (a copy, as DMA
#         would be), and the engine's program (placement, checksums).
# The host veth's NAPI runs in a kernel thread of its own (threaded NAPI),
# timed by its schedstat and split by perf's samples of it. The target's
# side is kept out: its veth's NAPI is threaded too, the host's veth sends
# without TSO (so that the target receives through its NAPI, not in the
# host's context), the target's sends that veth's wake-up of its queue runs
# in the host's NAPI thread (net_tx_action) are subtracted, and the target's
# TCP is Reno (BBR paces with timers that would fire in whichever thread is
# running).
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
secs=${BENCH_SECONDS:-3}
sizes=${BENCH_SIZES:-4K 64K 512K}
# the engine's io_threshold: lower it to see where placing stops paying
threshold=${BENCH_THRESHOLD:-}
rounds=${BENCH_ROUNDS:-5}
here=$(dirname "$0")
. "$here/../lib/netns.sh"
netns_bins "$build"
h=bh$$
t=bt$$
nqn=nqn.2024-01.io.ddp:bench
perf_pid=

# the engine goes with the namespace and the pins with the BPF filesystem
cleanup() {
	# gone already, maybe: cleaning up goes on
	[ -z "$perf_pid" ] || kill "$perf_pid" 2>/dev/null || true
	netns_cleanup
}

in_h() {
	in_ns "$h" "$@"
}

netns_pair "$h" "$t" 10.254.0.1/24 10.254.0.2/24
trap cleanup EXIT
netns_tmp
tmp=$NETNS_TMP
netns_sender "$t" "$t"
ip netns exec "$t" sysctl -qw net.ipv4.tcp_congestion_control=reno
target_start "$target" "$t" 10.254.0.2 "$nqn" 1G
in_h "$ddpctl" attach "$h" --buffers 128M ${threshold:+--threshold "$threshold"} >/dev/null

ip netns exec "$h" ethtool -K "$h" gro on tso off >/dev/null
ip netns exec "$t" ethtool -K "$t" gro on >/dev/null
ip netns exec "$h" sh -c "echo 1 >/sys/class/net/$h/threaded"
ip netns exec "$t" sh -c "echo 1 >/sys/class/net/$t/threaded"
napi=$(ps -eo pid=,comm= | awk -v p="napi/$h-" 'index($2, p) == 1 { print $1 }')
[ -n "$napi" ] || {
	echo "bench: no NAPI thread for $h" >&2
	exit 1
}
mhz=$(awk -F: '/cpu MHz/ { print $2 + 0; exit }' /proc/cpuinfo)

# ns the host's NAPI threads have run
napi_ns() {
	local p sum=0
	for p in $napi; do
		sum=$((sum + $(cut -d' ' -f1 "/proc/$p/schedstat")))
	done
	echo "$sum"
}

# Shares of the NAPI threads' samples: the NIC's (the veth taking frames
# in for XDP, the engine included, but not the AF_XDP delivery after it)
# and the target's (net_tx_action: its queued sends, segmented and sent
# here when the veth wakes its peer's queue; a sender's NIC does that).
napi_shares() {
	perf report -i "$1" --children --sort sym -q -g none 2>/dev/null |
		awk '$NF == "veth_xdp_rcv_skb" { v = $1 + 0 }
		     $NF == "xdp_do_redirect" { r = $1 + 0 }
		     $NF == "net_tx_action" { t = $1 + 0 }
		     END { printf "%.4f %.4f\n", (v - r) / 100, t / 100 }'
}

num() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$tmp/out"
}

# run NAME TRANSPORT BS [--no-ddp]: one measured run; adds a line to
# NAME.runs: its bytes, placed bytes, placed bytes in uncut frames,
# seconds, the host process's CPU ns, the NAPI threads' ns, and the NIC's
# and the target's shares of those
run() {
	local name=$1 tr=$2 bs=$3 n0 n1
	shift 3
	perf record -q -e cpu-clock -F 999 -g -t "$(echo $napi | tr ' ' ,)" \
		-o "$tmp/perf.data" >/dev/null 2>&1 &
	perf_pid=$!
	sleep 0.5
	n0=$(napi_ns)
	in_h "$host" perf -t "$tr" -a 10.254.0.2 -s 4420 -n "$nqn" \
		--rw randread --bs "$bs" --qd 32 --time "$secs" --json "$@" \
		>"$tmp/out"
	n1=$(napi_ns)
	kill -INT "$perf_pid"
	wait "$perf_pid" || true
	perf_pid=
	echo "$(num bytes) $(num placed_bytes) $(num placed_in_frames)" \
		"$(num seconds) $(num cpu_ns) $((n1 - n0))" \
		"$(napi_shares "$tmp/perf.data")" >>"$tmp/$name.runs"
}

# BENCH_DIGESTS=1: every mode with data digests (-G), named with "+G"; the
# offload's modes have the engine check them (the host's CRC skipped)
sfx= G=
if [ -n "${BENCH_DIGESTS:-}" ]; then
	sfx=+G G=-G
fi
modes=("xsk+ddp$sfx xsk $G" "xsk$sfx xsk --no-ddp $G"
	"kernel+ddp$sfx kernel $G" "kernel$sfx kernel --no-ddp $G")
# +discard: the host throws the data away uncopied (ddp-host perf
# --discard), as if every byte had been placed at no cost to anyone: the
# least host cost any placement can reach, measured beside the others
[ -n "$sfx" ] || modes+=("xsk+discard xsk --discard"
	"kernel+discard kernel --discard")
# BENCH_MODES="kernel+ddp kernel": only those (the ratios of the others
# are left out)
if [ -n "${BENCH_MODES:-}" ]; then
	all=("${modes[@]}")
	modes=()
	for mode in "${all[@]}"; do
		case " $BENCH_MODES " in *" ${mode%% *} "*) modes+=("$mode") ;; esac
	done
fi
for r in $(seq "$rounds"); do
	echo "round $r of $rounds" >&2
	for bs in $sizes; do
		for mode in "${modes[@]}"; do
			set -- $mode
			run "$1-$bs" "$2" "$bs" "${@:3}"
		done
	done
done

printf '%-14s %5s %7s %7s %10s %8s %9s %14s\n' mode size GiB/s placed \
	"host cyc/B" "process" "NIC cyc/B" "copies/placed"
for bs in $sizes; do
	for mode in "${modes[@]}"; do
		set -- $mode
		awk -v n="$1" -v bs="$bs" -v mhz="$mhz" '
		{ b += $1; p += $2; u += $3; s += $4; pr += $5
		  h += $5 + $6 * (1 - $7 - $8); nic += $6 * $7
		  # each round: the figures the ratios compare
		  printf "%s %s %d %s %s %s %s\n", n, bs, NR, $1, $4,
			$5 + $6 * (1 - $7 - $8), $5 >> "'"$tmp/rounds"'" }
		END {
			c = p > 0 ? sprintf("%.3f", 1 + u / p) : "-"
			printf "%-14s %5s %7.3f %6.1f%% %10.2f %8.2f %9.2f %14s\n",
				n, bs, b / s / 2^30, 100 * p / b,
				h * mhz / 1000 / b, pr * mhz / 1000 / b,
				nic * mhz / 1000 / b, c
		}' "$tmp/$1-$bs.runs"
	done
done

# The goals, as ratios taken round by round (the modes of one round ran
# side by side): the median, and the least and most of the rounds.
awk '
# stats: the ratio of modes a and b at size bs in each round; sets M (the
# median), LO and HI, and returns how many rounds had both
function stats(what, a, b, bs,   r, i, j, k, v, x) {
	k = 0
	for (r = 1; r <= rounds; r++) {
		if (!((a, bs, r) in by) || !((b, bs, r) in by) || !cost[b, bs, r])
			continue
		if (what == "host cycles/B")
			x = cost[a, bs, r] / cost[b, bs, r]
		else if (what == "process cyc/B")
			x = proc[a, bs, r] / proc[b, bs, r]
		else
			x = rate[a, bs, r] / rate[b, bs, r]
		v[++k] = x
	}
	for (i = 2; i <= k; i++) # few rounds: insertion sort
		for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
			x = v[j]; v[j] = v[j - 1]; v[j - 1] = x
		}
	if (k) {
		M = k % 2 ? v[(k + 1) / 2] : (v[k / 2] + v[k / 2 + 1]) / 2
		LO = v[1]; HI = v[k]
	}
	return k
}
# ratio WHAT A B BS [OP GOAL]: without a goal, a bound
function ratio(what, a, b, bs, op, goal,   verdict) {
	if (!stats(what, a, b, bs))
		return
	if (op == "<=")
		verdict = HI <= goal ? "met" : LO > goal ? "not met" : "spread decides"
	else
		verdict = LO >= goal ? "met" : HI < goal ? "not met" : "spread decides"
	verdict = op == "" ? "(bound)" : sprintf("%s %.2f  %s", op, goal, verdict)
	printf "%-14s %-23s %5s %6.2f  %5.2f-%-5.2f %5.1f%%   %s\n",
		what, a " / " b, bs, M, LO, HI, 100 * (HI - LO) / M, verdict
}
{ by[$1, $2, $3] = 1; rate[$1, $2, $3] = $4 / $5
  cost[$1, $2, $3] = $6 / $4; proc[$1, $2, $3] = $7 / $4
  if ($3 > rounds) rounds = $3 }
END {
	printf "\n%-14s %-23s %5s %6s  %-11s %6s   %s\n", "ratio", "modes",
		"size", "median", "min-max", "spread", "goal"
	if (sfx != "") {
		# the data digest offload: the host neither copies nor sums
		ratio("host cycles/B", "xsk+ddp" sfx, "xsk" sfx, "512K", "<=", 0.4)
		ratio("host cycles/B", "kernel+ddp" sfx, "kernel" sfx, "512K", "<=", 0.4)
		ratio("host cycles/B", "xsk+ddp" sfx, "kernel" sfx, "512K", "<=", 0.4)
		ratio("throughput", "xsk+ddp" sfx, "xsk" sfx, "512K", ">=", 1)
		ratio("throughput", "kernel+ddp" sfx, "kernel" sfx, "512K", ">=", 1)
		ratio("throughput", "xsk+ddp" sfx, "xsk" sfx, "64K", ">=", 1)
		ratio("throughput", "kernel+ddp" sfx, "kernel" sfx, "64K", ">=", 1)
		exit
	}
	ratio("host cycles/B", "xsk+ddp", "xsk", "512K", "<=", 0.5)
	ratio("host cycles/B", "xsk+ddp", "xsk", "64K", "<=", 0.6)
	ratio("host cycles/B", "xsk+ddp", "kernel", "512K", "<=", 0.5)
	ratio("host cycles/B", "kernel+ddp", "kernel", "512K", "<=", 0.7)
	ratio("host cycles/B", "kernel+ddp", "kernel", "64K", "<=", 0.8)
	# the bounds: no copy at all, and no placement to pay for either
	ratio("host cycles/B", "xsk+discard", "xsk", "512K")
	ratio("host cycles/B", "xsk+discard", "xsk", "64K")
	ratio("host cycles/B", "kernel+discard", "kernel", "512K")
	ratio("host cycles/B", "kernel+discard", "kernel", "64K")
	# the ddp-host process alone: without the receive work of the kernel
	# in the NAPI thread, which DDP cannot save and whose share of that
	# thread the samples of perf split (the noisiest figure here)
	ratio("process cyc/B", "xsk+ddp", "xsk", "64K", "<=", 0.6)
	ratio("process cyc/B", "kernel+ddp", "kernel", "64K", "<=", 0.8)
	ratio("throughput", "xsk+ddp", "xsk", "64K", ">=", 1)
	ratio("throughput", "xsk+ddp", "xsk", "512K", ">=", 1)
	ratio("throughput", "kernel+ddp", "kernel", "64K", ">=", 1)
	ratio("throughput", "kernel+ddp", "kernel", "512K", ">=", 1)
	# where placing pays, size by size (with BENCH_THRESHOLD under them)
	printf "\nhost cycles/B with DDP / without, median of the rounds:\n"
	n = split(sizes, bs, " ")
	for (i = 1; i <= n; i++) {
		printf "  %5s", bs[i]
		if (stats("host cycles/B", "xsk+ddp", "xsk", bs[i]))
			printf "  xsk %.2f (%.2f-%.2f)", M, LO, HI
		if (stats("host cycles/B", "kernel+ddp", "kernel", bs[i]))
			printf "  kernel %.2f (%.2f-%.2f)", M, LO, HI
		printf "\n"
	}
}' sizes="$sizes" sfx="$sfx" "$tmp/rounds"
echo "copies per placed byte (goal 1): the engine's placement, plus the kernel's"
echo "copy into an AF_XDP frame of placed bytes in frames not cut down; the host copies none"
