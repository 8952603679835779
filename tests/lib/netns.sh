# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Network namespaces for tests and demos, sourced by their scripts:
# everything made here (namespaces, the target, the temporary directory) is
# removed by netns_cleanup, which netns_pair sets as the EXIT trap, so a
# failing script leaves nothing behind. A script with more to undo sets a
# trap of its own that ends with netns_cleanup.

# netns_bins BUILD: host, target, ddpctl, fault_inject: the project's
# programs in BUILD
netns_bins() {
	host=$(realpath "$1/ddp-host")
	target=$(realpath "$1/ddp-target")
	ddpctl=$(realpath "$1/ddpctl")
	fault_inject=$(realpath -m "$1/fault_inject")
}

NETNS_MADE=()
NETNS_PIDS=()
NETNS_TMP=
NETNS_FAULTS= # fault_inject's pid, while netns_faults runs it

netns_cleanup() {
	local ns p
	for p in "${NETNS_PIDS[@]}" $NETNS_FAULTS; do
		kill "$p" 2>/dev/null || true
	done
	for ns in "${NETNS_MADE[@]}"; do
		ip netns del "$ns" 2>/dev/null || true
	done
	[ -z "$NETNS_TMP" ] || rm -rf "$NETNS_TMP"
}

# netns_faults NS DEV PORT "FAULTS" OUT CMD...: CMD while fault_inject
# acts on DEV's segments to PORT's peers, in NS (FAULTS: its options);
# what it did, as JSON, in OUT. Returns CMD's status; exits if
# fault_inject does not start.
netns_faults() {
	local ns=$1 dev=$2 port=$3 how=$4 out=$5 line fo rc=0
	shift 5
	coproc FAULTS { nsenter --net="/run/netns/$ns" "$fault_inject" "$dev" "$port" $how; }
	NETNS_FAULTS=$FAULTS_PID
	exec {fo}<&"${FAULTS[0]}" # still open once the coprocess is gone
	read -r line <&"$fo" || true
	if [ "$line" != ready ]; then
		echo "fault_inject did not start: $line" >&2
		exit 1
	fi
	"$@" || rc=$?
	exec {FAULTS[1]}>&-
	read -r line <&"$fo" || true
	echo "$line" >"$out"
	exec {fo}<&-
	wait "$NETNS_FAULTS" || true
	NETNS_FAULTS=
	return $rc
}

# netns_tmp: a temporary directory, NETNS_TMP, removed with the rest
netns_tmp() {
	NETNS_TMP=$(mktemp -d)
}

# in_ns NS CMD...: CMD in NS's network namespace (nsenter, not ip netns
# exec, which hides /sys/fs/bpf and the engine's pins)
in_ns() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# target_start TARGET NS ADDR NQN SIZE [PORT [ARGS...]]: TARGET
# (ddp-target) in NS serving NQN on ADDR port PORT (4420), a SIZE namespace
# in pattern mode, with ARGS, logging to $NETNS_TMP/target.log
# (target-PORT.log for another port); killed by netns_cleanup.
target_start() {
	local port=${6:-4420} log=$NETNS_TMP/target.log
	[ "$port" = 4420 ] || log=$NETNS_TMP/target-$port.log
	# nsenter itself, not a function: $! must be the target's pid
	nsenter --net="/run/netns/$2" "$1" -a "$3" -s "$port" -n "$4" \
		--pattern --size "$5" "${@:7}" >"$log" 2>&1 &
	NETNS_PIDS+=($!)
	for _ in $(seq 100); do
		grep -q '^listening on' "$log" && return 0
		sleep 0.1
	done
	echo "the target did not start:" >&2
	cat "$log" >&2
	return 1
}

# netns_pair A B ADDR_A ADDR_B [QUEUES]: namespaces A and B joined by a
# veth pair whose ends are named A and B, addressed ADDR_A and ADDR_B (with
# prefix), up; QUEUES RX and TX queues at each end (one by default: veth
# delivers a frame on the RX queue of the TX queue it was sent on).
netns_pair() {
	local a=$1 b=$2 q=()
	[ -z "${5:-}" ] || q=(numtxqueues "$5" numrxqueues "$5")
	trap netns_cleanup EXIT
	trap "exit 1" INT TERM
	ip netns add "$a"
	NETNS_MADE+=("$a")
	ip netns add "$b"
	NETNS_MADE+=("$b")
	ip -n "$a" link add "$a" "${q[@]}" type veth peer name "$b" "${q[@]}" \
		netns "$b"
	ip -n "$a" addr add "$3" dev "$a"
	ip -n "$b" addr add "$4" dev "$b"
	ip -n "$a" link set "$a" up
	ip -n "$b" link set "$b" up
}

# netns_sender NS DEV [RATE]: make DEV, in NS, send as a NIC onto a wire
# would: full TCP checksums (the engine checks those of the frames its PDU
# headers come from), and a qdisc, so that a veth whose peer runs XDP
# pushes back when the peer's ring is full instead of dropping. With RATE
# (tc's units: 2gbit), the wire's speed: paced below what the peer takes,
# the veth never pushes back, and never reorders as it then does.
netns_sender() {
	ip netns exec "$1" ethtool -K "$2" tx off >/dev/null
	if [ -n "${3:-}" ]; then
		tc -n "$1" qdisc replace dev "$2" root tbf rate "$3" \
			burst 256kb latency 100ms
	else
		tc -n "$1" qdisc replace dev "$2" root pfifo_fast
	fi
}
