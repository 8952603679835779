#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# e2e_queues.sh BUILD: the AF_XDP host on an interface with 4 RX queues.
# The target's connections leave on 4 TX queues of its veth, so the host's
# arrive on 4 RX queues (as RSS spreads them on a NIC): the host serves
# every queue with a socket of its own over one UMEM, the engine redirects
# each frame to its queue's. Reads verified, placed as on one queue, more
# than one queue used, nothing left behind. Then more RX queues than the
# engine redirects: AF_XDP refused, saying why, kernel sockets instead.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
. "$(dirname "$0")/../lib/netns.sh"
netns_bins "$build"
h=ddq$$h
t=ddq$$t
nqn=nqn.2024-01.io.ddp:queues

fail() {
	echo "FAIL: e2e_queues: $*" >&2
	exit 1
}

# 65 queues each way, 4 in use (ethtool -L, as on a NIC)
netns_pair "$h" "$t" 10.246.0.1/24 10.246.0.2/24 65
ip netns exec "$h" ethtool -L "$h" rx 4 tx 4
ip netns exec "$t" ethtool -L "$t" rx 4 tx 4
netns_tmp
tmp=$NETNS_TMP
netns_sender "$t" "$t" 2gbit
target_start "$target" "$t" 10.246.0.2 "$nqn" 256M
in_ns "$h" "$ddpctl" attach "$h" --buffers 128M >/dev/null

num() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$tmp/out"
}

# 9 connections (the admin queue and 8 I/O queues) over the target's 4 TX
# queues: all on one is 4 chances in 4^9
in_ns "$h" "$host" perf -t xsk -a 10.246.0.2 -s 4420 -n "$nqn" --json -v \
	--rw randread --bs 32K-1M --qd 16 -i 8 --time 4 --verify \
	>"$tmp/out" 2>"$tmp/err" || fail "perf: $(cat "$tmp/err" "$tmp/out")"
grep -q "^ddp-host: AF_XDP on '$h': a socket on each of its RX queues (4), copy mode (the driver offers no zero-copy)$" "$tmp/err" ||
	fail "the host did not say it serves 4 queues: $(cat "$tmp/err")"
grep -q '"transport":"xsk"' "$tmp/out" || fail "not over AF_XDP: $(cat "$tmp/out")"
[ "$(num verify_bad)" = 0 ] && [ "$(num failed)" = 0 ] && [ "$(num ios)" -gt 0 ] ||
	fail "reads: $(cat "$tmp/out")"
[ $(($(num placed_bytes) * 100)) -ge $(($(num read_bytes) * 90)) ] ||
	fail "$(num placed_bytes) of $(num read_bytes) bytes placed: $(cat "$tmp/out")"

# the frames each RX queue redirected to its socket
ip netns exec "$h" ethtool -S "$h" >"$tmp/stats"
used=$(awk '/rx_queue_[0-9]+_xdp_redirect:/ && $2 > 0 { n++ } END { print n + 0 }' "$tmp/stats")
[ "$used" -ge 2 ] || fail "frames redirected on $used RX queue(s): $(cat "$tmp/stats")"

stats=$(in_ns "$h" "$ddpctl" stats "$h" --json)
setup=$(sed -n 's/.*"ddp_setup":\([0-9]*\).*/\1/p' <<<"$stats")
torn=$(sed -n 's/.*"ddp_teardown":\([0-9]*\).*/\1/p' <<<"$stats")
[ -n "$setup" ] && [ "$setup" = "$torn" ] || fail "tags: $setup set up, $torn torn down"
[ "$(in_ns "$h" "$ddpctl" flows "$h" --json)" = "[]" ] || fail "flows left behind"

summary="e2e_queues: $(num ios) reads verified over 4 RX queues ($used used), $(num placed_bytes) of $(num read_bytes) bytes placed; $setup tags set up and torn down; zero-copy refused by veth, copy mode taken; with 65 queues, refused and read over kernel sockets: ok"

# veth has no zero-copy: asked for it alone, the host says so; asked
# for copy mode, it reads in copy mode
rc=0
in_ns "$h" "$host" perf -t xsk -a 10.246.0.2 -s 4420 -n "$nqn" --bs 64K \
	--time 1 --zero-copy >/dev/null 2>"$tmp/err" || rc=$?
why="binding '$h' queue 0 zero-copy: Operation not supported (the driver offers no zero-copy there; copy mode would)"
[ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "ddp-host: AF_XDP on $h: $why" ] ||
	fail "--zero-copy on veth: exit $rc, said '$(cat "$tmp/err")'"
in_ns "$h" "$host" perf -t xsk -a 10.246.0.2 -s 4420 -n "$nqn" --json -v \
	--bs 64K --time 1 --verify --copy >"$tmp/out" 2>"$tmp/err" ||
	fail "--copy: $(cat "$tmp/err")"
grep -q "^ddp-host: AF_XDP on '$h': a socket on each of its RX queues (4), copy mode$" "$tmp/err" &&
	[ "$(num verify_bad)" = 0 ] && [ "$(num ios)" -gt 0 ] ||
	fail "--copy: said '$(cat "$tmp/err")': $(cat "$tmp/out")"

ip netns exec "$h" ethtool -L "$h" rx 65
rc=0
in_ns "$h" "$host" perf -t xsk -a 10.246.0.2 -s 4420 -n "$nqn" --bs 64K \
	--time 1 >/dev/null 2>"$tmp/err" || rc=$?
why="'$h' has 65 RX queues and the engine redirects to at most 64 (ethtool -L $h rx 64)"
[ "$rc" = 1 ] && [ "$(cat "$tmp/err")" = "ddp-host: AF_XDP on $h: $why" ] ||
	fail "65 RX queues, -t xsk: exit $rc, said '$(cat "$tmp/err")'"
in_ns "$h" "$host" perf -t tcp -a 10.246.0.2 -s 4420 -n "$nqn" --json \
	--rw randread --bs 64K --time 1 --verify >"$tmp/out" 2>"$tmp/err" ||
	fail "65 RX queues, -t tcp: $(cat "$tmp/err")"
[ "$(cat "$tmp/err")" = "ddp-host: no AF_XDP on $h: $why; using kernel sockets" ] &&
	grep -q '"transport":"kernel"' "$tmp/out" && [ "$(num verify_bad)" = 0 ] ||
	fail "65 RX queues, -t tcp: said '$(cat "$tmp/err")': $(cat "$tmp/out")"

echo "$summary"
