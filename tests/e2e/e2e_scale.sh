#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# e2e_scale.sh BUILD: 1,024 I/O queues at once from 4 host processes of
# 256 each, over kernel sockets (one engine, one target): every queue
# offloaded at once, reads of 32 KiB to 512 KiB verified, at least 90% of
# their bytes placed, and at the end every flow and every tag gone. Prints
# what the attach took (time, and the memory of the engine's maps). Then
# an attach at the limits: 65,536 flows of 16 tags (1,048,576 tags), its
# time printed and its maps, besides the buffer region, under 1 GiB.
# Not 1 MiB reads: 1,024 of them at once would need up to 1 GiB of buffers
# in the region, which holds 512 MiB at most (the verifier's bound on an
# offset into a map value); with them 85 to 94% of the bytes were placed,
# the rest of the reads finding no room and copied, as they should.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
secs=${SCALE_SECONDS:-10}
. "$(dirname "$0")/../lib/netns.sh"
netns_bins "$build"
h=dds$$h
t=dds$$t
nqn=nqn.2024-01.io.ddp:scale
hosts=4
queues=256

fail() {
	echo "FAIL: e2e_scale: $*" >&2
	exit 1
}

netns_pair "$h" "$t" 10.244.0.1/24 10.244.0.2/24
netns_tmp
tmp=$NETNS_TMP
# a 2 Gbit/s wire: the veth never pushes back, so never reorders (see
# netns.sh); reordering is e2e.sh's to test, not this one's
netns_sender "$t" "$t" 2gbit
target_start "$target" "$t" 10.244.0.2 "$nqn" 1G 4420 --max-queues "$queues"

# a flow per I/O queue and a few to spare; the largest region, where the
# hosts take each read's buffer at its size (about 200 MiB in use at once).
# Tags by use: queues of 16 entries, so a pool of 16 a flow, though a flow
# of a deeper queue could hold up to 128.
flows=$((hosts * queues + 16))
t0=$(date +%s%N)
in_ns "$h" "$ddpctl" attach "$h" --flows "$flows" --tag-pool $((flows * 16)) \
	--buffers 512M >/dev/null
attach_ms=$((($(date +%s%N) - t0) / 1000000))
# KiB of the engine's maps, by their pins (bpftool lists every map of the
# machine), but for those named
maps_kb() {
	local pin kb sum=0

	for pin in /sys/fs/bpf/ddp/"$h"/*; do
		case " $* " in *" ${pin##*/} "*) continue ;; esac
		kb=$(bpftool map show pinned "$pin" 2>/dev/null |
			sed -n 's/.*memlock \([0-9]*\)B.*/\1/p' || true)
		sum=$((sum + ${kb:-0} / 1024))
	done
	echo "$sum"
}
maps_kb=$(maps_kb)

# each host reads until told to stop, SECONDS from when all the queues
# are up (connecting 256 queues takes a loaded machine a while)
for i in $(seq "$hosts"); do
	# nsenter itself, not a function: $! must be the host's pid
	nsenter --net="/run/netns/$h" "$host" perf -t kernel -a 10.244.0.2 \
		-s 4420 -n "$nqn" --json -i "$queues" -Q 16 --qd 1 --rw randread \
		--bs 32K-512K --time 600 --verify >"$tmp/host$i" 2>"$tmp/host$i.err" &
	NETNS_PIDS+=($!)
	pids[i]=$!
done
most=0
while kill -0 "${pids[@]}" 2>/dev/null; do
	n=$(in_ns "$h" "$ddpctl" flows "$h" | grep -c ' kernel ' || true)
	[ "$n" -le "$most" ] || most=$n
	[ "$most" -lt $((hosts * queues)) ] || break
	sleep 0.5
done
[ "$most" = $((hosts * queues)) ] ||
	fail "at most $most of $((hosts * queues)) queues offloaded at once: $(cat "$tmp"/host*.err)"
# each holds the 16 tags of its queue
held=$(in_ns "$h" "$ddpctl" status "$h" --json | sed -n 's/.*"tags_held":\([0-9]*\).*/\1/p')
[ "$held" = $((hosts * queues * 16)) ] ||
	fail "$held tags held by $((hosts * queues)) queues of 16"
sleep "$secs"
kill -INT "${pids[@]}"
for i in $(seq "$hosts"); do
	wait "${pids[i]}" || fail "host $i: $(cat "$tmp/host$i.err" "$tmp/host$i")"
done

num() {
	sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$tmp/$1"
}
ios=0 bytes=0 placed=0
for i in $(seq "$hosts"); do
	[ "$(num "host$i" verify_bad)" = 0 ] && [ "$(num "host$i" failed)" = 0 ] &&
		[ "$(num "host$i" queues_offloaded)" = "$queues" ] ||
		fail "host $i: $(cat "$tmp/host$i")"
	ios=$((ios + $(num "host$i" ios)))
	bytes=$((bytes + $(num "host$i" read_bytes)))
	placed=$((placed + $(num "host$i" placed_bytes)))
done
# what was not placed: reads not registered (the region full), or lost
# to the placement after gaps and resyncs
why=
for i in $(seq "$hosts"); do
	why+=" host $i: $(num "host$i" ddp_ios) of $(num "host$i" ios) reads registered,"
	why+=" $(num "host$i" engine_retrans) frames resent, $(num "host$i" engine_resync) resyncs;"
done
[ $((placed * 100)) -ge $((bytes * 90)) ] ||
	fail "$placed of $bytes bytes placed:$why"

stats=$(in_ns "$h" "$ddpctl" stats "$h" --json)
setup=$(sed -n 's/.*"ddp_setup":\([0-9]*\).*/\1/p' <<<"$stats")
torn=$(sed -n 's/.*"ddp_teardown":\([0-9]*\).*/\1/p' <<<"$stats")
[ -n "$setup" ] && [ "$setup" = "$torn" ] || fail "tags: $setup set up, $torn torn down"
[ "$(in_ns "$h" "$ddpctl" flows "$h" --json)" = "[]" ] || fail "flows left behind"

# the limits: 65,536 flows, each up to 128 tags (a queue of 128, the
# default), from a pool of 1,048,576 tags, records by them
in_ns "$h" "$ddpctl" detach "$h" >/dev/null
t0=$(date +%s%N)
in_ns "$h" "$ddpctl" attach "$h" --flows 65536 --tags 128 --tag-pool 1M \
	--buffers 16M >/dev/null
max_ms=$((($(date +%s%N) - t0) / 1000000))
max_kb=$(maps_kb ddp_bufs)
[ "$max_kb" -lt $((1 << 20)) ] || fail "attach at 65,536 flows: $max_kb KiB of maps besides the region"
in_ns "$h" "$ddpctl" status "$h" >"$tmp/max.status"
grep -q " 0/65536 *0/0/1048576 *0/8388608 *0/20971520 " "$tmp/max.status" ||
	fail "attach at 65,536 flows: $(cat "$tmp/max.status")"

echo "e2e_scale: attach of $flows flows in $attach_ms ms, ${maps_kb} KiB of maps;" \
	"$((hosts * queues)) I/O queues from $hosts processes offloaded at once, holding $held tags;" \
	"$ios reads verified, $placed of $bytes bytes placed; $setup tags set up and torn down;" \
	"attach at 65,536 flows of up to 128 tags, 1,048,576 in all, in $max_ms ms, $max_kb KiB of maps besides the region: ok"
