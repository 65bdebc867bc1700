#!/usr/bin/env bash
# Install the reference implementation (@anthropic-ai/sandbox-runtime, the npm
# package whose `srt` command this project replaces) into a scratch directory
# outside the repository, plus the host tools the benchmarks need.
#
#   bench/install-reference.sh            # install (idempotent)
#   SRT_BENCH_REFERENCE_DIR=/some/dir bench/install-reference.sh
#   SRT_BENCH_REFERENCE_VERSION=0.0.78 bench/install-reference.sh   # pin a version
#
# Prints the path of the reference `srt` executable on stdout (the last line);
# everything else goes to stderr.
set -euo pipefail

REF_DIR="${SRT_BENCH_REFERENCE_DIR:-$HOME/.cache/srt-bench/reference}"
# The version this project is a drop-in for (SPEC); npm's cached metadata
# has been seen to resolve an unpinned install to an older release.
VERSION="${SRT_BENCH_REFERENCE_VERSION:-0.0.83}"
PKG="@anthropic-ai/sandbox-runtime@$VERSION"

log() { printf 'install-reference: %s\n' "$*" >&2; }

# --- host tools --------------------------------------------------------------
# command name -> Debian package
declare -A TOOLS=([bwrap]=bubblewrap [socat]=socat [rg]=ripgrep [hyperfine]=hyperfine)
missing=()
for cmd in "${!TOOLS[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${TOOLS[$cmd]}")
done
if [ "${#missing[@]}" -gt 0 ]; then
    log "installing missing packages: ${missing[*]}"
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q "${missing[@]}" >&2
fi

# --- the reference package ---------------------------------------------------
if ! command -v npm >/dev/null 2>&1; then
    log "npm not found (install nodejs >= 20.11 and npm first)"
    exit 1
fi

# Refuse to install inside the repository: node_modules must not land in git.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REF_DIR="$(realpath -m "$REF_DIR")"
case "$REF_DIR/" in
    "$REPO_ROOT"/*)
        log "refusing to install into $REF_DIR: it is inside the repository $REPO_ROOT"
        exit 1 ;;
esac
mkdir -p "$REF_DIR"

SRT="$REF_DIR/node_modules/.bin/srt"
if [ -x "$SRT" ] && [ "$("$SRT" --version 2>/dev/null)" = "$VERSION" ]; then
    log "already installed: $("$SRT" --version) in $REF_DIR"
else
    log "npm install --prefix $REF_DIR $PKG"
    npm install --prefix "$REF_DIR" --no-audit --no-fund "$PKG" >&2
fi

if ! [ -x "$SRT" ]; then
    log "install finished but $SRT is missing"
    exit 1
fi
log "reference srt $("$SRT" --version)"
echo "$SRT"
