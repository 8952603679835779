#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The Linux kernel's own NVMe/TCP target (nvmet, nvmet-tcp from Debian's
# kernel package) booted under qemu (TCG) and reachable from a network
# namespace, so that the project's host can be tested against an
# implementation it did not write. See tests/interop/README.md.
#
#   kernel_target.sh prepare OUTDIR     kernel, modules, initramfs (cached)
#   kernel_target.sh start OUTDIR NAME  boot; prints "ADDR PORT HOSTDEV"
#   kernel_target.sh stop OUTDIR NAME   kill that VM, remove what start made
#   kernel_target.sh probe ADDR PORT [DGST]
#                                       ICReq -> ICResp smoke check; DGST
#                                       1 header, 2 data, 3 both digests
#
# NAME: 1 to 13 of [A-Za-z0-9_], so that NAME-h fits IFNAMSIZ. It names
# everything start makes: namespaces NAME-vm and NAME-host, tap NAME-t and
# veth NAME-v in NAME-vm, veth NAME-h in NAME-host, and OUTDIR/NAME.*.
# Nothing is ever made in, or taken from, the root namespace.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
self="$here/$(basename "$0")"
. "$here/../lib/debian_kernel.sh"

# The fabric, the same in every run: it exists only inside that run's
# namespaces. The VM's eth0 sits behind the tap, the host's end of the
# veth reaches it through NAME-vm, which forwards.
VM_IP=10.253.0.2
TAP_IP=10.253.0.1
VM_NET=10.253.0.0/24
VETH_VM_IP=10.253.1.1
VETH_HOST_IP=10.253.1.2
PORT=${DDP_KT_PORT:-4420}
NQN=${DDP_KT_NQN:-nqn.2014-08.org.nvmexpress:uuid:ddp-interop}
BOOT_TIMEOUT=${DDP_KT_TIMEOUT:-90}

# The namespace is a brd RAM disk of this size, holding pattern.h's bytes.
RD_KIB=16384

# Modules the VM loads by name (their dependencies follow): the NIC
# (virtio-net is a module in Debian's kernel, as e1000 is), the RAM disk,
# the target, and crc32c for digests, which nvmet-tcp asks the crypto API
# for only when a host enables them, so no module dependency names it.
WANT_MODULES="virtio_pci virtio_net brd nvmet nvmet-tcp crc32c_generic crc32c-intel"
# Loaded only where the CPU can (crc32c-intel needs SSE4.2).
OPT_MODULES="crc32c-intel"

die() {
	echo "kernel_target: $*" >&2
	exit 1
}

usage() {
	cat >&2 <<-EOF
	usage: kernel_target.sh prepare OUTDIR
	       kernel_target.sh start OUTDIR NAME
	       kernel_target.sh stop OUTDIR NAME
	       kernel_target.sh probe ADDR PORT [DGST]
	EOF
	exit 2
}

check_name() {
	[[ $1 =~ ^[A-Za-z0-9_]{1,13}$ ]] ||
		die "NAME '$1': use 1 to 13 of [A-Za-z0-9_] (interface NAME-h must fit 15 characters)"
}

need_root() {
	[ "$(id -u)" -eq 0 ] || die "$1 needs root"
}

# ---------------------------------------------------------------- prepare

# The VM's /init. Runs under busybox sh as PID 1; on any failure it says
# DDP-NVMET-FAIL and powers off, which ends qemu (-no-reboot).
write_init() {
	cat >"$1" <<'EOF'
#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /tmp /sbin /usr/bin /usr/sbin
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1
. /etc/ddp-target.conf

fail() {
	echo "DDP-NVMET-FAIL: $*"
	sleep 1
	poweroff -f
}

# say WHAT: a step and the seconds since boot, to see where boot time goes
say() {
	read -r up _ </proc/uptime
	echo "ddp-target: [$up] $*"
}

# wait_for PATH: devices appear as their drivers probe them
wait_for() {
	i=0
	while [ ! -e "$1" ]; do
		i=$((i + 1))
		[ $i -gt 100 ] && fail "$1 did not appear"
		sleep 0.1
	done
}

ip_cidr=10.253.0.2/24
gw=10.253.0.1
nqn=nqn.2014-08.org.nvmexpress:uuid:ddp-interop
port=4420
for w in $(cat /proc/cmdline); do
	case "$w" in
	ddp_ip=*) ip_cidr=${w#*=} ;;
	ddp_gw=*) gw=${w#*=} ;;
	ddp_nqn=*) nqn=${w#*=} ;;
	ddp_port=*) port=${w#*=} ;;
	esac
done

say "init"
for m in $LOAD_MODULES; do
	modprobe "$m" || fail "modprobe $m"
done
for m in $OPT_MODULES; do
	modprobe "$m" 2>/dev/null || echo "ddp-target: $m not loaded (CPU lacks it)"
done
modprobe brd rd_nr=1 rd_size="$RD_KIB" max_part=0 || fail "modprobe brd"
[ -d /sys/kernel/config ] || fail "no configfs"
grep -q ' /sys/kernel/config ' /proc/mounts ||
	mount -t configfs configfs /sys/kernel/config || fail "mount configfs"

say "modules loaded"
ip link set lo up
wait_for /sys/class/net/eth0
ip addr add "$ip_cidr" dev eth0 || fail "address $ip_cidr"
ip link set eth0 up || fail "eth0 up"
ip route add default via "$gw" || fail "route via $gw"

# The pattern onto the RAM disk, flushed past the page cache (nvmet's
# block backend reads the disk, not the cache) and read back from it;
# md5sum against prepare's sum, as busybox cmp takes 3 times as long.
wait_for /dev/ram0
dd if=/pattern.bin of=/dev/ram0 bs=1M conv=fsync 2>/dev/null ||
	fail "dd to /dev/ram0"
rm /pattern.bin
echo 3 >/proc/sys/vm/drop_caches
sum=$(md5sum </dev/ram0)
[ "${sum%% *}" = "$PATTERN_MD5" ] || fail "/dev/ram0 does not hold the pattern"

say "pattern written to /dev/ram0 and read back"

cfg=/sys/kernel/config/nvmet
s=$cfg/subsystems/$nqn
mkdir "$s" || fail "subsystem $nqn"
echo 1 >"$s/attr_allow_any_host" || fail "attr_allow_any_host"
mkdir "$s/namespaces/1" || fail "namespace 1"
echo -n /dev/ram0 >"$s/namespaces/1/device_path" || fail "device_path"
echo 1 >"$s/namespaces/1/enable" || fail "namespace enable"
p=$cfg/ports/1
mkdir "$p" || fail "port"
echo tcp >"$p/addr_trtype"
echo ipv4 >"$p/addr_adrfam"
echo 0.0.0.0 >"$p/addr_traddr"
echo "$port" >"$p/addr_trsvcid"
# linking enables the port: nvmet-tcp listens once ln returns
ln -s "$s" "$p/subsystems/$nqn" || fail "port link"

say "$(uname -r), $nqn, namespace 1 = /dev/ram0 ($RD_KIB KiB), tcp ${ip_cidr%/*}:$port"
echo "DDP-NVMET-READY"
while :; do
	sleep 3600
done
EOF
	chmod 755 "$1"
}

prepare() {
	local out=$1 pkgver kver stamp tmp load m name sum

	need_root prepare
	mkdir -p "$out"
	out=$(cd "$out" && pwd)
	dk_install qemu-system-x86 busybox-static iproute2 iputils-ping gcc \
		xz-utils libc6-dev
	pkgver=$(dk_package linux-image-amd64) || true
	if [ -z "$pkgver" ]; then
		# no package lists to ask: the cached kernel will do
		[ -f "$out/kernel/stamp" ] ||
			die "apt-cache finds no kernel for linux-image-amd64"
		pkgver=$(cut -d'|' -f1 "$out/kernel/stamp")
		pkgver=${pkgver% }
	fi
	dk_fetch "$out/kernel" "$pkgver" $WANT_MODULES ||
		die "fetching $pkgver or its modules failed"
	kver=$(cat "$out/kernel/kver")

	cc -O2 -Wall -Wextra -Werror -std=gnu11 -I"$here/../../l5p_userspace/nvme" \
		-o "$out/pattern.tmp" "$here/pattern.c"
	mv "$out/pattern.tmp" "$out/pattern"

	ln -f "$out/kernel/vmlinuz" "$out/vmlinuz"
	rm -f "$out/vmlinux"
	if [ -f "$out/kernel/vmlinux" ]; then
		ln -f "$out/kernel/vmlinux" "$out/vmlinux"
	fi

	# everything the initramfs is made of, so a change rebuilds it
	stamp=$( { cat "$out/kernel/stamp" "$self" "$here/pattern.c" \
		"$here/../../l5p_userspace/nvme/pattern.h" "$(command -v busybox)"; } |
		sha256sum | cut -d' ' -f1)
	if [ -f "$out/initramfs.gz" ] &&
	   [ "$(cat "$out/initramfs.stamp" 2>/dev/null)" = "$stamp" ]; then
		echo "kernel_target: $out up to date ($pkgver)" >&2
		return
	fi

	tmp=$(mktemp -d "$out/.initramfs.XXXXXX")
	# shellcheck disable=SC2064 # expand now: tmp is local
	trap "rm -rf '$tmp'" EXIT
	mkdir -p "$tmp/root/bin" "$tmp/root/etc" "$tmp/root/lib"
	cp "$(command -v busybox)" "$tmp/root/bin/busybox"
	ldd "$tmp/root/bin/busybox" >/dev/null 2>&1 &&
		die "$(command -v busybox) is not static (busybox-static)"
	cp -a "$out/kernel/lib/modules" "$tmp/root/lib/"
	"$out/pattern" "${RD_KIB}K" "$tmp/root/pattern.bin"
	sum=$(md5sum <"$tmp/root/pattern.bin")
	write_init "$tmp/root/init"
	# the wanted modules the kernel has as modules (not built in), in
	# the order given; brd is loaded with its parameters
	load=
	for m in $WANT_MODULES; do
		name=${m//-/_}
		[[ " ${OPT_MODULES//-/_} brd " == *" $name "* ]] && continue
		grep -qE "/${m//[-_]/[-_]}\.ko:" \
			"$out/kernel/lib/modules/$kver/modules.dep" || continue
		load+=" $m"
	done
	cat >"$tmp/root/etc/ddp-target.conf" <<-EOF
	LOAD_MODULES="${load# }"
	OPT_MODULES="$OPT_MODULES"
	RD_KIB=$RD_KIB
	PATTERN_MD5=${sum%% *}
	EOF
	(cd "$tmp/root" && find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		busybox cpio -o -H newc 2>/dev/null) | gzip -6 >"$tmp/initramfs.gz"
	mv "$tmp/initramfs.gz" "$out/initramfs.gz"
	echo "$stamp" >"$out/initramfs.stamp"
	rm -rf "$tmp"
	trap - EXIT
	echo "kernel_target: $out/vmlinu[xz], $out/initramfs.gz ($kver, $pkgver)" >&2
}

# ------------------------------------------------------------ start, stop

ns_exists() {
	ip netns list | awk '{ print $1 }' | grep -qxF "$1"
}

# is_qemu_of PID PIDFILE: PID is a live qemu started with this pidfile
# (a reused pid is not).
is_qemu_of() {
	local cmd state

	cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline") || return 1
	[[ $cmd == *qemu-system-x86_64* && $cmd == *"-pidfile $2 "* ]] ||
		return 1
	state=$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ "$state" != Z ]
}

# our_qemu PIDFILE: the pid in it, if that is our live qemu.
our_qemu() {
	local pid

	# qemu removes its pidfile as it exits
	pid=$(cat "$1" 2>/dev/null) || return 1
	[[ $pid =~ ^[0-9]+$ ]] && is_qemu_of "$pid" "$1" && echo "$pid"
}

do_stop() {
	local out=$1 name=$2 pid i ns left

	if pid=$(our_qemu "$out/$name.pid"); then
		kill -TERM "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do
			is_qemu_of "$pid" "$out/$name.pid" || break
			sleep 0.1
		done
		if is_qemu_of "$pid" "$out/$name.pid"; then
			kill -KILL "$pid" 2>/dev/null || true
		fi
		# it is not our child: give its reaper a moment, so that no
		# zombie is left to be seen
		for ((i = 0; i < 20; i++)); do
			[ -e "/proc/$pid" ] || break
			sleep 0.1
		done
	fi
	rm -f "$out/$name.pid"
	for ns in "$name-vm" "$name-host"; do
		ns_exists "$ns" || continue
		left=$(ip netns pids "$ns" 2>/dev/null | tr '\n' ' ')
		[ -z "$left" ] ||
			echo "kernel_target: processes still in $ns, not ours to kill: $left" >&2
		# the tap and the veths go with their namespaces
		ip netns del "$ns"
	done
}

start_failed() {
	local out=$1 name=$2

	echo "kernel_target: start $name failed; undoing it" >&2
	if [ -s "$out/$name.console" ]; then
		echo "--- last lines of $out/$name.console:" >&2
		tail -n 20 "$out/$name.console" >&2
	fi
	[ -s "$out/$name.qemu.log" ] && cat "$out/$name.qemu.log" >&2
	do_stop "$out" "$name"
}

start() {
	local out=$1 name=$2 vm host tap t0 t1 pid i append kernel

	need_root start
	check_name "$name"
	[ -d "$out" ] || die "$out: no such directory; run prepare first"
	out=$(cd "$out" && pwd)
	if [ ! -f "$out/vmlinuz" ] || [ ! -f "$out/initramfs.gz" ]; then
		die "$out has no vmlinuz/initramfs.gz; run prepare first"
	fi
	[[ $NQN =~ ^[A-Za-z0-9.:_-]+$ ]] || die "NQN '$NQN': no spaces or quotes"
	vm=$name-vm
	host=$name-host
	tap=$name-t
	# never take over what another run (or a failed one) left
	for i in "$vm" "$host"; do
		ns_exists "$i" &&
			die "namespace $i exists; run 'stop $out $name' first"
	done
	our_qemu "$out/$name.pid" >/dev/null &&
		die "a VM of $out/$name.pid still runs; run 'stop $out $name' first"
	rm -f "$out/$name.pid" "$out/$name.console" "$out/$name.qemu.log"

	# shellcheck disable=SC2064 # expand now: out and name are local
	trap "start_failed '$out' '$name'" EXIT
	trap "exit 1" INT TERM HUP

	ip netns add "$vm"
	ip netns add "$host"
	ip -n "$vm" link set lo up
	ip -n "$host" link set lo up
	ip -n "$vm" tuntap add dev "$tap" mode tap
	ip -n "$vm" addr add "$TAP_IP/24" dev "$tap"
	ip -n "$vm" link set "$tap" up
	ip -n "$vm" link add "$name-v" type veth peer name "$name-h" netns "$host"
	ip -n "$vm" addr add "$VETH_VM_IP/24" dev "$name-v"
	ip -n "$vm" link set "$name-v" up
	ip -n "$host" addr add "$VETH_HOST_IP/24" dev "$name-h"
	ip -n "$host" link set "$name-h" up
	ip -n "$host" route add "$VM_NET" via "$VETH_VM_IP" dev "$name-h"
	# forwarding between the tap and the veth, in this namespace only
	ip netns exec "$vm" sh -c 'echo 1 >/proc/sys/net/ipv4/ip_forward'

	# the ELF if prepare could make one: no decompression under TCG
	kernel=$out/vmlinux
	[ -f "$kernel" ] || kernel=$out/vmlinuz
	append="console=ttyS0 quiet panic=-1 mitigations=off"
	append+=" ddp_ip=$VM_IP/24 ddp_gw=$TAP_IP ddp_nqn=$NQN ddp_port=$PORT"
	append+=" ${DDP_KT_APPEND:-}"
	t0=$(date +%s%N)
	# -daemonize: qemu detaches once set up and writes its own pid
	ip netns exec "$vm" qemu-system-x86_64 -name "ddp-kt-$name" \
		-accel tcg -cpu max -smp 1 -m 512M \
		-nodefaults -no-user-config -display none -monitor none \
		-serial "file:$out/$name.console" -no-reboot \
		-kernel "$kernel" -initrd "$out/initramfs.gz" \
		-append "$append" \
		-netdev "tap,id=n0,ifname=$tap,script=no,downscript=no" \
		-device virtio-net-pci,netdev=n0,mac=52:54:00:dd:00:02,csum=off,guest_csum=off \
		-daemonize -pidfile "$out/$name.pid" 2>"$out/$name.qemu.log" ||
		die "qemu did not start"
	pid=$(our_qemu "$out/$name.pid") || die "qemu exited at once"

	while ! grep -q DDP-NVMET-READY "$out/$name.console" 2>/dev/null; do
		grep -a DDP-NVMET-FAIL "$out/$name.console" 2>/dev/null >&2 &&
			die "the VM's init failed"
		our_qemu "$out/$name.pid" >/dev/null ||
			die "qemu (pid $pid) exited before the target was ready"
		t1=$(date +%s%N)
		[ $(((t1 - t0) / 1000000000)) -lt "$BOOT_TIMEOUT" ] ||
			die "no DDP-NVMET-READY after $BOOT_TIMEOUT s"
		sleep 0.2
	done
	t1=$(date +%s%N)
	# the path from the host's namespace, through NAME-vm, to the VM
	ip netns exec "$host" ping -c 1 -W 5 "$VM_IP" >/dev/null ||
		die "$VM_IP not reachable from $host"
	printf 'kernel_target: %s ready in %d.%01d s (qemu pid %s)\n' "$name" \
		$(((t1 - t0) / 1000000000)) $(((t1 - t0) / 100000000 % 10)) \
		"$pid" >&2
	trap - EXIT INT TERM HUP
	echo "$VM_IP $PORT $name-h"
}

stop() {
	local out=$1 name=$2

	need_root stop
	check_name "$name"
	if [ -d "$out" ]; then
		out=$(cd "$out" && pwd)
	fi
	do_stop "$out" "$name"
}

# ------------------------------------------------------------------ probe

# An ICReq: common header type 0x00, flags 0, hlen 128, pdo 0, plen 128
# (LE); pfv 0, hpda 0, dgst DGST (bit 0 header, bit 1 data digest),
# maxr2t 0; 112 bytes reserved. The answer must be 128 bytes of ICResp:
# type 0x01, hlen 128, plen 128, and the digests asked for.
probe_once() {
	local addr=$1 port=$2 dgst=$3 hex
	local -a b

	if ! { exec 3<>"/dev/tcp/$addr/$port"; } 2>/dev/null; then
		echo "probe: cannot connect to $addr:$port" >&2
		return 1
	fi
	{
		printf '\x00\x00\x80\x00\x80\x00\x00\x00\x00\x00\x00'
		printf %b "\\x0$dgst"
		head -c 116 /dev/zero
	} >&3
	hex=$(head -c 128 <&3 | od -An -v -tx1)
	exec 3<&-
	# shellcheck disable=SC2206 # split od's words into bytes
	b=($hex)
	if [ ${#b[@]} -ne 128 ]; then
		echo "probe: $addr:$port answered ${#b[@]} bytes, not an ICResp's 128" >&2
		return 1
	fi
	# type, hlen, plen
	if [ "${b[0]} ${b[2]} ${b[4]}${b[5]}${b[6]}${b[7]}" != "01 80 80000000" ]; then
		echo "probe: $addr:$port answered no ICResp: ${b[*]:0:8}" >&2
		return 1
	fi
	if [ "${b[11]}" != "0$dgst" ]; then
		echo "probe: $addr:$port refused digests $dgst (ICResp dgst 0x${b[11]})" >&2
		return 1
	fi
	echo "probe: ICResp from $addr:$port: pfv $((16#${b[9]}${b[8]}))," \
		"cpda $((16#${b[10]})), dgst 0x${b[11]}," \
		"maxh2cdata $((16#${b[15]}${b[14]}${b[13]}${b[12]}))"
}

probe() {
	local t=${DDP_KT_PROBE_TIMEOUT:-10} rc=0

	[[ $2 =~ ^[0-9]+$ && $3 =~ ^[0-3]$ ]] || usage
	# a bounded wait even where connect or the answer would hang
	timeout "$t" "$self" _probe "$1" "$2" "$3" || rc=$?
	[ $rc -eq 124 ] && echo "probe: no ICResp from $1:$2 within $t s" >&2
	[ $rc -eq 0 ]
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
prepare)
	[ $# -eq 1 ] || usage
	prepare "$1"
	;;
start)
	[ $# -eq 2 ] || usage
	start "$1" "$2"
	;;
stop)
	[ $# -eq 2 ] || usage
	stop "$1" "$2"
	;;
probe)
	[ $# -eq 2 ] || [ $# -eq 3 ] || usage
	probe "$1" "$2" "${3:-0}"
	;;
_probe)
	probe_once "$1" "$2" "$3"
	;;
*)
	usage
	;;
esac
