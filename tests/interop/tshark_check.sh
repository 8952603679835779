#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# Wireshark's NVMe/TCP dissector reads what our host and our target send:
# a capture of discovery, identification, reads and writes (in-capsule,
# R2T/H2CData, DATA_SUCCESS), digests off and on, and a malformed PDU the
# target answers with a C2HTermReq; `tshark -d tcp.port==4420,nvme-tcp`
# must decode every PDU type with no malformed packet and no expert error.
# Everything made here is removed on exit, failure included.
set -euo pipefail

build=${1:-build}
. "$(dirname "$0")/../lib/netns.sh"
host=$(realpath "$build/ddp-host")
target=$(realpath "$build/ddp-target")
h=ddw$$h
t=ddw$$t
nqn=nqn.2024-01.io.ddp:tshark
cap_pid=

cleanup() {
	# gone already, maybe: cleaning up goes on
	[ -z "$cap_pid" ] || kill "$cap_pid" 2>/dev/null || true
	netns_cleanup
}

fail() {
	echo "FAIL: tshark: $*" >&2
	exit 1
}

netns_pair "$h" "$t" 10.255.0.1/24 10.255.0.2/24
trap cleanup EXIT
netns_tmp
tmp=$NETNS_TMP
chmod 755 "$tmp" # dumpcap writes there
netns_sender "$t" "$t"
target_start "$target" "$t" 10.255.0.2 "$nqn" 16M

ip netns exec "$h" tshark -q -i "$h" -f "tcp port 4420" -w "$tmp/cap.pcapng" \
	>/dev/null 2>"$tmp/tshark.log" &
cap_pid=$!
for _ in $(seq 50); do
	grep -q 'Capturing on' "$tmp/tshark.log" && break
	sleep 0.1
done

hh() {
	nsenter --net="/run/netns/$h" "$host" "$1" -t kernel -a 10.255.0.2 \
		-s 4420 "${@:2}" >/dev/null || fail "ddp-host $*"
}
head -c 4096 /dev/urandom >"$tmp/small"
head -c 262144 /dev/urandom >"$tmp/big"
hh discover
hh id-ctrl -n "$nqn"
hh list-ns -n "$nqn"
hh id-ns -n "$nqn"
hh verify -n "$nqn" -S 0 -c 127
hh verify -n "$nqn" -S 0 -c 127 -g -G
hh write -n "$nqn" -S 4096 -c 7 -d "$tmp/small"
hh write -n "$nqn" -S 8192 -c 511 -d "$tmp/big" -g -G
hh read -n "$nqn" -S 8192 -c 511 -d "$tmp/big.back" --disable-sqflow
cmp -s "$tmp/big" "$tmp/big.back" || fail "read back differs"

# a PDU the target must refuse: an ICReq, then a CapsuleResp (a
# controller-to-host type) from the host's side
nsenter --net="/run/netns/$h" bash -c '
	exec 3<>/dev/tcp/10.255.0.2/4420
	printf "\x00\x00\x80\x00\x80\x00\x00\x00" >&3
	head -c 120 /dev/zero >&3
	head -c 128 <&3 >/dev/null
	printf "\x05\x00\x18\x00\x18\x00\x00\x00" >&3
	head -c 16 /dev/zero >&3
	head -c 24 <&3 >/dev/null' || true

sleep 1
kill -INT "$cap_pid"
wait "$cap_pid" || true
cap_pid=

dissect() {
	tshark -r "$tmp/cap.pcapng" -d tcp.port==4420,nvme-tcp "$@" 2>/dev/null
}
types=$(dissect -Y nvme-tcp -T fields -e nvme-tcp.type | tr ',' '\n' |
	sort -n | uniq -c)
for want in 0 1 3 4 5 6 7 9; do
	grep -Eq "^ *[0-9]+ $want\$" <<<"$types" ||
		fail "no PDU of type $want decoded; decoded: $(tr '\n' ' ' <<<"$types")"
done
bad=$(dissect -Y '_ws.malformed || _ws.expert.severity == error' | wc -l)
[ "$bad" = 0 ] || {
	dissect -Y '_ws.malformed || _ws.expert.severity == error' | head -5 >&2
	fail "$bad packets malformed or with expert errors"
}
pdus=$(dissect -Y nvme-tcp -T fields -e nvme-tcp.type | tr ',' '\n' | wc -l)
echo "tshark: $pdus NVMe/TCP PDUs decoded (types $(awk '{print $2}' <<<"$types" | tr '\n' ' ')), none malformed: ok"
