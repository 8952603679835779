#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
#
# build.sh OUT [KVER [BASE_BTF]]: kmod_glue's module for Debian's kernel
# KVER (default: the running one), into OUT/ddp_glue.ko, with the BTF its
# kfuncs need, and the test L5P that uses its API, OUT/ddp_l5p_test.ko. Installs what is missing: the kernel's headers, pahole
# (dwarves) and resolve_btfids.
#
# The kernel's own build gives a module BTF by running, once the module is
# linked, `pahole -J --btf_base vmlinux` (the module's types, as a split
# BTF over the kernel's) and `resolve_btfids -b vmlinux` (the BTF ids of
# its kfunc sets). Debian's headers ship no vmlinux, so kbuild skips both
# ("Skipping BTF generation"); they are run here with the kernel's BTF from
# BASE_BTF: for the running kernel /sys/kernel/btf/vmlinux by default, for
# another its vmlinux ELF (required). Debian's 6.1 packages ship no resolve_btfids:
# the one of a linux-kbuild-6.12 package does the same work.
set -euo pipefail

src=$(cd "$(dirname "$0")" && pwd)
out=${1:?usage: build.sh OUT [KVER [BASE_BTF]]}
kver=${2:-$(uname -r)}
base=${3:-}
headers=/usr/src/linux-headers-$kver

die() {
	echo "kmod_glue: $*" >&2
	exit 1
}

installed() {
	local s
	s=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
	[[ $s == *"ok installed" ]]
}

# apt, one at a time with the other scripts that run it (the guests are
# prepared in parallel)
apt_locked() {
	flock /run/lock/ddp-apt.lock "$@"
}

install() {
	echo "kmod_glue: installing $*" >&2
	apt_locked apt-get update -qq >&2 || die "apt-get update failed"
	apt_locked env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "$@" >/dev/null || die "apt-get install $* failed"
}

# the newest resolve_btfids a linux-kbuild package holds
resolve_btfids() {
	ls -d /usr/lib/linux-kbuild-*/tools/bpf/resolve_btfids/resolve_btfids \
		2>/dev/null | sort -V | tail -1
}

# the newest linux-kbuild-6.12 package apt knows
newest_kbuild() {
	apt-cache search --names-only '^linux-kbuild-6\.12\.' |
		awk '{ print $1 }' | sort -V | tail -1
}

if [ -z "$base" ]; then
	[ "$kver" = "$(uname -r)" ] ||
		die "for $kver, not the running kernel, give its BTF: BASE_BTF=its vmlinux"
	base=/sys/kernel/btf/vmlinux
fi
[ -r "$base" ] || die "no kernel BTF at $base (the running kernel has none? give its vmlinux)"
need=()
# apt can install PACKAGE (a variable, not a pipe into grep -q: under
# pipefail, apt-cache cut short would count as no)
candidate() {
	local p
	p=$(apt-cache policy "$1" 2>/dev/null)
	[[ $p == *"Candidate: "[0-9]* ]]
}

if ! installed "linux-headers-$kver"; then
	candidate "linux-headers-$kver" || apt_locked apt-get update -qq >&2
	candidate "linux-headers-$kver" ||
		die "apt has no linux-headers-$kver: a Debian kernel's version is needed (KVER=6.1.0-NN-amd64, BASE_BTF= its vmlinux)"
	need+=("linux-headers-$kver")
fi
command -v pahole >/dev/null || need+=(dwarves)
command -v make >/dev/null || need+=(make)
command -v bpftool >/dev/null || need+=(bpftool)
if [ -z "$(resolve_btfids)" ]; then
	kb=$(newest_kbuild)
	[ -n "$kb" ] || { apt_locked apt-get update -qq >&2; kb=$(newest_kbuild); }
	[ -n "$kb" ] || die "no linux-kbuild-6.12 package (for resolve_btfids) in apt's sources"
	need+=("$kb")
fi
[ ${#need[@]} -eq 0 ] || install "${need[@]}"
[ -d "$headers" ] || die "no headers for $kver in $headers"

# kbuild builds an external module where its sources are: a copy in OUT
mkdir -p "$out"
out=$(cd "$out" && pwd)
# OUT is cleared below: never the sources or a folder above them
case "$src/" in
"$out"/*) die "OUT $out holds the sources; give build.sh a folder of its own" ;;
esac
# the sources as they are now: nothing left of a file since deleted or
# renamed here (its source or object), which a Kbuild naming it or a
# wildcard would still build or link; the copies are new, so kbuild
# builds every object again anyway
rm -f "$out"/*.[ch] "$out"/Kbuild "$out"/*.o "$out"/.*.cmd \
	"$out"/test_l5p/*.[ch] "$out"/test_l5p/*.o "$out"/test_l5p/.*.cmd
cp "$src"/Kbuild "$src"/*.c "$src"/*.h "$src/../bpf/ddp.h" \
	"$src/../bpf/ddp_records.h" "$out/"
# the test L5P, with the protocol's and the pattern's headers it shares
# with the user-space host
mkdir -p "$out/test_l5p"
cp "$src"/test_l5p/*.[ch] "$src/../l5p_userspace/nvme/nvme.h" \
	"$src/../l5p_userspace/nvme/pattern.h" "$out/test_l5p/"
make -s -C "$headers" M="$out" modules >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log" >&2; die "kbuild failed for $kver"; }
ko=$out/ddp_glue.ko
# the flags the kernel's build gives this pahole
flags="--btf_gen_floats -j"
[ -x "$headers/scripts/pahole-flags.sh" ] &&
	flags=$(PAHOLE=pahole "$headers/scripts/pahole-flags.sh")
# shellcheck disable=SC2086
LLVM_OBJCOPY=objcopy pahole -J $flags --btf_base "$base" "$ko" ||
	die "pahole could not make the BTF of $ko"
"$(resolve_btfids)" -b "$base" "$ko" || die "resolve_btfids failed on $ko"
# the kfunc is in the module's BTF: the engine finds it by name
# (a variable, not a pipe into grep -q: bpftool cut short would fail it)
btf=$(bpftool -B "$base" btf dump file "$ko" 2>&1) ||
	die "bpftool cannot read the BTF of $ko: $(head -3 <<<"$btf")"
for f in bpf_ddp_crc32c bpf_ddp_copy_pinned bpf_ddp_pin_len \
	bpf_ddp_glue_caller bpf_ddp_resync_request; do
	[[ $btf == *"FUNC '$f'"* ]] || die "$ko has no BTF of its kfunc $f"
done
echo "kmod_glue: $ko for $kver, BTF over $base" >&2
