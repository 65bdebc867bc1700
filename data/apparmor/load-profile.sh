#!/bin/sh
# meson install script: load srt's AppArmor profile ($1) where AppArmor is
# on.  Best effort: it says what it did and never fails the install.
profile=$1
say() { echo "srt AppArmor profile: $*"; }
if [ -n "${DESTDIR:-}" ]; then
	say "installed under DESTDIR, not loaded (on the target: sudo apparmor_parser -r $profile)"
	exit 0
fi
if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" != Y ]; then
	say "$profile installed; AppArmor is not enabled here, nothing to load"
	exit 0
fi
parser=$(command -v apparmor_parser 2>/dev/null)
for p in /usr/sbin/apparmor_parser /sbin/apparmor_parser; do
	[ -z "$parser" ] && [ -x "$p" ] && parser=$p
done
if [ -z "$parser" ]; then
	say "no apparmor_parser: install the apparmor package, then run sudo apparmor_parser -r $profile"
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	say "not root: run sudo $parser -r $profile"
	exit 0
fi
if "$parser" -r "$profile"; then
	say "loaded ($parser -r $profile)"
else
	say "WARNING: $parser -r $profile failed; srt is installed but Ubuntu's restriction on user namespaces still applies to it"
fi
exit 0
