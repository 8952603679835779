#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The project's host against the Linux kernel's NVMe/TCP target (nvmet-tcp,
# booted under qemu by kernel_target.sh): discover, identify, read and
# verify with and without digests, write in-capsule and through R2T and
# read back, then the same reads with the engine placing them. Everything
# started here is stopped on exit, failure included.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

build=${1:-build}
here=$(dirname "$0")
host=$(realpath "$build/ddp-host")
ddpctl=$(realpath "$build/ddpctl")
kt="$here/kernel_target.sh"
out="$build/interop"
name=kh$$
nqn=nqn.2014-08.org.nvmexpress:uuid:ddp-interop
tmp=$(mktemp -d)
dev=

cleanup() {
	[ -n "$dev" ] && in_host "$ddpctl" detach "$dev" >/dev/null 2>&1
	"$kt" stop "$out" "$name" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

in_host() {
	nsenter --net="/run/netns/$name-host" "$@"
}

fail() {
	echo "FAIL: interop: $*" >&2
	exit 1
}

"$kt" prepare "$out" >/dev/null
read -r addr port veth < <("$kt" start "$out" "$name")
[ -n "${veth:-}" ] || fail "the kernel target did not start"
transport=kernel
h() {
	in_host "$host" "$1" -t "$transport" -a "$addr" -s "$port" "${@:2}"
}

# discovery and identification
h discover >"$tmp/disc" || fail "discover"
grep -q "^subnqn:  $nqn\$" "$tmp/disc" || fail "discover: $nqn not listed"
h id-ctrl -n "$nqn" >"$tmp/id" || fail "id-ctrl"
grep -q '^mn        : Linux' "$tmp/id" || fail "id-ctrl: not the Linux target"
[ "$(h list-ns -n "$nqn")" = "[   0]:0x1" ] || fail "list-ns"
h id-ns -n "$nqn" -N 1 | grep -q '^nsze      : 32768$' || fail "id-ns"

# reads of the pattern, digests off and on
h verify -n "$nqn" -S 0 -c 255 >/dev/null || fail "verify"
h verify -n "$nqn" -S 1000 -c 2047 -g -G >/dev/null || fail "verify with digests"

# the same reads placed by the engine on the host's veth, over kernel
# sockets and over the host's own TCP on AF_XDP
dev=$veth
in_host "$ddpctl" attach "$dev" >/dev/null
num() {
	sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$json"
}
placed_note=
for transport in kernel xsk; do
	json=$(h perf -n "$nqn" --rw randread --bs 32K-1M --qd 16 --ios 200 --verify --json -g -G)
	[ "$(num verify_bad)" = 0 ] && [ "$(num failed)" = 0 ] || fail "perf: $json"
	[ "$(num queues_offloaded)" = 1 ] || fail "the queue was not offloaded: $json"
	grep -q "\"transport\":\"$transport\"" <<<"$json" || fail "not over $transport: $json"
	placed=$(num placed_bytes)
	read_bytes=$(num read_bytes)
	[ $((placed * 100)) -ge $((read_bytes * 90)) ] ||
		fail "$transport: only $placed of $read_bytes bytes placed: $json"
	# Linux's data digests, checked by the engine
	dg=$(($(num ddgst_ok) + $(num ddgst_bad) + $(num ddgst_computed)))
	[ "$(num ddgst_bad)" = 0 ] && [ $(($(num ddgst_ok) * 100)) -ge $((dg * 95)) ] ||
		fail "$transport: $(num ddgst_ok) of $dg data digests ok by the engine: $json"
	placed_note+=" over $transport $placed of $read_bytes read bytes placed ($(num ddgst_ok) of $dg digests checked by the engine),"
done
transport=kernel
in_host "$ddpctl" detach "$dev" >/dev/null
dev=
# writes, last (they end the pattern there): in-capsule (4 KiB, below the 16 KiB capsule) and through R2T
# (1 MiB), read back
head -c 4096 /dev/urandom >"$tmp/small"
head -c 1048576 /dev/urandom >"$tmp/big"
h write -n "$nqn" -S 8192 -c 7 -d "$tmp/small" || fail "in-capsule write"
h read -n "$nqn" -S 8192 -c 7 -d "$tmp/small.back" || fail "read back"
cmp -s "$tmp/small" "$tmp/small.back" || fail "in-capsule write read back differs"
h write -n "$nqn" -S 10240 -c 2047 -d "$tmp/big" -G || fail "R2T write"
h read -n "$nqn" -S 10240 -c 2047 -d "$tmp/big.back" -g -G || fail "read back"
cmp -s "$tmp/big" "$tmp/big.back" || fail "R2T write read back differs"

echo "interop: Linux nvmet-tcp: discover, identify, verify: ok; with DDP$placed_note all verified; in-capsule and R2T writes read back: ok"
