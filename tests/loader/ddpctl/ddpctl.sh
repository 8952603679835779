#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# ddpctl, command by command, on a veth pair and a bridge in namespaces made
# here: every output and error message compared literally, and exit codes
# (0 done, 1 failed, 2 usage). Everything made here is removed on exit.
set -euo pipefail
. "$(dirname "$0")/../../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
ddpctl=$(realpath "$build/ddpctl")
hold=$(realpath "$build/ddp_hold")
pass_obj=$(realpath "$build/xdp_pass.bpf.o")
. "$(dirname "$0")/../../lib/netns.sh"

a=ddc$$a
b=ddc$$b
br=ddc$$br
tmp=$(mktemp -d)
hold_pid=

cleanup() {
	# gone already, maybe: cleaning up goes on
	[ -z "$hold_pid" ] || kill "$hold_pid" 2>/dev/null || true
	for ns_dev in "$a $a" "$a $br" "$b $b"; do
		set -- $ns_dev
		nsenter --net="/run/netns/$1" "$ddpctl" detach "$2" \
			>/dev/null 2>&1 || true
	done
	rm -rf "$tmp"
	netns_cleanup
}

netns_pair "$a" "$b" 10.252.0.1/24 10.252.0.2/24
trap cleanup EXIT
ip -n "$a" link add "$br" type bridge
ip -n "$a" link set "$br" up

in_a() {
	nsenter --net="/run/netns/$a" "$@"
}

fails=0
# check CODE STDOUT STDERR CMD...: the command's exit code and both
# outputs, literally
check() {
	local code=$1 out=$2 err=$3 rc=0
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
	if [ "$rc" != "$code" ] || [ "$(cat "$tmp/out")" != "$out" ] ||
		[ "$(cat "$tmp/err")" != "$err" ]; then
		echo "FAIL: $*" >&2
		echo "  exit $rc (want $code)" >&2
		diff <(echo "$out") "$tmp/out" | sed 's/^/  stdout: /' >&2 || true
		diff <(echo "$err") "$tmp/err" | sed 's/^/  stderr: /' >&2 || true
		fails=$((fails + 1))
	fi
}

prog_id() {
	ip -n "$a" -d link show dev "$1" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1
}

# ---- the command line itself ------------------------------------------------

check 2 "" "ddpctl: no command 'frob'; try 'ddpctl help'" "$ddpctl" frob
check 2 "" "ddpctl: attach takes one device
usage: ddpctl attach DEV [--mode native|skb|auto] [--buffers SIZE] [--threshold BYTES] [--flows N] [--tags N] [--tag-pool N] [--segs N] [--rec-pool N] [--no-ddgst-offload] [--no-kfuncs]" \
	in_a "$ddpctl" attach
usage_attach="usage: ddpctl attach DEV [--mode native|skb|auto] [--buffers SIZE] [--threshold BYTES] [--flows N] [--tags N] [--tag-pool N] [--segs N] [--rec-pool N] [--no-ddgst-offload] [--no-kfuncs]"
check 2 "" "ddpctl: bad value 'fast' for --mode
$usage_attach" in_a "$ddpctl" attach "$a" --mode fast
# every limit, at and past its bounds: refused before anything is loaded
for opt in --flows --tags --tag-pool --segs --rec-pool --buffers --threshold; do
	check 2 "" "ddpctl: bad value '0' for $opt
$usage_attach" in_a "$ddpctl" attach "$a" "$opt" 0
done
check 2 "" "ddpctl: bad value '5G' for --buffers
$usage_attach" in_a "$ddpctl" attach "$a" --buffers 5G
check 1 "" "ddpctl: max flows 65537: at most 65536" \
	in_a "$ddpctl" attach "$a" --flows 65537
check 1 "" "ddpctl: tags per flow 1025: at most 1024" \
	in_a "$ddpctl" attach "$a" --tags 1025
check 1 "" "ddpctl: tag pool of 1000: a multiple of 16, at most 1048576" \
	in_a "$ddpctl" attach "$a" --tag-pool 1000
check 1 "" "ddpctl: tag pool of 1048592: a multiple of 16, at most 1048576" \
	in_a "$ddpctl" attach "$a" --tag-pool 1048592
check 1 "" "ddpctl: record pool of 1000: a multiple of 16, at most 67108864" \
	in_a "$ddpctl" attach "$a" --rec-pool 1000
check 1 "" "ddpctl: segment pool of 1000: a multiple of 256, at most 16777216" \
	in_a "$ddpctl" attach "$a" --segs 1000
check 1 "" "ddpctl: segment pool of 16777472: a multiple of 256, at most 16777216" \
	in_a "$ddpctl" attach "$a" --segs 16777472
check 1 "" "ddpctl: buffer region of 1000 bytes: a multiple of 4096, at most 512 MiB" \
	in_a "$ddpctl" attach "$a" --buffers 1000
check 1 "" "ddpctl: buffer region of 1073741824 bytes: a multiple of 4096, at most 512 MiB" \
	in_a "$ddpctl" attach "$a" --buffers 1G
check 2 "" "ddpctl: --trust-checksums is no more: the engine accepts the partial checksums of a veth or tun sender by itself, and checks all others (ddpctl status shows which)
$usage_attach" in_a "$ddpctl" attach "$a" --trust-checksums
[ -z "$(prog_id "$a")" ] || { echo "FAIL: a refused attach attached" >&2; fails=$((fails + 1)); }
# the most flows allowed: the engine loads (the verifier once gave up on
# a loop over the flows from about 600 on)
check 0 "attached to $a in native mode: 4096 flows, 16 tags per flow, 65536 tags, 524288 buffer segments, 16 MiB buffer region, io_threshold 32768, data digests checked" "" \
	in_a "$ddpctl" attach "$a" --flows 4096 --tags 16 --buffers 16M
check 0 "detached from $a" "" in_a "$ddpctl" detach "$a"
check 2 "" "ddpctl: bad option '--bogus'
usage: ddpctl stats DEV [--json] [--watch[=SECONDS]]" \
	in_a "$ddpctl" stats "$a" --bogus
check 0 "usage: ddpctl detach DEV

Take the engine off DEV and remove its pins. Processes that joined it
keep what they hold until they exit." "" "$ddpctl" detach --help
check 0 "usage: ddpctl detach DEV

Take the engine off DEV and remove its pins. Processes that joined it
keep what they hold until they exit." "" "$ddpctl" help detach
check 1 "" "ddpctl: must be run as root (BPF and XDP need CAP_BPF, CAP_NET_ADMIN)" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ddpctl" status

# ---- errors before anything is attached --------------------------------------

check 1 "" "ddpctl: no device 'nosuch0' in this network namespace" \
	in_a "$ddpctl" attach nosuch0
check 1 "" "ddpctl: no engine on '$a' (nothing pinned in /sys/fs/bpf/ddp/$a); attach one first (ddpctl attach $a)" \
	in_a "$ddpctl" status "$a"
check 1 "" "ddpctl: no engine on '$a' (nothing pinned in /sys/fs/bpf/ddp/$a)" \
	in_a "$ddpctl" detach "$a"
check 1 "" "ddpctl: no BPF filesystem at /sys/fs/bpf (ip netns exec hides it: use nsenter --net=/run/netns/NAME, or mount -t bpf bpf /sys/fs/bpf)" \
	ip netns exec "$a" "$ddpctl" status "$a"

# ---- someone else's program, a device without native XDP ----------------------

ip -n "$a" link set dev "$a" xdp obj "$pass_obj" sec xdp
other=$(prog_id "$a")
check 1 "" "ddpctl: '$a' already has XDP program 'not_ddp' (id $other), not the engine's: not replacing it; remove it first (ip link set dev $a xdp off)" \
	in_a "$ddpctl" attach "$a"
[ "$(prog_id "$a")" = "$other" ] || { echo "FAIL: the other program was replaced" >&2; fails=$((fails + 1)); }
ip -n "$a" link set dev "$a" xdp off

nonative="(kernel: Underlying driver does not support XDP in native mode)"
check 1 "" "ddpctl: couldn't attach to '$br': native XDP unsupported $nonative; try --mode skb" \
	in_a "$ddpctl" attach "$br" --mode native
check 0 "attached to $br in skb mode: 64 flows, 128 tags per flow, 8192 tags, 65536 buffer segments, 64 MiB buffer region, io_threshold 32768, data digests checked" \
	"ddpctl: native XDP unsupported on '$br' $nonative: attached in skb (generic) mode" \
	in_a "$ddpctl" attach "$br"
check 0 "detached from $br" "" in_a "$ddpctl" detach "$br"
check 0 "attached to $br in skb mode: 64 flows, 128 tags per flow, 8192 tags, 65536 buffer segments, 64 MiB buffer region, io_threshold 32768, data digests not checked" "" \
	in_a "$ddpctl" attach "$br" --mode skb --no-ddgst-offload
check 0 "$(printf '%-15s %-7s %-6s %-9s %-13s %-15s %-15s %-9s %-9s %-10s %-24s %s\n' DEV MODE PROG FLOWS TAGS SEGS RECS CHUNKS REGION THRESHOLD CHECKSUMS DIGESTS \
	"$br" skb "$(prog_id "$br")" 0/64 0/0/8192 0/65536 0/65536 0/64 '64 MiB' 32768 headers,partial-ok no-ddgst)" "" \
	in_a "$ddpctl" status "$br"
check 0 "detached from $br" "" in_a "$ddpctl" detach "$br"

# ---- attach, watch, detach -----------------------------------------------------

check 0 "attached to $a in native mode: 8 flows, 16 tags per flow, 128 tags, 512 buffer segments, 16 MiB buffer region, io_threshold 4096, data digests checked" "" \
	in_a "$ddpctl" attach "$a" --mode native --buffers 16M --threshold 4K --flows 8 --tags 16 --segs 512
check 1 "" "ddpctl: the engine is already attached to '$a'; join it, or detach it first" \
	in_a "$ddpctl" attach "$a"
id=$(prog_id "$a")
status_row() {
	printf '%-15s %-7s %-6s %-9s %-13s %-15s %-15s %-9s %-9s %-10s %-24s %s\n' "$@"
}
status_head() {
	status_row DEV MODE PROG FLOWS TAGS SEGS RECS CHUNKS REGION THRESHOLD CHECKSUMS DIGESTS
}
check 0 "$(status_head
	status_row "$a" native "$id" 0/8 0/0/128 0/512 0/1024 0/16 '16 MiB' 4096 headers,partial-ok ddgst)" "" \
	in_a "$ddpctl" status "$a"
check 0 "[{\"dev\":\"$a\",\"mode\":\"native\",\"prog_id\":$id,\"flows\":0,\"max_flows\":8,\"tags\":0,\"tags_held\":0,\"max_tags\":128,\"segs\":0,\"seg_pool\":512,\"recs\":0,\"rec_pool\":1024,\"chunks_held\":0,\"chunks\":16,\"buf_size\":16777216,\"io_threshold\":4096,\"csum_checked\":\"headers\",\"csum_call_max\":9216,\"csum_partial\":true,\"ddgst_checked\":true,\"ddgst_crc\":\"bpf\",\"pinned_buffers\":false}]" "" \
	in_a "$ddpctl" status "$a" --json

# a connection with two tags, held by another process
hold_start() {
	# its stderr apart: bash says "Killed" of the one killed below
	coproc HOLD { in_a "$hold" "$a" "$@"; } 2>"$tmp/hold.err"
	# bash unsets HOLD_PID once it reaps the coprocess: kept here
	hold_cpid=$HOLD_PID
	read -r line pid <&"${HOLD[0]}" || true
	[ "$line" = ready ] || { echo "FAIL: ddp_hold: $(cat "$tmp/hold.err")" >&2; exit 1; }
	hold_pid=$pid
}
hold_start
flow_row() {
	printf '%-8s %-26s %-26s %-6s %-9s %-10s %-5s %-12s %-8s %s\n' "$@"
}
tag_row() {
	printf '%-8s %-5s %-6s %-7s %-11s %-5s %s\n' "$@"
}
# flow ids carry the incarnation of their slot: slot 0, first use
fid=$((1 << 16))
check 0 "$(flow_row ID REMOTE LOCAL PATH SYNC EXP_SEQ TAGS PLACED RESYNCS OWNER
	flow_row $fid 192.0.2.1:4420 192.0.2.2:40000 kernel ok 1000 2 0 0 "pid $hold_pid")" "" \
	in_a "$ddpctl" flows "$a"
check 0 "[{\"id\":$fid,\"remote\":\"192.0.2.1:4420\",\"local\":\"192.0.2.2:40000\",\"path\":\"kernel\",\"sync\":\"ok\",\"exp_seq\":1000,\"tags\":2,\"placed_bytes\":0,\"resyncs\":0,\"owner\":\"pid $hold_pid\"}]" "" \
	in_a "$ddpctl" flows "$a" --json
check 0 "$(tag_row FLOW TAG CID STATE LEN SEGS GEN
	tag_row $fid 0 7 active 65536 1 1
	tag_row $fid 1 65534 active 69632 2 1)" "" in_a "$ddpctl" tags "$a"
check 0 "[{\"flow\":$fid,\"tag\":0,\"cid\":7,\"state\":\"active\",\"len\":65536,\"segs\":1,\"gen\":1},{\"flow\":$fid,\"tag\":1,\"cid\":65534,\"state\":\"active\",\"len\":69632,\"segs\":2,\"gen\":1}]" "" \
	in_a "$ddpctl" tags "$a" --json
# an engine in another namespace is not listed here, though bpffs is shared
nsenter --net="/run/netns/$b" "$ddpctl" attach "$b" --buffers 1M >/dev/null
check 0 "$(status_head
	status_row "$a" native "$id" 1/8 2/16/128 8/512 128/1024 1/16 '16 MiB' 4096 headers,partial-ok ddgst)" "" \
	in_a "$ddpctl" status
nsenter --net="/run/netns/$b" "$ddpctl" detach "$b" >/dev/null
check 0 "nothing to reap on $a: every process using it is alive" "" \
	in_a "$ddpctl" reap "$a"

stats=$(in_a "$ddpctl" stats "$a")
[ "$(sed -n '1p;3p' <<<"$stats")" = "$(printf '%-16s %s\n' queue_init 1 ddp_setup 2)" ] ||
	{ echo "FAIL: stats: $stats" >&2; fails=$((fails + 1)); }
json=$(in_a "$ddpctl" stats "$a" --json)
[ "${json:0:46}" = '{"queue_init":1,"queue_teardown":0,"ddp_setup"' ] ||
	{ echo "FAIL: stats --json: $json" >&2; fails=$((fails + 1)); }
watch=$(in_a timeout -s INT 1.5 "$ddpctl" stats "$a" --watch=0.5 || true)
[ "$(grep -c '^COUNTER  *VALUE  *PER SECOND$' <<<"$watch")" -ge 1 ] ||
	{ echo "FAIL: stats --watch: $watch" >&2; fails=$((fails + 1)); }

# the connection goes: events sees it
in_a "$ddpctl" events "$a" --count 1 --timeout 5 >"$tmp/events" &
events_pid=$!
sleep 0.3
exec {HOLD[1]}>&-
wait "$hold_cpid"
hold_pid=
wait "$events_pid"
check 0 "flow $fid 192.0.2.1:4420 > 192.0.2.2:40000: removed" "" cat "$tmp/events"
check 0 "$(flow_row ID REMOTE LOCAL PATH SYNC EXP_SEQ TAGS PLACED RESYNCS OWNER)" "" \
	in_a "$ddpctl" flows "$a"

# a holder killed: its flow and tags stay until someone reaps them; this
# one's flow is an AF_XDP socket's, bound zero-copy
hold_start xsk-zc
kill -KILL "$hold_pid"
wait "$hold_cpid" 2>/dev/null || true
fid=$((2 << 16)) # slot 0 again, its second use
check 0 "$(flow_row ID REMOTE LOCAL PATH SYNC EXP_SEQ TAGS PLACED RESYNCS OWNER
	flow_row $fid 192.0.2.1:4420 192.0.2.2:40000 xsk-zc ok 1000 2 0 0 "dead $hold_pid")" "" \
	in_a "$ddpctl" flows "$a"
# the dead holder's chunk stays its own until it is reaped
json=$(in_a "$ddpctl" status "$a" --json)
[[ $json == *'"chunks_held":1,"chunks":16,'* ]] ||
	{ echo "FAIL: status --json, a dead holder's chunk: $json" >&2; fails=$((fails + 1)); }
check 0 "reaped pid $hold_pid: 1 flows, 2 tags, 1 chunks of the region" "" \
	in_a "$ddpctl" reap "$a"
hold_pid=
# ... and then nobody's: nothing is held
check 0 "$(status_head
	status_row "$a" native "$id" 0/8 0/0/128 0/512 0/1024 0/16 '16 MiB' 4096 headers,partial-ok ddgst)" "" \
	in_a "$ddpctl" status "$a"
check 0 "$(flow_row ID REMOTE LOCAL PATH SYNC EXP_SEQ TAGS PLACED RESYNCS OWNER)" "" \
	in_a "$ddpctl" flows "$a"
check 0 "$(tag_row FLOW TAG CID STATE LEN SEGS GEN)" "" in_a "$ddpctl" tags "$a"
check 0 "nothing to reap on $a: every process using it is alive" "" \
	in_a "$ddpctl" reap "$a"

check 0 "detached from $a" "" in_a "$ddpctl" detach "$a"
[ -z "$(prog_id "$a")" ] || { echo "FAIL: still attached" >&2; fails=$((fails + 1)); }
[ ! -e "/sys/fs/bpf/ddp/$a" ] || { echo "FAIL: pins left" >&2; fails=$((fails + 1)); }

# ---- pins from an incompatible build -------------------------------------------

mkdir -p "/sys/fs/bpf/ddp/$a"
bpftool map create "/sys/fs/bpf/ddp/$a/ddp_info" type array key 4 value 8 entries 1 name ddp_info
abi=$(sed -n 's/^#define DDP_ABI_VERSION //p' "$(dirname "$0")/../../../bpf/ddp.h")
check 1 "" "ddpctl: the engine pinned in /sys/fs/bpf/ddp/$a is from an incompatible build (ABI 0, this build $abi); run 'ddpctl detach $a' and attach again" \
	in_a "$ddpctl" stats "$a"
check 0 "detached from $a" "" in_a "$ddpctl" detach "$a"
[ ! -e "/sys/fs/bpf/ddp/$a" ] || { echo "FAIL: stale pins left" >&2; fails=$((fails + 1)); }

if [ "$fails" -ne 0 ]; then
	echo "ddpctl: $fails checks failed" >&2
	exit 1
fi
echo "ddpctl: every command's output, error and exit code: ok"
