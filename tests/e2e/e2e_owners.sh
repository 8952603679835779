#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# e2e_owners.sh BUILD: two hosts joined to one engine, reading verified;
# one (over AF_XDP) is killed mid-I/O; the other (kernel sockets) goes on
# reading, every byte verified; the dead one's flows and tags are shown as
# such, its chunks of the region still held, then all of them reaped: what
# is held then is what the survivor held alone; a third host takes the dead
# one's AF_XDP queue and chunks; nothing is left at the end, no chunk
# held. Everything made here is removed on exit, failure included.
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
# the hosts' buffers in the region, whose chunks are counted (with
# kmod_glue's module loaded they would be pinned buffers of their own)
in_ns "$h" "$ddpctl" attach "$h" --buffers 256M --no-kfuncs >/dev/null

# host NAME TRANSPORT SECONDS [SIZES]: a verified reader in the background,
# of reads of SIZES (32K-1M: each read's buffer taken and given back with
# it; one size: one buffer a slot, held from start to end)
host_start() {
	nsenter --net="/run/netns/$h" "$host" perf -t "$2" -a 10.247.0.2 -s 4420 \
		-n "$nqn" --json --rw randread --bs "${4:-32K-1M}" --qd 32 -i 2 \
		--time "$3" --verify >"$tmp/$1" 2>"$tmp/$1.err" &
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

# chunks_held: chunks of the region held, as 'ddpctl status' says
chunks_held() {
	in_ns "$h" "$ddpctl" status "$h" --json |
		sed -n 's/.*"chunks_held":\([0-9]*\).*/\1/p'
}

# host a first, alone, its buffers held while it lives: what it holds is
# what the region has held once it offloaded and the count stands still
host_start a kernel 12 128K
for _ in $(seq 100); do
	[ "$(flows_of "pid $a_pid")" = 2 ] && break
	sleep 0.1
done
[ "$(flows_of "pid $a_pid")" = 2 ] || fail "host a never offloaded: $(cat "$tmp/a.err" "$tmp/a")"
a_chunks=0
for _ in $(seq 50); do
	n=$(chunks_held)
	[ "$n" -gt 0 ] && [ "$n" = "$a_chunks" ] && break
	a_chunks=$n
	sleep 0.2
done
[ "$a_chunks" -gt 0 ] && [ "$n" = "$a_chunks" ] ||
	fail "host a's chunks of the region: $a_chunks, then $n"

host_start b xsk 30
for _ in $(seq 100); do
	[ "$(flows_of "pid $b_pid")" = 2 ] && break
	sleep 0.1
done
[ "$(flows_of "pid $b_pid")" = 2 ] || fail "host b never offloaded: $(cat "$tmp/b.err" "$tmp/b")"
sleep 1.5
kill -KILL "$b_pid"
wait "$b_pid" 2>/dev/null || true
[ "$(flows_of "dead $b_pid")" = 2 ] ||
	fail "host b's flows after its death: $(in_ns "$h" "$ddpctl" flows "$h")"
# dead, it still holds its chunks: nobody is given them before it is reaped
held_dead=$(chunks_held)

reaped=$(in_ns "$h" "$ddpctl" reap "$h")
# its two I/O queues and its admin queue (steered to its socket)
[[ $reaped == "reaped pid $b_pid: 3 flows, "*" tags, "*" chunks of the region" ]] ||
	fail "reap: $reaped"
b_chunks=$(sed -n 's/.* tags, \([0-9]*\) chunks of the region$/\1/p' <<<"$reaped")
[ "$(flows_of "dead $b_pid")" = 0 ] || fail "host b's flows after reaping"
[ "$(flows_of "pid $a_pid")" = 2 ] || fail "host a lost its flows"
# its AF_XDP frames at least; the rest held by host a, as it held alone
[ "$b_chunks" -gt 0 ] && [ "$held_dead" = $((a_chunks + b_chunks)) ] ||
	fail "host b reaped with $b_chunks chunks; $held_dead were held after its death, host a's $a_chunks with them"
held=$(chunks_held)
[ "$held" = "$a_chunks" ] ||
	fail "$held chunks held once host b was reaped, host a holding $a_chunks"

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
[ "$(chunks_held)" = 0 ] || fail "$(chunks_held) chunks of the region still held"
echo "e2e_owners: host a read $(num a ios) verified while host b was killed and reaped" \
	"($reaped; $a_chunks chunks held then, host a's); host c took its queue and" \
	"read $(num c ios) verified; nothing left, no chunk held: ok"
