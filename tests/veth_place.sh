#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Two namespaces joined by a veth pair, made here and removed on exit
# (failure included), and veth_place run across them: the engine attached
# natively on one side, an NVMe/TCP response stream sent from the other.
set -euo pipefail

bin=${1:-build/veth_place}
id=ddpp$$
h=${id}h
p=${id}p

cleanup() {
	ip netns del "$h" 2>/dev/null || true
	ip netns del "$p" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$h"
ip netns add "$p"
ip -n "$h" link add "$h" type veth peer name "$p" netns "$p"
ip -n "$h" addr add 10.251.0.1/24 dev "$h"
ip -n "$p" addr add 10.251.0.2/24 dev "$p"
ip -n "$h" link set "$h" up
ip -n "$p" link set "$p" up
"$bin" "$h" "$h" "$p" "$p"
