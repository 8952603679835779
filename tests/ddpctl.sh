#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# ddpctl, command by command, on a veth pair and a bridge in namespaces made
# here: every output and error message compared literally, and exit codes
# (0 done, 1 failed, 2 usage). Everything made here is removed on exit.
set -euo pipefail
. "$(dirname "$0")/lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
ddpctl=$(realpath "$build/ddpctl")
hold=$(realpath "$build/ddp_hold")
pass_obj=$(realpath "$build/xdp_pass.bpf.o")
. "$(dirname "$0")/lib/netns.sh"

a=ddc$$a
b=ddc$$b
br=ddc$$br
tmp=$(mktemp -d)
hold_pid=

cleanup() {
	[ -n "$hold_pid" ] && kill "$hold_pid" 2>/dev/null
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
usage: ddpctl attach DEV [--mode native|skb|auto] [--buffers SIZE] [--threshold BYTES] [--flows N] [--tags N] [--trust-checksums]" \
	in_a "$ddpctl" attach
check 2 "" "ddpctl: bad value 'fast' for --mode
usage: ddpctl attach DEV [--mode native|skb|auto] [--buffers SIZE] [--threshold BYTES] [--flows N] [--tags N] [--trust-checksums]" \
	in_a "$ddpctl" attach "$a" --mode fast
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

check 1 "" "ddpctl: couldn't attach to '$br': native XDP unsupported; try --mode skb" \
	in_a "$ddpctl" attach "$br" --mode native
check 0 "attached to $br in skb mode: 64 flows, 128 tags per flow, 64 MiB buffer region, io_threshold 32768" \
	"ddpctl: native XDP unsupported on '$br': attached in skb (generic) mode" \
	in_a "$ddpctl" attach "$br"
check 0 "detached from $br" "" in_a "$ddpctl" detach "$br"

# ---- attach, watch, detach -----------------------------------------------------

check 0 "attached to $a in native mode: 8 flows, 16 tags per flow, 16 MiB buffer region, io_threshold 4096" "" \
	in_a "$ddpctl" attach "$a" --mode native --buffers 16M --threshold 4K --flows 8 --tags 16
check 1 "" "ddpctl: the engine is already attached to '$a'; join it, or detach it first" \
	in_a "$ddpctl" attach "$a"
id=$(prog_id "$a")
check 0 "$(printf '%-15s %-7s %-6s %-9s %-13s %-9s %s\n' DEV MODE PROG FLOWS TAGS REGION THRESHOLD \
	"$a" native "$id" 0/8 0/128 '16 MiB' 4096)" "" in_a "$ddpctl" status "$a"
check 0 "[{\"dev\":\"$a\",\"mode\":\"native\",\"prog_id\":$id,\"flows\":0,\"max_flows\":8,\"tags\":0,\"max_tags\":128,\"buf_size\":16777216,\"io_threshold\":4096}]" "" \
	in_a "$ddpctl" status "$a" --json

# a connection with two tags, held by another process
coproc HOLD { in_a "$hold" "$a"; }
hold_pid=$HOLD_PID
read -r line <&"${HOLD[0]}"
[ "$line" = ready ] || { echo "FAIL: ddp_hold: $line" >&2; exit 1; }

check 0 "$(printf '%-4s %-26s %-26s %-6s %-9s %-10s %-5s %-12s %s\n' ID REMOTE LOCAL PATH SYNC EXP_SEQ TAGS PLACED RESYNCS \
	0 192.0.2.1:4420 192.0.2.2:40000 kernel ok 1000 2 0 0)" "" in_a "$ddpctl" flows "$a"
check 0 '[{"id":0,"remote":"192.0.2.1:4420","local":"192.0.2.2:40000","path":"kernel","sync":"ok","exp_seq":1000,"tags":2,"placed_bytes":0,"resyncs":0}]' "" \
	in_a "$ddpctl" flows "$a" --json
check 0 "$(printf '%-5s %-5s %-6s %-7s %-11s %-5s %s\n' FLOW TAG CID STATE LEN SEGS GEN \
	0 0 7 active 65536 1 1 0 1 65534 active 69632 2 1)" "" in_a "$ddpctl" tags "$a"
check 0 '[{"flow":0,"tag":0,"cid":7,"state":"active","len":65536,"segs":1,"gen":1},{"flow":0,"tag":1,"cid":65534,"state":"active","len":69632,"segs":2,"gen":1}]' "" \
	in_a "$ddpctl" tags "$a" --json
# an engine in another namespace is not listed here, though bpffs is shared
nsenter --net="/run/netns/$b" "$ddpctl" attach "$b" --buffers 1M >/dev/null
check 0 "$(printf '%-15s %-7s %-6s %-9s %-13s %-9s %s\n' DEV MODE PROG FLOWS TAGS REGION THRESHOLD \
	"$a" native "$id" 1/8 2/128 '16 MiB' 4096)" "" in_a "$ddpctl" status
nsenter --net="/run/netns/$b" "$ddpctl" detach "$b" >/dev/null

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
wait "$hold_pid"
hold_pid=
wait "$events_pid"
check 0 "flow 0 192.0.2.1:4420 > 192.0.2.2:40000: removed" "" cat "$tmp/events"

check 0 "detached from $a" "" in_a "$ddpctl" detach "$a"
[ -z "$(prog_id "$a")" ] || { echo "FAIL: still attached" >&2; fails=$((fails + 1)); }
[ ! -e "/sys/fs/bpf/ddp/$a" ] || { echo "FAIL: pins left" >&2; fails=$((fails + 1)); }

# ---- pins from an incompatible build -------------------------------------------

mkdir -p "/sys/fs/bpf/ddp/$a"
bpftool map create "/sys/fs/bpf/ddp/$a/ddp_info" type array key 4 value 8 entries 1 name ddp_info
check 1 "" "ddpctl: the engine pinned in /sys/fs/bpf/ddp/$a is from an incompatible build (ABI 0, this build 1); run 'ddpctl detach $a' and attach again" \
	in_a "$ddpctl" stats "$a"
check 0 "detached from $a" "" in_a "$ddpctl" detach "$a"
[ ! -e "/sys/fs/bpf/ddp/$a" ] || { echo "FAIL: stale pins left" >&2; fails=$((fails + 1)); }

if [ "$fails" -ne 0 ]; then
	echo "ddpctl: $fails checks failed" >&2
	exit 1
fi
echo "ddpctl: every command's output, error and exit code: ok"
