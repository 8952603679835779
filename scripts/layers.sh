#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# layers.sh - the include graph between the layers of loader/ and
# l5p_userspace/, from the compiler's own dependencies (gcc -MM over every
# .c and .h), one line per edge; fails if a layer includes one it may not
# (a layer above it, or a sibling), or if the graph has a cycle.
#
#   scripts/layers.sh        from anywhere; make test-layers passes CC and
#                            INCLUDES as it compiles. Needs no build.
#
# A file's layer is its folder. bpf/ is a layer of the ABI: bpf/ddp.h, and
# bpf/ddp_records.h, how hosts read its records; the skeletons generated from bpf/ (build/*.skel.h) are the
# library's alone. From the bottom up (docs/ARCHITECTURE.md):
#
#   3  l5p_userspace/host   l5p_userspace/target   (never each other)
#   2  loader/ddpctl        l5p_userspace/xport
#   1  loader/libddp        l5p_userspace/nvme
#   0  bpf (ddp.h, ddp_records.h)
#
# A layer includes only layers below it, and only those the table `may`
# names: ddpctl the library; the streams (xport) the library, not NVMe;
# the protocol (nvme) only the ABI. Inside a layer, the table `within`
# orders files too: in xport, the AF_XDP port (xsk_port.[ch]) is below
# the user-space TCP (utcp*) that runs on it.
set -euo pipefail
cd "$(dirname "$0")/.."

CC=${CC:-gcc}
INCLUDES=${INCLUDES:--Ibpf -Iloader/libddp -Il5p_userspace -Ibuild}

# What each layer may include besides itself.
declare -A may=(
	[bpf]=""
	[loader/libddp]="bpf"
	[loader/ddpctl]="loader/libddp bpf"
	[l5p_userspace/nvme]="bpf"
	[l5p_userspace/xport]="loader/libddp bpf"
	[l5p_userspace/host]="l5p_userspace/xport l5p_userspace/nvme loader/libddp bpf"
	[l5p_userspace/target]="l5p_userspace/xport l5p_userspace/nvme loader/libddp bpf"
)

# Inside a layer: "FILES|MAY NOT INCLUDE|WHY", as globs of paths.
within=(
	"l5p_userspace/xport/xsk_port.[ch]|l5p_userspace/xport/utcp*|the AF_XDP port does not know the TCP on it"
)

# The layer of a path (relative to the top), or "" outside them all.
layer_of() {
	case $1 in
	bpf/*) echo bpf ;;
	*.skel.h) echo bpf ;; # generated from bpf/, in build/
	loader/*/* | l5p_userspace/*/*) echo "${1%/*}" ;;
	*) echo "" ;;
	esac
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
nfiles=0

# -MM leaves out system headers; -MG lists a header not generated yet
# (a skeleton) as it is named.
while IFS= read -r f; do
	nfiles=$((nfiles + 1))
	from=$(layer_of "$f")
	if [ -z "${may[$from]+set}" ]; then
		echo "layers: $f: in no known layer (a new folder? add it to scripts/layers.sh and docs/ARCHITECTURE.md)" >&2
		fail=1
		continue
	fi
	# shellcheck disable=SC2086
	if ! deps=$($CC -MM -MG $INCLUDES -x c "$f" 2>"$tmp/err"); then
		cat "$tmp/err" >&2
		fail=1
		continue
	fi
	for d in $(echo "$deps" | sed -e 's/^[^:]*://' -e 's/\\$//'); do
		[ "$d" = "$f" ] && continue
		[ -e "$d" ] && d=$(realpath -m --relative-to=. "$d")
		to=$(layer_of "$d")
		if [ -z "$to" ]; then
			echo "layers: $f includes $d, in no layer" >&2
			fail=1
			continue
		fi
		if [ "$to" = "$from" ]; then
			for rule in "${within[@]}"; do
				IFS='|' read -r files banned why <<<"$rule"
				# shellcheck disable=SC2053 # globs, on purpose
				if [[ $f == $files && $d == $banned ]]; then
					echo "layers: $f includes $d: $why" >&2
					fail=1
				fi
			done
			continue
		fi
		if [ "$to" = bpf ]; then
			case $d in
			bpf/ddp.h | bpf/ddp_records.h) ;;
			*.skel.h)
				if [ "$from" != loader/libddp ]; then
					echo "layers: $f includes $d: only loader/libddp loads the engine" >&2
					fail=1
				fi
				;;
			*)
				echo "layers: $f includes $d: of bpf/ only the ABI (ddp.h, and ddp_records.h, how its records are read) is for others" >&2
				fail=1
				;;
			esac
		fi
		if [[ " ${may[$from]} " != *" $to "* ]]; then
			echo "layers: $f includes $d: $from may not include $to" >&2
			fail=1
		fi
		echo "$from $to" >>"$tmp/edges"
	done
done < <(find loader l5p_userspace -name '*.[ch]' | sort)

echo "layers: which layer includes which (gcc -MM over $nfiles files)"
sort -u "$tmp/edges" | while read -r a b; do
	printf '  %-22s -> %s\n' "$a" "$b"
done
if ! sort -u "$tmp/edges" | tsort >/dev/null 2>"$tmp/tsort"; then
	echo "layers: the includes make a cycle:" >&2
	cat "$tmp/tsort" >&2
	fail=1
fi
if [ "$fail" != 0 ]; then
	echo "layers: FAIL" >&2
	exit 1
fi
for rule in "${within[@]}"; do
	IFS='|' read -r files banned _ <<<"$rule"
	printf '  inside: %s does not include %s\n' "$files" "$banned"
done
echo "layers: ok: each layer includes only those below it, no cycle"
