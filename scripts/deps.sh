#!/usr/bin/env bash
# Installs the Debian packages that the build, the tests and the demo need.
# Idempotent: installs only what is missing, and says what it installs.
set -euo pipefail

packages=(
	# build
	make gcc clang llvm pkg-config libbpf-dev libelf-dev zlib1g-dev bpftool
	libxdp-dev libisal-dev
	# tests
	libcriterion-dev iproute2 iputils-ping util-linux ethtool tshark
	libfuzzer-14-dev libclang-rt-14-dev
	# make bench
	linux-perf
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
