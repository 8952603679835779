# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# bpffs_private "$@", first thing in a script: runs the script again in a
# mount namespace of its own with a BPF filesystem of its own on
# /sys/fs/bpf. What it pins (the engine under /sys/fs/bpf/ddp, iproute2's
# tc/ hierarchy) goes with it however it ends, killed included, and no
# other run sees it. Processes it starts (nsenter --net) share it.
bpffs_private() {
	[ -n "${DDP_BPFFS_PRIVATE:-}" ] && return
	DDP_BPFFS_PRIVATE=1 exec unshare --mount --propagation private \
		sh -c 'mount -t bpf bpf /sys/fs/bpf && exec "$@"' sh \
		bash "$0" "$@"
}
