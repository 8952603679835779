#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# e2e_owners.sh BUILD: two hosts joined to one engine, reading verified;
# one (over AF_XDP) is killed mid-I/O; the other (kernel sockets) goes on
# reading, every byte verified; the dead one's flows and tags are shown as
# such, then reaped with its chunks; a third host takes its AF_XDP queue and
# its chunks; nothing is left at the end. Everything made here is removed
# on exit, failure included.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
. "$(dirname "$0")/../lib/netns.sh"
netns_bins "$build"
h=ddo$$h
t=ddo$$t
nqn=nqn.2024-01.io.ddp:owners

fail() {
	in_ns "$h" "$ddpctl" flows "$h" >&2 || true
	echo "FAIL: e2e_owners: $*" >&2
	exit 1
}

netns_pair "$h" "$t" 10.247.0.1/24 10.247.0.2/24
netns_tmp
tmp=$NETNS_TMP
netns_sender "$t" "$t" 2gbit
target_start "$target" "$t" 10.247.0.2 "$nqn" 256M
in_ns "$h" "$ddpctl" attach "$h" --buffers 256M >/dev/null

# host NAME TRANSPORT SECONDS: a verified reader in the background
host_start() {
	nsenter --net="/run/netns/$h" "$host" perf -t "$2" -a 10.247.0.2 -s 4420 \
		-n "$nqn" --json --rw randread --bs 32K-1M --qd 32 -i 2 --time "$3" \
		--verify >"$tmp/$1" 2>"$tmp/$1.err" &
	NETNS_PIDS+=($!)
	eval "$1_pid=$!"
}

num() {
	sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$tmp/$1"
}

# flows_of OWNER: how many I/O queues 'ddpctl flows' shows offloaded for
# OWNER ("pid N", "dead N"); an AF_XDP host's admin queue is steered too
flows_of() {
	in_ns "$h" "$ddpctl" flows "$h" | grep -cE " (kernel|xsk) .* $1\$" || true
}

host_start a kernel 8
host_start b xsk 30
for _ in $(seq 100); do
	[ "$(flows_of "pid $b_pid")" = 2 ] && [ "$(flows_of "pid $a_pid")" = 2 ] && break
	sleep 0.1
done
[ "$(flows_of "pid $b_pid")" = 2 ] || fail "host b never offloaded: $(cat "$tmp/b.err" "$tmp/b")"
[ "$(flows_of "pid $a_pid")" = 2 ] || fail "host a never offloaded: $(cat "$tmp/a.err" "$tmp/a")"
sleep 1.5
kill -KILL "$b_pid"
wait "$b_pid" 2>/dev/null || true
[ "$(flows_of "dead $b_pid")" = 2 ] ||
	fail "host b's flows after its death: $(in_ns "$h" "$ddpctl" flows "$h")"

reaped=$(in_ns "$h" "$ddpctl" reap "$h")
# its two I/O queues and its admin queue (steered to its socket)
[[ $reaped == "reaped pid $b_pid: 3 flows, "*" tags, "*" chunks of the region" ]] ||
	fail "reap: $reaped"
[ "$(flows_of "dead $b_pid")" = 0 ] || fail "host b's flows after reaping"
[ "$(flows_of "pid $a_pid")" = 2 ] || fail "host a lost its flows"

# the dead host's queue and chunks serve another
host_start c xsk 2
wait "$c_pid" || fail "host c: $(cat "$tmp/c.err") $(cat "$tmp/c")"
wait "$a_pid" || fail "host a: $(cat "$tmp/a.err") $(cat "$tmp/a")"
for x in a c; do
	[ "$(num $x verify_bad)" = 0 ] && [ "$(num $x failed)" = 0 ] ||
		fail "host $x: bytes wrong or reads failed: $(cat "$tmp/$x")"
	[ "$(num $x placed_bytes)" -gt 0 ] || fail "host $x: nothing placed"
done
grep -q '"transport":"xsk"' "$tmp/c" || fail "host c: $(cat "$tmp/c")"

# nothing left: no flow, no tag, every tag set up torn down
[ "$(in_ns "$h" "$ddpctl" flows "$h" --json)" = "[]" ] || fail "flows left"
[ "$(in_ns "$h" "$ddpctl" tags "$h" --json)" = "[]" ] || fail "tags left"
stats=$(in_ns "$h" "$ddpctl" stats "$h" --json)
setup=$(sed -n 's/.*"ddp_setup":\([0-9]*\).*/\1/p' <<<"$stats")
torn=$(sed -n 's/.*"ddp_teardown":\([0-9]*\).*/\1/p' <<<"$stats")
[ "$setup" = "$torn" ] || fail "$setup tags set up, $torn torn down"
echo "e2e_owners: host a read $(num a ios) verified while host b was killed and reaped" \
	"($reaped); host c took its queue and read $(num c ios) verified; nothing left: ok"
