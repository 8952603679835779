# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Debian's kernel packages for guests under qemu, sourced by the scripts
# that boot one. A package is downloaded (never installed) and what a
# guest needs is kept: the kernel (as an ELF qemu enters through its PVH
# note, where the image allows: TCG takes about 7 s to decompress a
# bzImage), its config, and the modules asked for with their
# dependencies, with a modules.dep of just those for busybox modprobe.

# apt, one at a time with the other scripts that run it (guests are
# prepared in parallel; kmod_glue/build.sh takes the same lock)
dk_apt() {
	flock /run/lock/ddp-apt.lock "$@"
}

DK_APT_UPDATED=0
dk_apt_update_once() {
	[ "$DK_APT_UPDATED" -eq 1 ] && return
	dk_apt apt-get update -qq >&2
	DK_APT_UPDATED=1
}

# dk_install PACKAGE...: the Debian packages missing among these
dk_install() {
	local p missing=()

	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
			grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	echo "debian_kernel: installing ${missing[*]}" >&2
	dk_apt_update_once
	dk_apt env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends "${missing[@]}" >/dev/null
}

# dk_package REGEX: "PACKAGE VERSION" of the newest linux-image package
# whose name matches REGEX and that apt can download; for the name of a
# metapackage (linux-image-amd64), the image it depends on.
dk_package() {
	local pkg ver try

	for try in 1 2; do
		pkg=$(apt-cache depends "$1" 2>/dev/null |
			awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
		[ -n "$pkg" ] && break
		pkg=$(apt-cache search --names-only "$1" 2>/dev/null |
			awk '{ print $1 }' | sort -V | while read -r p; do
				# not piped into grep -q: under pipefail, apt-cache
				# cut short by it would count as no candidate
				[[ $(apt-cache policy "$p") == *"Candidate: "[0-9]* ]] &&
					echo "$p"
			done | tail -1)
		[ -n "$pkg" ] && break
		[ $try = 1 ] && dk_apt_update_once
	done
	[ -n "$pkg" ] || return 1
	ver=$(apt-cache policy "$pkg" | awk '$1 == "Candidate:" { print $2 }')
	echo "$pkg $ver"
}

# dk_module_closure TREE MODULE...: module paths (relative to TREE, a
# lib/modules/KVER) of the modules named and all they depend on; modules
# the kernel has built in are left out.
dk_module_closure() {
	local dir=$1 key base name m want found line
	local -A path_of=() deps_of=() builtin=() seen=()
	local -a queue=() result=()

	shift
	while IFS= read -r line; do
		key=${line%%:*}
		base=${key##*/}
		name=${base%.ko*}
		path_of[${name//-/_}]=$key
		deps_of[$key]=${line#*:}
	done <"$dir/modules.dep"
	while IFS= read -r key; do
		base=${key##*/}
		name=${base%.ko*}
		builtin[${name//-/_}]=1
	done <"$dir/modules.builtin"
	for want in "$@"; do
		name=${want//-/_}
		[ -n "${builtin[$name]:-}" ] && continue
		found=${path_of[$name]:-}
		[ -n "$found" ] || { echo "debian_kernel: no module $want" >&2; return 1; }
		queue+=("$found")
	done
	while [ ${#queue[@]} -gt 0 ]; do
		m=${queue[0]}
		queue=("${queue[@]:1}")
		[ -n "${seen[$m]:-}" ] && continue
		seen[$m]=1
		result+=("$m")
		for key in ${deps_of[$m]}; do
			queue+=("$key")
		done
	done
	printf '%s\n' "${result[@]}"
}

# dk_extract_vmlinux BZIMAGE OUT: the kernel ELF inside an xz or zstd
# bzImage (6.1's, 6.12's)
dk_extract_vmlinux() {
	local bz=$1 out=$2 setup poff plen off magic unpack

	setup=$(od -An -tu1 -j $((0x1f1)) -N1 "$bz")
	poff=$(od -An -tu4 -j $((0x248)) -N4 "$bz")
	plen=$(od -An -tu4 -j $((0x24c)) -N4 "$bz")
	off=$(((setup + 1) * 512 + poff))
	magic=$(od -An -tx1 -j "$off" -N6 "$bz" | tr -d ' ')
	case "$magic" in
	fd377a585a00) unpack="xz -dc" ;;
	28b52ffd*) unpack="zstd -dcq" ;;
	*) return 1 ;;
	esac
	# the payload ends with the 4-byte decompressed size, not the
	# compressor's
	dd if="$bz" iflag=skip_bytes,count_bytes skip="$off" \
		count=$((plen - 4)) status=none | $unpack >"$out" || return 1
	[ "$(od -An -tx1 -N4 "$out" | tr -d ' ')" = 7f454c46 ]
}

# dk_fetch OUT "PACKAGE VERSION" MODULE...: OUT/vmlinuz, OUT/vmlinux (if
# PVH), OUT/config, OUT/kver and OUT/lib/modules/KVER with the modules
# named and their dependencies. Cached: done again only when the package
# or the modules change.
dk_fetch() {
	local out=$1 pkgver=$2 pkg kver tmp deb m stamp
	shift 2
	stamp="$pkgver | $* | pvh xz zstd"

	if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ]; then
		return
	fi
	pkg=${pkgver%% *}
	kver=${pkg#linux-image-}
	kver=${kver%-unsigned}
	echo "debian_kernel: fetching $pkgver" >&2
	rm -rf "$out"
	mkdir -p "$(dirname "$out")"
	tmp=$(mktemp -d "$(dirname "$out")/.kernel.XXXXXX")
	# apt's sandbox user cannot write here; we are root anyway
	(cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root "$pkg") || {
		rm -rf "$tmp"
		return 1
	}
	deb=$(echo "$tmp"/*.deb)
	dpkg-deb -x "$deb" "$tmp/root"
	# the package ships no modules.dep (its postinst runs depmod)
	busybox depmod -b "$tmp/root" "$kver"
	mkdir -p "$tmp/k/lib/modules/$kver"
	cp "$tmp/root/boot/vmlinuz-$kver" "$tmp/k/vmlinuz"
	cp "$tmp/root/boot/config-$kver" "$tmp/k/config"
	if grep -qx CONFIG_PVH=y "$tmp/k/config"; then
		dk_extract_vmlinux "$tmp/k/vmlinuz" "$tmp/k/vmlinux" ||
			rm -f "$tmp/k/vmlinux"
	fi
	cp "$tmp/root/lib/modules/$kver/modules.builtin" \
		"$tmp/k/lib/modules/$kver/"
	dk_module_closure "$tmp/root/lib/modules/$kver" "$@" >"$tmp/modules" || {
		rm -rf "$tmp"
		return 1
	}
	while IFS= read -r m; do
		mkdir -p "$tmp/k/lib/modules/$kver/$(dirname "$m")"
		cp "$tmp/root/lib/modules/$kver/$m" "$tmp/k/lib/modules/$kver/$m"
	done <"$tmp/modules"
	busybox depmod -b "$tmp/k" "$kver"
	echo "$kver" >"$tmp/k/kver"
	echo "$stamp" >"$tmp/k/stamp"
	mv "$tmp/k" "$out"
	rm -rf "$tmp"
}
