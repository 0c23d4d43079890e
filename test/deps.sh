#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages that are missing, and says which. Needs root (or sudo) only when
# something is missing.
missing=""
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "make deps: installing missing Debian packages:$missing"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO=sudo
$SUDO apt-get update -qq >/dev/null || true
# Server packages (haproxy, nginx) must not start system-wide daemons on install: the tests start
# their own on free loopback ports.
policy=""
if [ ! -e /usr/sbin/policy-rc.d ] && [ "$(id -u)" -eq 0 ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && policy=1
fi
# Names differ across releases (Ubuntu has no linux-perf): install what the archive has, and say
# what it does not; the tests that need a missing tool skip with their reason.
avail=""
for p in $missing; do
    if apt-cache policy "$p" 2>/dev/null | grep -q 'Candidate: [^(]'; then
        avail="$avail $p"
    else
        echo "make deps: $p is not in this system's archive; skipping it" >&2
    fi
done
missing=$avail
[ -z "$missing" ] && { [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d; exit 0; }
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null \
    || { [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d; echo "make deps: apt-get install failed for:$missing" >&2; exit 1; }
[ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
echo "make deps: installed:$missing"
