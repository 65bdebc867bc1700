"""The resolved-address guard against the IPv6 forms that carry an IPv4
address: an allowed name whose /etc/hosts entry is such a form is refused
by the class of the IPv4 address it leads to (loopback, cloud metadata),
or by a deniedResolvedAddresses IPv6 entry covering the form itself.

srt resolves names on the host side, so the custom /etc/hosts has to be
bind-mounted around srt: root only (see test_network.py's
test_resolved_address_guard_loopback).  srt also runs in a fresh network
namespace whose only routes are on loopback, so that an address the guard
wrongly admits fails to dial (ENETUNREACH, a 502) instead of leaving the
machine."""
import os
import subprocess

import pytest

from e2e_util import PY
from test_network import json_lines, net, script, need, violations

# name -> (address in /etc/hosts, expected refusal reason substring or None)
FORMS = {
    "lu96.test": ("64:ff9b:1::7f00:1", "loopback"),           # RFC 8215, /96
    "lu48.test": ("64:ff9b:1:a9fe:a9:fe00::", "metadata"),    # RFC 8215, /48
    "sixtofour.test": ("2002:7f00:1::1", "loopback"),         # 6to4
    "siit.test": ("::ffff:0:a9fe:a9fe", "metadata"),          # IPv4-translated
    "listed.test": ("64:ff9b::808:909", "deniedResolvedAddresses"),
    "plain.test": ("64:ff9b:1::808:808", None),               # admitted
}

CMD = r"""
for name in %(names)r:
    r = http_get("http://%%s:80/x" %% name)
    out({"name": name, "status": r["status"],
         "hdr": r["headers"].get("x-proxy-error")})
"""


def test_guard_embedded_ipv4_forms(sb):
    if sb.ident.name != "root":
        pytest.skip("needs a private mount and network namespace around srt "
                    "itself (a custom /etc/hosts); see "
                    "test_resolved_address_guard_loopback")
    need("unshare")
    need("ip")
    hosts = sb.base / "hosts"
    hosts.write_text("127.0.0.1 localhost\n" + "".join(
        "%s %s\n" % (a, n) for n, (a, _) in FORMS.items()))
    os.chmod(hosts, 0o644)
    names = sorted(FORMS)
    sc = script(sb, CMD % {"names": names})
    vp = str(sb.base / "v.jsonl")
    inner = sb.argv([PY, sc], opts=["--violations", vp],
                    settings=net(["%s:80" % n for n in names],
                                 deniedResolvedAddresses=["64:ff9b::808:909/128"]))
    # 2001:db8::1 on lo: an IPv6 address, so that getaddrinfo's
    # AI_ADDRCONFIG returns the IPv6 /etc/hosts entries at all
    setup = ('ip link set lo up && ip addr add 2001:db8::1/128 dev lo && '
             'mount --bind "$0" /etc/hosts && exec "$@"')
    argv = ["unshare", "-m", "-n", "--propagation", "private",
            "sh", "-c", setup, str(hosts)] + inner
    p = subprocess.run(sb.ident.wrap(argv, sb.env()), cwd=str(sb.ws),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p
    res = {r["name"]: r for r in json_lines(p.stdout)}
    assert sorted(res) == names, p
    recs = {v.get("host"): v for v in violations(vp)}
    for name, (addr, why) in FORMS.items():
        if why is None:
            # admitted by the guard; the dial then fails (no route)
            assert res[name]["status"] == 502, (name, res[name], p.stderr)
            assert name not in recs, recs[name]
            continue
        assert res[name]["status"] == 403, (name, addr, res[name], p.stderr)
        assert res[name]["hdr"] == "blocked-by-sandbox", res[name]
        assert name in recs, (name, recs)
        assert recs[name]["rule"] == "resolved-address guard", recs[name]
        assert why in recs[name]["reason"], (name, recs[name])
