#!/usr/bin/env bash
# Run every benchmark: start-up, then network.  Extra arguments go to both
# scripts only when given per script:
#   bench/run-all.sh
#   STARTUP_ARGS="--rounds 5" NETWORK_ARGS="--sections throughput,rate" bench/run-all.sh
# Builds build/srt first when it is missing.  Markdown on stdout, progress on
# stderr, JSON in bench/results/{startup,network}.json.  Exits non-zero only
# when a script could not run at all.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
if [ ! -x build/srt ] || [ ! -f build/libsrt_static.a ]; then
    [ -d build ] || meson setup build >&2
    ninja -C build >&2
fi
rc=0
# shellcheck disable=SC2086
"$PY" bench/startup.py ${STARTUP_ARGS:-} || rc=$?
echo
# shellcheck disable=SC2086
"$PY" bench/network.py ${NETWORK_ARGS:-} || rc=$?
exit "$rc"
