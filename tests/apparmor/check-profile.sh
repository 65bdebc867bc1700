#!/bin/sh
# check-profile.sh PROFILE SRT_PATH - the generated AppArmor profile names
# the installed srt, and apparmor_parser compiles it without loading it
# (-Q: skip the kernel load, -K -T: no cache), for a kernel with the
# features of the profile's ABI (abi/4.0: Ubuntu 24.04's), with a rule the
# kernel would not enforce an error.  The parser is
# $APPARMOR_PARSER, or apparmor_parser on PATH or in /sbin, /usr/sbin; its
# includes (abi/4.0, tunables/global) come from $APPARMOR_BASE, default
# /etc/apparmor.d.  Skips (77) without a parser, or with one older than 4.0,
# which has no `userns` rule (Debian 12 ships 3.0.8).
set -u
profile=$1
srt=$2
grep -qxF "profile srt \"$srt\" flags=(unconfined) {" "$profile" ||
	{ echo "FAIL: $profile does not attach to $srt"; exit 1; }
grep -qx '  userns,' "$profile" || { echo "FAIL: no userns rule in $profile"; exit 1; }

parser=${APPARMOR_PARSER:-$(command -v apparmor_parser 2>/dev/null)}
for p in /usr/sbin/apparmor_parser /sbin/apparmor_parser; do
	[ -z "$parser" ] && [ -x "$p" ] && parser=$p
done
if [ -z "$parser" ]; then
	echo "SKIP: no apparmor_parser (the attachment and the userns rule were checked)"
	exit 77
fi
version=$("$parser" --version 2>/dev/null | sed -n '1s/.* version \([0-9][0-9.]*\).*/\1/p')
case "$version" in
	[0-3].*|'')
		echo "SKIP: $parser is version ${version:-unknown}; the profile needs >= 4.0 (abi 4.0, the userns rule)"
		exit 77 ;;
esac
base=${APPARMOR_BASE:-/etc/apparmor.d}
echo "$parser $version, includes from $base"
"$parser" -Q -K -T --base "$base" --kernel-features "$base/abi/4.0" \
	--Werror=rule-not-enforced "$profile" || { echo "FAIL: $parser rejects $profile"; exit 1; }
# and what it compiled is the profile srt, with its rule
out=$("$parser" -p --base "$base" "$profile") || exit 1
echo "$out" | grep -q 'profile srt "'"$srt"'" flags=(unconfined)' &&
	echo "$out" | grep -qx '  userns,' ||
	{ echo "FAIL: the preprocessed profile lacks the attachment or the rule:"; echo "$out"; exit 1; }
echo "ok: $parser compiled $profile"
