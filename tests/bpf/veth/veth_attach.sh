#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The engine as built, attached with iproute2 in native mode to a veth pair
# between two namespaces made here: it loads, shows as native XDP, its
# counters dump with their names, and traffic still passes. Everything made
# here is removed on exit, failure included.
set -euo pipefail
. "$(dirname "$0")/../../lib/bpffs.sh"
bpffs_private "$@"

obj=${1:-build/ddp.bpf.o}
. "$(dirname "$0")/../../lib/netns.sh"
a=ddpv$$a
b=ddpv$$b

fail() {
	echo "FAIL: veth_attach: $*" >&2
	exit 1
}

netns_pair "$a" "$b" 10.250.0.1/30 10.250.0.2/30
ip -n "$a" link set dev "$a" xdp obj "$obj" sec xdp ||
	fail "ip link set dev $a xdp obj $obj sec xdp refused the engine"
show=$(ip -n "$a" -d link show dev "$a")
grep -q 'prog/xdp id' <<<"$show" || fail "no XDP program on $a"
grep -q 'xdpgeneric' <<<"$show" && fail "attached in generic mode, not native"

# the counters of this program's own ddp_stats, by name
prog=$(sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' <<<"$show" | head -1)
maps=$(bpftool prog show id "$prog" | sed -n 's/.*map_ids \([0-9,]*\).*/\1/p')
stats=
for m in ${maps//,/ }; do
	# captured, not piped to grep -q: with pipefail, bpftool's SIGPIPE
	# when grep stops reading early would make it a failure
	if [[ $(bpftool map show id "$m") == *"name ddp_stats "* ]]; then
		stats=$(bpftool map dump id "$m")
	fi
done
grep -q '"offload_bytes"' <<<"$stats" ||
	fail "bpftool map dump of ddp_stats does not show the counter names"

ip netns exec "$b" ping -c 3 -i 0.2 -W 2 10.250.0.1 >/dev/null ||
	fail "traffic does not pass the engine"

ip -n "$a" link set dev "$a" xdp off
echo "veth_attach: native XDP on veth, counters named, traffic passes: ok"
