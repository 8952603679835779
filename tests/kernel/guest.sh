#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# guest.sh BUILD SERIES...: the project on Debian 12's kernels (SERIES
# 6.1, 6.12), each booted under qemu (TCG, a core each, all at once) with
# a virtio-net NIC whose tap sits in a network namespace made here, where
# ddp-target serves a pattern. Inside the guest (in_guest.sh): the engine's
# and the library's test suites, the object loaded by iproute2, ddpctl
# natively on virtio-net, and ddp-host reading from the target over AF_XDP
# and kernel sockets, verified; then the host reads a target in the guest
# with the engine on the tap. Prints each guest's results; fails with its
# console's tail when anything fails. The guest images (kernel, modules,
# the project's binaries and the shared libraries they use) are cached in
# BUILD/guest/SERIES. Everything made here is removed on exit, failure
# included.
set -euo pipefail
. "$(dirname "$0")/../lib/bpffs.sh"
bpffs_private "$@"

here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:?usage: guest.sh BUILD SERIES...}" && pwd)
shift
[ $# -ge 1 ] || { echo "usage: guest.sh BUILD SERIES..." >&2; exit 2; }
. "$here/../lib/debian_kernel.sh"
. "$here/../lib/netns.sh"

# virtio for the NIC, veth and bridge for the engine's tests, the kernel's
# CRC32C for kmod_glue's module
MODULES="virtio_pci virtio_net veth bridge crc32c_generic crc32c_intel libcrc32c"
# the guest's binaries, from BUILD and from the system
PROGS="test_engine test_libddp ddpctl ddp-host ddp-target ddp.bpf.o xdp_pass.bpf.o"
SYSPROGS="ip bpftool ethtool"
NQN=nqn.2024-01.io.ddp:guest
TIMEOUT=${DDP_GUEST_TIMEOUT:-900}
qemu_pid=

fail() {
	echo "FAIL: guest $series: $*" >&2
	if [ -s "$out/console" ]; then
		echo "--- the guest's console, last lines:" >&2
		tail -n 40 "$out/console" >&2
	fi
	exit 1
}

cleanup() {
	if [ -n "$qemu_pid" ] && [ -e "/proc/$qemu_pid" ]; then
		kill -KILL "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	netns_cleanup
}

# ---- the image -------------------------------------------------------------

# copy_libs ROOT FILE...: every shared library the FILEs load, into ROOT
# at the same paths
copy_libs() {
	local root=$1 f lib deps
	shift
	for f in "$@"; do
		# not a dynamic executable: nothing to copy
		deps=$(ldd "$f" 2>/dev/null) || continue
		for lib in $(awk '/=>/ { print $3 } /^\t\// { print $1 }' <<<"$deps"); do
			[ -e "$root$lib" ] && continue
			mkdir -p "$root$(dirname "$lib")"
			cp -L "$lib" "$root$lib"
		done
	done
}

write_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /run /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/usr/local/sbin:/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mkdir -p /dev/shm && mount -t tmpfs tmpfs /dev/shm
mount -t bpf bpf /sys/fs/bpf
mkdir -p /sys/kernel/debug && mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
exec </dev/console >/dev/console 2>&1
. /etc/guest.conf
for m in $MODULES; do
	modprobe "$m" || echo "DDP-GUEST-FAIL modprobe $m"
done
ip link set lo up
i=0
while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do
	i=$((i + 1))
	sleep 0.1
done
ip addr add "$GUEST_IP/24" dev eth0
ip link set eth0 up
ulimit -l unlimited
/bin/sh /ddp/in_guest.sh
sync
poweroff -f
EOF
	chmod 755 "$1"
}

prepare() {
	local pkgver kver stamp tmp p
	local -a files=()

	pkgver=$(dk_package "$pkg_re") ||
		{ [ -f "$out/kernel/stamp" ] && pkgver=$(cut -d'|' -f1 "$out/kernel/stamp"); } ||
		fail "apt finds no package matching $pkg_re"
	pkgver=${pkgver% }
	dk_fetch "$out/kernel" "$pkgver" $MODULES || fail "fetching $pkgver"
	kver=$(cat "$out/kernel/kver")
	# kmod_glue's module, for this kernel, its BTF over the kernel's
	"$here/../../kmod_glue/build.sh" "$out/kmod" "$kver" \
		"$out/kernel/vmlinux" || fail "kmod_glue's module for $kver"
	files+=("$out/kmod/ddp_glue.ko" "$out/kmod/ddp_l5p_test.ko")
	for p in $PROGS; do
		files+=("$build/$p")
	done
	for p in $SYSPROGS; do
		files+=("$(command -v "$p")")
	done
	# everything the image is made of: a change makes it again
	stamp=$(cat "$out/kernel/stamp" "$here"/in_guest*.sh "$0" \
		"$(command -v busybox)" "${files[@]}" | sha256sum | cut -d' ' -f1)
	[ "$(cat "$out/initramfs.stamp" 2>/dev/null)" = "$stamp" ] && return
	tmp=$(mktemp -d "$out/.initramfs.XXXXXX")
	mkdir -p "$tmp/root/bin" "$tmp/root/etc" "$tmp/root/ddp" "$tmp/root/lib64"
	cp "$(command -v busybox)" "$tmp/root/bin/busybox"
	# a shell that runs what PATH says: busybox's prefers its own applets
	# (its ip knows no XDP), and system() runs /bin/sh
	cp /bin/dash "$tmp/root/bin/sh"
	files+=(/bin/dash)
	cp -a "$out/kernel/lib" "$tmp/root/"
	for p in $PROGS; do
		cp "$build/$p" "$tmp/root/ddp/"
	done
	# before busybox's applets of the same names in PATH
	mkdir -p "$tmp/root/usr/local/sbin"
	for p in $SYSPROGS; do
		cp "$(command -v "$p")" "$tmp/root/usr/local/sbin/"
	done
	copy_libs "$tmp/root" "${files[@]}"
	cp "$here"/in_guest*.sh "$tmp/root/ddp/"
	mkdir -p "$tmp/root/ddp/kmod"
	cp "$out/kmod/ddp_glue.ko" "$out/kmod/ddp_l5p_test.ko" "$tmp/root/ddp/kmod/"
	# the tests name their objects as in the tree: build/NAME
	ln -s . "$tmp/root/ddp/build"
	write_init "$tmp/root/init"
	(cd "$tmp/root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		busybox cpio -o -H newc 2>/dev/null) | gzip -1 >"$tmp/initramfs.gz"
	mv "$tmp/initramfs.gz" "$out/initramfs.gz"
	echo "$stamp" >"$out/initramfs.stamp"
	rm -rf "$tmp"
	echo "guest: $out/initramfs.gz made for $kver ($pkgver)" >&2
}

# ---- the run ---------------------------------------------------------------

# A target on LOSSY_PORT, fault_inject dropping 1% of its segments to the
# guest on the tap; both stop with the namespace's processes.
LOSSY_PORT=4421
lossy_target() {
	local log=$NETNS_TMP/faults.log
	target_start "$build/ddp-target" "$ns" "$HOST_IP" "$NQN" 256M $LOSSY_PORT
	mkfifo "$NETNS_TMP/faults.in"
	nsenter --net="/run/netns/$ns" "$build/fault_inject" "$tap" $LOSSY_PORT \
		--drop 10000 <"$NETNS_TMP/faults.in" >"$log" 2>&1 &
	NETNS_PIDS+=($!)
	# its stdin stays open until this script ends
	exec {faults_in}>"$NETNS_TMP/faults.in"
	for _ in $(seq 100); do
		grep -q '^ready' "$log" && return 0
		sleep 0.1
	done
	fail "fault_inject did not start: $(cat "$log")"
}

# Boots the guest and reports what it ran. What the guest is told
# (etc/guest.conf) goes in a second initramfs appended to the first, so the
# cached image stays as it is.
run() {
	local kernel t0 cfg

	trap cleanup EXIT
	trap "exit 1" INT TERM
	ip netns add "$ns"
	NETNS_MADE+=("$ns")
	ip -n "$ns" link set lo up
	# two queue pairs (a tap of two queues) for the guest's one CPU: the
	# stack uses one, virtio-net's XDP takes the other for TX queues of its
	# own (combined 1 + 1 possible CPU <= max 2); in_guest.sh takes it
	# away with ethtool -L to see ddpctl say so
	ip -n "$ns" tuntap add dev "$tap" mode tap multi_queue
	ip -n "$ns" addr add "$HOST_IP/24" dev "$tap"
	ip -n "$ns" link set "$tap" up
	netns_tmp
	target_start "$build/ddp-target" "$ns" "$HOST_IP" "$NQN" 256M
	# where kmod_glue's test L5P runs: a second target, whose segments
	# to the guest are dropped at 1%
	[ "$kmod_suites" = 1 ] && lossy_target

	cfg=$NETNS_TMP/conf
	mkdir -p "$cfg/etc"
	cat >"$cfg/etc/guest.conf" <<-EOF
	MODULES="$MODULES"
	GUEST_IP=$GUEST_IP
	TARGET=$HOST_IP:4420
	NQN=$NQN
	STREAMS=${DDP_GUEST_STREAMS:-300}
	SUITES="${DDP_GUEST_SUITES-$suites}"
	READ_SECONDS=${DDP_GUEST_READ_SECONDS:-6}
	KMOD_SUITES=$kmod_suites
	LOSSY_PORT=$LOSSY_PORT
	EOF
	(cd "$cfg" && echo etc/guest.conf | busybox cpio -o -H newc 2>/dev/null) |
		gzip -1 >"$NETNS_TMP/conf.gz"
	cat "$out/initramfs.gz" "$NETNS_TMP/conf.gz" >"$NETNS_TMP/initrd.gz"

	kernel=$out/kernel/vmlinux
	[ -f "$kernel" ] || kernel=$out/kernel/vmlinuz
	rm -f "$out/console"
	t0=$(date +%s)
	ip netns exec "$ns" qemu-system-x86_64 -name "ddp-guest-$series" \
		-accel tcg -cpu max -smp 1 -m 1536M \
		-nodefaults -no-user-config -display none -monitor none \
		-serial "file:$out/console" -no-reboot \
		-kernel "$kernel" -initrd "$NETNS_TMP/initrd.gz" \
		-append "console=ttyS0 quiet panic=-1 mitigations=off" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no,queues=2" \
		-device virtio-net-pci,netdev=n0,mq=on,vectors=6,mac=52:54:00:dd:01:02 \
		>"$NETNS_TMP/qemu.log" 2>&1 &
	qemu_pid=$!
	while ! grep -q '^DDP-GUEST-END' "$out/console" 2>/dev/null; do
		[ -e "/proc/$qemu_pid" ] && ! grep -q zombie "/proc/$qemu_pid/status" ||
			fail "qemu ended before the tests did: $(cat "$NETNS_TMP/qemu.log")"
		[ $(($(date +%s) - t0)) -lt "$TIMEOUT" ] ||
			fail "the guest's tests did not end within $TIMEOUT s"
		sleep 1
	done
	echo "guest $series: $(grep -a '^DDP-GUEST-KERNEL' "$out/console" | cut -d' ' -f2), $(($(date +%s) - t0)) s"
	grep -a '^DDP-GUEST-\(OK\|FAIL\|INFO\)' "$out/console" | sed 's/^DDP-GUEST-/  /'
	grep -aq '^DDP-GUEST-FAIL' "$out/console" && fail "checks failed in the guest"
	grep -aq '^DDP-GUEST-END 0' "$out/console" || fail "the guest's tests failed"
	read_the_guest
	return 0
}

# The guest serves a target now: the host reads it across the tap over
# kernel sockets, the engine attached natively to the tap (frames from the
# guest's virtio-net, with the partial checksums it leaves to offload).
# (The host's own TCP over AF_XDP on a tap gets no answer to its SYNs,
# native or skb mode: not supported yet.)
read_the_guest() {
	local t f

	while ! grep -q '^DDP-GUEST-TARGET' "$out/console" 2>/dev/null; do
		[ $(($(date +%s) - t0)) -lt "$TIMEOUT" ] ||
			fail "the guest's target did not start"
		sleep 0.5
	done
	in_ns "$ns" "$build/ddpctl" attach "$tap" --mode native --buffers 128M \
		>"$NETNS_TMP/tap" 2>&1 || fail "attach to the tap: $(cat "$NETNS_TMP/tap")"
	for t in kernel; do
		f=$NETNS_TMP/host-$t
		in_ns "$ns" "$build/ddp-host" perf -t $t -a $GUEST_IP -s 4420 -n "$NQN" \
			--json --rw randread --bs 32K-1M --qd 16 -i 1 --time 4 \
			--verify -g -G >"$f" 2>"$f.err" || fail "reads from the guest over $t: $(cat "$f.err" "$f")"
		[ "$(num "$f" verify_bad)" = 0 ] && [ "$(num "$f" failed)" = 0 ] &&
			[ $(($(num "$f" placed_bytes) * 100)) -ge $(($(num "$f" read_bytes) * 90)) ] ||
			fail "reads from the guest over $t: $(cat "$f")"
		echo "  OK host reads the guest's target over $t, the engine on the tap: $(num "$f" ios) verified, $(num "$f" placed_bytes) of $(num "$f" read_bytes) bytes placed, csum_partial $(num "$f" engine_csum_partial)"
	done
	in_ns "$ns" "$build/ddpctl" detach "$tap" >/dev/null
}

num() {
	sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"
}

# series N SERIES: the names and addresses of guest N, of SERIES
series() {
	series=$2
	case "$series" in
	# the engine's and the library's suites on both; Debian 12's default
	# kernel also runs the engine's suites through kmod_glue's kfuncs and
	# the in-kernel test L5P, 6.12 the module's other checks
	6.1) pkg_re=linux-image-amd64 kmod_suites=1 suites="test_engine test_libddp" ;;
	6.12) pkg_re='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' kmod_suites=0 suites="test_engine test_libddp" ;;
	*) echo "guest: series 6.1 or 6.12, not '$series'" >&2; exit 2 ;;
	esac
	out=$build/guest/$series
	name=ddg$$$1
	ns=$name-n
	tap=$name-t
	HOST_IP=10.246.$1.1
	GUEST_IP=10.246.$1.2
}

dk_install qemu-system-x86 busybox-static xz-utils zstd iproute2 bpftool ethtool
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait; exit 1' INT TERM
i=0
for s in "$@"; do
	series $i "$s"
	mkdir -p "$out"
	(prepare && run) >"$out/log" 2>&1 &
	pids+=($!)
	i=$((i + 1))
done
rc=0
i=0
for s in "$@"; do
	wait "${pids[$i]}" || rc=1
	cat "$build/guest/$s/log"
	i=$((i + 1))
done
exit $rc
