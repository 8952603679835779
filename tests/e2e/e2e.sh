#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# e2e.sh BUILD TRANSPORT: end to end over the host's TRANSPORT (xsk:
# its own TCP on AF_XDP; kernel: kernel sockets). The target in one
# namespace, the host in another with the engine attached to its veth;
# reads completed out of order, every byte verified, and the engine's
# counters held to what the kernel's own acceptance test (blktests
# nvme/056) asks of an offload:
#   reads of 32 KiB to 1 MiB: at least 90% of bytes and 95% of packets
#   offloaded; reads under the io_threshold: about none; drops and resync
#   requests under 5% of packets; as many tags torn down as set up.
# Then reads of 32 KiB to 1 MiB with 1% of the target's segments dropped
# and 1% reordered (tc programs on its veth): not one byte wrong, every
# resync request answered, at least 70% of the bytes placed; nothing
# leaked.
# On xsk, the copy budget: placed bytes reach the host only as metadata.
# Over IPv6 too, placed as IPv4 is.
# Everything made here is removed on exit, failure included.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"
[ -n "${E2E_DEBUG:-}" ] && set -x

build=${1:-build}
transport=${2:-kernel}
. "$(dirname "$0")/../lib/netns.sh"
netns_bins "$build"
h=dde$$h
t=dde$$t
nqn=nqn.2024-01.io.ddp:e2e

in_h() {
	in_ns "$h" "$@"
}

fail() {
	echo "FAIL: e2e ($transport): $*" >&2
	exit 1
}

# the engine goes with the namespace and the pins with the BPF filesystem
netns_pair "$h" "$t" 10.254.0.1/24 10.254.0.2/24
netns_tmp
tmp=$NETNS_TMP
# a 2 Gbit/s wire: the ratios are the engine's, not those of a veth that
# reorders frames when its XDP peer pushes back (see netns.sh)
netns_sender "$t" "$t" 2gbit

target_start "$target" "$t" 10.254.0.2 "$nqn" 256M
in_h "$ddpctl" attach "$h" --buffers 128M >/dev/null

# perf NAME ARGS...: a perf run whose JSON summary lands in $tmp/NAME
perf() {
	local name=$1
	shift
	in_h "$host" perf -t "$transport" -a 10.254.0.2 -s 4420 -n "$nqn" --json \
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
# data digests: the engine's verdict taken for nearly every PDU, none bad;
# over AF_XDP, of those whose every byte came in the copy the engine judged
# (a loaded machine delays ACKs, the target sends again, and utcp believes
# no verdict over a duplicate: not so for most)
digests=$(($(num big ddgst_ok) + $(num big ddgst_bad) + $(num big ddgst_computed)))
clean=$((digests - $(num big ddgst_unclean)))
[ "$(num big ddgst_bad)" = 0 ] && [ $(($(num big ddgst_ok) * 100)) -ge $((clean * 95)) ] &&
	[ $((clean * 2)) -ge "$digests" ] ||
	fail "big: data digests: $(num big ddgst_ok) ok, $(num big ddgst_bad) bad of $digests ($(num big ddgst_unclean) not believed over a duplicate)"

perf small --rw randread --bs 4K-16K --qd 32 -i 2 --time 2 --verify
under small engine_offload_bytes read_bytes 1

perf mixed --rw randread --bs 4K-1M --qd 32 -i 2 --time 3 --verify
[ "$(num mixed verify_bad)" = 0 ] || fail "mixed: bytes differ"

# --discard (make bench's bound): reads taken off the stream and thrown
# away uncopied; PDUs of every size in a row, so a byte out of step would
# break the next header
perf discard --rw randread --bs 4K-1M --qd 32 -i 2 --time 2 --discard
[ "$(num discard failed)" = 0 ] && [ "$(num discard ios)" -gt 0 ] &&
	[ "$(num discard discarded_bytes)" = "$(num discard read_bytes)" ] &&
	[ "$(num discard copied_bytes)" = 0 ] &&
	[ "$(num discard placed_bytes)" = 0 ] ||
	fail "discard: $(cat "$tmp/discard")"
# nothing to check against, nowhere to place
for bad in --verify -G; do
	in_h "$host" perf -t "$transport" -a 10.254.0.2 -s 4420 -n "$nqn" \
		--discard "$bad" >/dev/null 2>"$tmp/discard.err" &&
		fail "discard with $bad: accepted"
	[ "$(head -1 "$tmp/discard.err")" = "ddp-host: --discard throws the data away: no --verify, no -G" ] ||
		fail "discard with $bad: $(cat "$tmp/discard.err")"
done

# a receive buffer that holds less than a PDU's data (its segments' memory
# counted): the host must not wait for bytes the closed window keeps out
if [ "$transport" = kernel ]; then
	rmem=$(ip netns exec "$h" sysctl -n net.ipv4.tcp_rmem)
	ip netns exec "$h" sysctl -qw net.ipv4.tcp_rmem="4096 16384 65536"
	in_h timeout 60 "$host" perf -t kernel -a 10.254.0.2 -s 4420 -n "$nqn" \
		--json --rw randread --bs 512K --qd 8 -i 1 --time 2 --verify \
		>"$tmp/tight" || fail "small receive buffer: exit $?: $(cat "$tmp/tight")"
	ip netns exec "$h" sysctl -qw net.ipv4.tcp_rmem="$rmem"
	[ "$(num tight verify_bad)" = 0 ] && [ "$(num tight ios)" -gt 0 ] ||
		fail "small receive buffer: $(cat "$tmp/tight")"
	at_least tight placed_bytes read_bytes 50
	echo "e2e (kernel), a 64K receive buffer: $(num tight ios) 512K reads verified," \
		"$(num tight placed_bytes) of $(num tight read_bytes) bytes placed: ok"
fi

# the copy budget: the host copies no placed byte, and placed bytes reach
# it only cut out of their frames (else the kernel copied them once more)
if [ "$transport" = xsk ]; then
	[ "$(num big copied_bytes)" -le $(($(num big read_bytes) - $(num big placed_bytes))) ] ||
		fail "big: the host copied placed bytes: $(cat "$tmp/big")"
	under big placed_in_frames placed_bytes 1
fi

# where AF_XDP cannot be had (here: no privileges), the host says so and
# reads over kernel sockets; asked for AF_XDP by name, it fails, saying why
if [ "$transport" = xsk ]; then
	nobody=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	why="must be run as root (BPF and XDP need CAP_BPF, CAP_NET_ADMIN)"
	in_h "${nobody[@]}" "$host" perf -t tcp -a 10.254.0.2 -s 4420 -n "$nqn" \
		--json --rw randread --bs 64K --qd 4 --time 1 --verify \
		>"$tmp/nopriv" 2>"$tmp/nopriv.err" || fail "unprivileged: $(cat "$tmp/nopriv.err")"
	[ "$(cat "$tmp/nopriv.err")" = "ddp-host: no AF_XDP on $h: $why; using kernel sockets" ] ||
		fail "unprivileged: said '$(cat "$tmp/nopriv.err")'"
	grep -q '"transport":"kernel"' "$tmp/nopriv" || fail "unprivileged: $(cat "$tmp/nopriv")"
	[ "$(num nopriv verify_bad)" = 0 ] && [ "$(num nopriv ios)" -gt 0 ] ||
		fail "unprivileged: $(cat "$tmp/nopriv")"
	rc=0
	in_h "${nobody[@]}" "$host" perf -t xsk -a 10.254.0.2 -s 4420 -n "$nqn" \
		--bs 64K --time 1 >/dev/null 2>"$tmp/noxsk.err" || rc=$?
	[ "$rc" = 1 ] && [ "$(cat "$tmp/noxsk.err")" = "ddp-host: AF_XDP on $h: $why" ] ||
		fail "unprivileged, -t xsk: exit $rc, said '$(cat "$tmp/noxsk.err")'"
fi

# IPv6: placed as IPv4 is (over AF_XDP, on the host's own TCP, with
# neighbour discovery), and ddpctl flows names the connection while it reads
ip -n "$h" addr add fd00:dde::1/64 dev "$h" nodad
ip -n "$t" addr add fd00:dde::2/64 dev "$t" nodad
target_start "$target" "$t" fd00:dde::2 "$nqn" 64M 4423
in_h "$host" perf -t "$transport" -a fd00:dde::2 -s 4423 -n "$nqn" --json \
	--rw randread --bs 32K-1M --qd 16 --time 2 --verify -g -G \
	>"$tmp/v6" 2>"$tmp/v6.err" &
hp=$!
seen=
while kill -0 "$hp" 2>/dev/null; do
	in_h "$ddpctl" flows "$h" >"$tmp/v6.flows"
	grep -q " \[fd00:dde::2\]:4423 *\[fd00:dde::1\]:[0-9]* *$transport " "$tmp/v6.flows" &&
		seen=1 && break
	sleep 0.1
done
wait "$hp" || fail "IPv6: $(cat "$tmp/v6.err" "$tmp/v6")"
[ -n "$seen" ] || fail "IPv6: ddpctl flows never showed it: $(cat "$tmp/v6.flows")"
grep -q "\"transport\":\"$transport\"" "$tmp/v6" || fail "IPv6: not over $transport: $(cat "$tmp/v6.err" "$tmp/v6")"
[ "$(num v6 verify_bad)" = 0 ] && [ "$(num v6 failed)" = 0 ] ||
	fail "IPv6: $(cat "$tmp/v6")"
at_least v6 placed_bytes read_bytes 90
echo "e2e ($transport) over IPv6: $(num v6 ios) reads verified, $(num v6 placed_bytes) of $(num v6 read_bytes) bytes placed: ok"

# a controller that stops (its process stopped mid-read, its sockets still
# taking commands): the host fails the queue after --io-timeout, naming
# the command and what it waited for, rather than wait for ever
target_start "$target" "$t" 10.254.0.2 "$nqn" 64M 4422
stopped=${NETNS_PIDS[-1]}
in_h timeout 60 "$host" perf -t "$transport" -a 10.254.0.2 -s 4422 -n "$nqn" \
	--rw randread --bs 256K --qd 8 --time 30 --io-timeout 2 \
	>"$tmp/stopped" 2>"$tmp/stopped.err" &
hp=$!
sleep 1
kill -STOP "$stopped"
rc=0
wait "$hp" || rc=$?
kill -CONT "$stopped"
[ "$rc" != 0 ] && [ "$rc" != 124 ] &&
	grep -Eq 'queue [0-9]+: (command [0-9]+ not done in 2 s|the controller stopped inside a PDU)' "$tmp/stopped.err" ||
	fail "a stopped controller: exit $rc, said '$(cat "$tmp/stopped.err")'"
echo "e2e ($transport), a controller stopped mid-read: $(grep -Eo 'queue [0-9]+: .*' "$tmp/stopped.err" | head -1): ok"

leaks() {
	local stats setup torn
	stats=$(in_h "$ddpctl" stats "$h" --json)
	setup=$(sed -n 's/.*"ddp_setup":\([0-9]*\).*/\1/p' <<<"$stats")
	torn=$(sed -n 's/.*"ddp_teardown":\([0-9]*\).*/\1/p' <<<"$stats")
	[ -n "$setup" ] && [ "$setup" = "$torn" ] ||
		fail "tags leaked: $setup set up, $torn torn down"
	[ "$(in_h "$ddpctl" flows "$h" --json)" = "[]" ] || fail "flows leaked"
	echo "$setup"
}
setup=$(leaks)

# faults NAME "FAULTS" PERF-ARGS...: a perf run while fault_inject acts on
# the target's segments (its exit status is the checks' to judge); what it
# did, as JSON, in $tmp/NAME.faults
faults() {
	local name=$1 how=$2
	shift 2
	netns_faults "$t" "$t" 4420 "$how" "$tmp/$name.faults" \
		in_h "$host" perf -t "$transport" -a 10.254.0.2 -s 4420 -n "$nqn" \
		--json "$@" >"$tmp/$name" || true
}

fault_count() {
	sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$tmp/$1.faults"
}

# 1% of the target's segments dropped, 1% reordered; data digests on: the
# engine's verdicts under loss are never wrong (no read fails)
# (a count of reads, not a time: a loaded machine reads as many, slower)
faults lossy "--drop 10000 --delay 10000" --rw randread --bs 32K-1M --qd 32 \
	-i 2 --ios 1500 --time 120 --verify -G
[ "$(num lossy verify_bad)" = 0 ] || fail "lossy: bytes differ"
[ "$(num lossy failed)" = 0 ] || fail "lossy: reads failed: $(cat "$tmp/lossy")"
[ "$(num lossy ios)" = 1500 ] || fail "lossy: $(num lossy ios) reads of 1500"
[ "$(fault_count lossy dropped)" -gt 0 ] ||
	fail "lossy: no fault injected: $(cat "$tmp/lossy.faults")"
requests=$(num lossy engine_resync)
confirmed=$(num lossy engine_resync_confirm)
[ "$confirmed" -gt 0 ] || fail "lossy: no resync confirmed: $(cat "$tmp/lossy")"
# most requests confirmed (others denied, or superseded by a later one)
[ $((confirmed * 100)) -ge $((requests * 50)) ] ||
	fail "lossy: $requests resync requests, $confirmed confirmed: $(cat "$tmp/lossy")"
# what loss costs: the bytes of the frames lost or late (resent, or late,
# they come behind the tracker), and the bytes from a lost header on until
# the tracker reads that header from its late copy, or resyncs (see
# docs/ARCHITECTURE.md, "What loss costs the kernel-socket path"). The
# goal, 85%, is make bench-loss's to measure: a loaded machine answers
# resync requests later (measured 80 to 89% with the qemu guests of make
# test running); 70% is a floor that load does not break, and that
# placement which stopped resuming, or resumed only by resyncs answered
# late, would (53 to 67% before)
at_least lossy placed_bytes read_bytes 70
lossy_setup=$(leaks)

# data changed under a TCP checksum fixed to match: only the data digest
# tells. The reads it hits fail with a digest error, by the engine's
# verdict or the host's own CRC; no read is reported good with a wrong
# byte, none fails that was not hit, and the queues go on. Then the same
# under loss, where a resent copy may differ from the one the engine saw.
# mangled NAME: those checks
mangled() {
	local n
	n=$(fault_count "$1" mangled)
	[ "$n" -gt 0 ] || fail "$1: nothing changed: $(cat "$tmp/$1.faults")"
	[ "$(num "$1" verify_bad)" = 0 ] || fail "$1: a wrong read passed: $(cat "$tmp/$1")"
	[ "$(num "$1" failed)" -le "$n" ] ||
		fail "$1: $n PDUs changed, $(num "$1" failed) reads failed: $(cat "$tmp/$1")"
	[ "$(num "$1" ios)" -gt $((10 * $(num "$1" failed))) ] ||
		fail "$1: the queues did not go on: $(cat "$tmp/$1")"
}
faults mangled "--mangle 100000" --rw randread --bs 128K --qd 8 -i 2 --time 3 \
	--verify -G
mangled mangled
[ "$(num mangled failed)" -gt 0 ] && [ "$(num mangled ddgst_bad)" -gt 0 ] ||
	fail "mangled: no digest found bad: $(cat "$tmp/mangled")"
faults mangled_lossy "--mangle 100000 --drop 10000 --delay 10000" \
	--rw randread --bs 128K --qd 8 -i 2 --time 3 --verify -G
mangled mangled_lossy
leaks >/dev/null

# a segment pool smaller than the reads in flight need (64 blocks of 4
# segments; a read's buffer takes one): the engine refuses the tags it
# has no room for, counted, and those reads are served in software, every
# byte verified; the pool is all free again after
in_h "$ddpctl" detach "$h" >/dev/null
in_h "$ddpctl" attach "$h" --buffers 128M --segs 256 >/dev/null
perf pool --rw randread --bs 32K-256K --qd 32 -i 4 --time 2 --verify
[ "$(num pool verify_bad)" = 0 ] && [ "$(num pool failed)" = 0 ] &&
	[ "$(num pool ddp_fail)" -gt 0 ] &&
	[ "$(num pool engine_ddp_setup_fail)" = "$(num pool ddp_fail)" ] &&
	[ "$(num pool ddp_ios)" -gt 0 ] && [ "$(num pool placed_bytes)" -gt 0 ] ||
	fail "a small segment pool: $(cat "$tmp/pool")"
in_h "$ddpctl" status "$h" --json >"$tmp/pool.status"
grep -q '"segs":0,"seg_pool":256,' "$tmp/pool.status" ||
	fail "a small segment pool, after: $(cat "$tmp/pool.status")"

# a tag pool for two queues of 16 and a host of four: two are offloaded,
# the others refused, counted, and read in software (over AF_XDP still
# steered), every byte verified; the pool is all free again after
in_h "$ddpctl" detach "$h" >/dev/null
in_h "$ddpctl" attach "$h" --buffers 128M --tag-pool 32 >/dev/null
perf tagpool --rw randread --bs 32K-256K --qd 8 -Q 16 -i 4 --time 2 --verify
in_h "$ddpctl" stats "$h" --json >"$tmp/tagpool.stats"
[ "$(num tagpool verify_bad)" = 0 ] && [ "$(num tagpool failed)" = 0 ] &&
	[ "$(num tagpool queues_offloaded)" = 2 ] &&
	[ "$(num tagpool.stats sk_add_fail)" = 2 ] &&
	[ "$(num tagpool placed_bytes)" -gt 0 ] &&
	grep -q "\"transport\":\"$transport\"" "$tmp/tagpool" ||
	fail "a small tag pool: $(cat "$tmp/tagpool" "$tmp/tagpool.stats")"
in_h "$ddpctl" status "$h" --json >"$tmp/tagpool.status"
grep -q '"tags":0,"tags_held":0,"max_tags":32,' "$tmp/tagpool.status" ||
	fail "a small tag pool, after: $(cat "$tmp/tagpool.status")"

echo "e2e ($transport): 32K-1M reads $(num big placed_bytes) of $(num big read_bytes) bytes placed," \
	"$(num big engine_offload_packets) of $(num big engine_rx_packets) packets," \
	"$(num big ddgst_ok) of $digests data digests checked by the engine;" \
	"4K-16K reads $(num small engine_offload_bytes) bytes placed;" \
	"$(num mixed ios) mixed reads verified; $setup tags set up and torn down: ok"
echo "e2e ($transport), data changed under good TCP checksums: $(fault_count mangled mangled) PDUs," \
	"$(num mangled failed) reads failed on their digest ($(num mangled ddgst_bad) by the engine's verdict)," \
	"$(num mangled ios) reads, none wrong; at 1% loss: $(fault_count mangled_lossy mangled) PDUs," \
	"$(num mangled_lossy failed) failed ($(num mangled_lossy ddgst_bad) by the engine), none wrong: ok"
echo "e2e ($transport) at 1% loss, 1% reordering ($(cat "$tmp/lossy.faults")): $(num lossy ios) reads verified," \
	"$(num lossy placed_bytes) of $(num lossy read_bytes) bytes placed," \
	"$requests resync requests, $confirmed confirmed," \
	"$(num lossy engine_retrans) frames behind the expected sequence; $lossy_setup tags set up and torn down: ok"
echo "e2e ($transport), a segment pool of 256 for 128 reads in flight: $(num pool ios) reads verified," \
	"$(num pool ddp_ios) placed, $(num pool ddp_fail) refused a tag and read in software: ok"
echo "e2e ($transport), a tag pool of 32 for 4 queues of 16: $(num tagpool ios) reads verified," \
	"2 queues offloaded, 2 refused and read in software: ok"
