#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Two namespaces joined by a veth pair, made here and removed on exit
# (failure included), and veth_place run across them: the engine attached
# natively on one side, an NVMe/TCP response stream sent from the other.
set -euo pipefail

bin=${1:-build/veth_place}
. "$(dirname "$0")/../../lib/netns.sh"
h=ddpp$$h
p=ddpp$$p

netns_pair "$h" "$p" 10.251.0.1/24 10.251.0.2/24
"$bin" "$h" "$h" "$p" "$p"
