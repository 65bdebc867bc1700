#!/bin/sh
# Install the Debian packages srt needs to build and test, only those missing.
# Usage: scripts/install-deps.sh [build|test|bench]
set -eu
what=${1:-test}
pkgs="gcc pkg-config meson ninja-build libseccomp-dev libjansson-dev libuv1-dev procps"
case "$what" in
	test) pkgs="$pkgs libcmocka-dev python3 python3-pytest clang libclang-rt-dev git procps util-linux curl wget python3-requests openssl openssh-client podman runc nodejs" ;;
	bench) pkgs="$pkgs hyperfine bubblewrap socat ripgrep nodejs npm git python3" ;;
	build) ;;
	*) echo "usage: $0 [build|test|bench]" >&2; exit 2 ;;
esac
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages:$missing -- run: sudo apt-get install$missing" >&2
	exit 1
fi
echo "installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
