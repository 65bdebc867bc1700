"""Red team: the spellings of the host's loopback a command inside can send
the proxies (absolute-form, CONNECT, SOCKS5 domain), against a real
loopback origin on the host.  The rule (SPEC section 5): an IP-literal entry
matches that address however it is written in a form every resolver reads
the same way (a trailing dot, the IPv4-mapped IPv6 form); the forms that
inet_aton reads as an address but inet_pton does not (127.1, 0x7f.0.0.1,
0177.0.0.1, 2130706433) are refused as ambiguous, whatever the policy; a
name-only policy reaches no literal; and what the policy decided on is the
address dialed (no lookup of a literal's text)."""
import os
import socket
import subprocess

import pytest

from e2e_util import PY
from test_network import (ipv6_loopback_works, json_lines, need, net, origin,  # noqa: F401
                          script, servers,  # noqa: F401
                          violations)

ATTACK = r"""
import socket, struct
P = %(port)d
def absform(h):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
    s.sendall(("GET http://%%s:%%d/hello HTTP/1.1\r\nHost: %%s:%%d\r\n"
               "Connection: close\r\n\r\n" %% (h, P, h, P)).encode())
    return recv_until_close(s)
def connect(h):
    s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
    s.sendall(("CONNECT %%s:%%d HTTP/1.1\r\nHost: %%s:%%d\r\n\r\n"
               %% (h, P, h, P)).encode())
    line, hdrs, rest = read_head(s)
    if not line or not line.startswith("HTTP/1.1 200"):
        return (line or "").encode()
    return rest + get_over(s, "x")["body"].encode()
def socks(h):
    s, code, _ = socks_connect(h, P, atyp=3)
    return get_over(s, "x")["body"].encode() if code == 0 else b"code %%r" %% code
for h in %(hosts)r:
    res = {}
    for f in (absform, connect, socks):
        try:
            d = f(h)
        except Exception as e:
            d = repr(e).encode()
        res[f.__name__] = b"hello from origin" in d
    out({"host": h, **res})
"""

AMBIGUOUS = ["127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "0x7f000001",
             "127.0.1", "127.000.000.001", "127.0.0.01", "0"]
SAME_V4 = ["127.0.0.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "[::ffff:7f00:1]",
           "[0:0:0:0:0:ffff:127.0.0.1]"]
NEVER = ["localhost", "localhost.", "LOCALHOST.", "localhost..", "[::1]",
         "[::127.0.0.1]", "[::ffff:0:7f00:1]", "[64:ff9b::7f00:1]",
         "0.0.0.0", "[::]", "127.0.0.2"]


def attack(sb, port, hosts, allowed):
    sc = script(sb, ATTACK % {"port": port, "hosts": hosts})
    r = sb.run([PY, sc], settings=net(allowed), timeout=120)
    assert r.returncode == 0, r
    res = {x.pop("host"): x for x in json_lines(r.stdout)}
    assert sorted(res) == sorted(hosts), r
    return res


def test_ipv4_literal_entry_covers_its_unambiguous_spellings_only(sb, origin):
    res = attack(sb, origin.port, SAME_V4 + AMBIGUOUS + NEVER,
                 ["127.0.0.1:%d" % origin.port])
    for h in SAME_V4:
        assert res[h] == {"absform": True, "connect": True, "socks": True}, (h, res[h])
    for h in AMBIGUOUS + NEVER:
        assert res[h] == {"absform": False, "connect": False, "socks": False}, (h, res[h])


def test_name_only_policy_reaches_no_loopback_spelling(sb, origin):
    res = attack(sb, origin.port, SAME_V4 + AMBIGUOUS + NEVER, ["example.com"])
    for h, r in res.items():
        assert r == {"absform": False, "connect": False, "socks": False}, (h, r)


def test_socks5_bracketed_ipv6_domain_is_the_literal(sb, servers):
    """SOCKS5 carries "[::1]" as a domain when a client puts the URL's host
    there as is: the policy reads it as the literal ::1, and the literal
    is what must be dialed (the old build looked "[::1]" up as a name:
    here it found nothing, and it answered host unreachable)."""
    if not ipv6_loopback_works():
        pytest.skip("IPv6 loopback is not available on this host")
    o6 = servers.origin(host="::1")
    res = attack(sb, o6.port, ["[::1]"], ["[::1]:%d" % o6.port])
    assert res["[::1]"] == {"absform": True, "connect": True, "socks": True}, res


SOCKS_ONLY = r"""
s, code, _ = socks_connect("[::1]", %d, atyp=3)
out({"code": code})
"""


def test_socks5_bracketed_ipv6_domain_is_never_looked_up(sb):
    """The same, where a lookup of the text "[::1]" finds an address
    (/etc/hosts here; a DNS search domain and a wildcard record do it
    too): the old build dialed 192.0.2.7, which the policy never allowed
    (no route in this network namespace: network unreachable); the literal
    ::1, where nothing listens, refuses the connection."""
    if sb.ident.name != "root":
        pytest.skip("needs a private mount and network namespace around srt "
                    "itself (a custom /etc/hosts); see test_guard_forms.py")
    need("unshare")
    need("ip")
    hosts = sb.base / "hosts"
    hosts.write_text("127.0.0.1 localhost\n192.0.2.7 [::1]\n")
    os.chmod(hosts, 0o644)
    port = 18079
    sc = script(sb, SOCKS_ONLY % port)
    vp = str(sb.base / "v.jsonl")
    inner = sb.argv([PY, sc], opts=["--violations", vp],
                    settings=net(["[::1]:%d" % port]))
    setup = ('ip link set lo up && mount --bind "$0" /etc/hosts && exec "$@"')
    argv = ["unshare", "-m", "-n", "--propagation", "private",
            "sh", "-c", setup, str(hosts)] + inner
    p = subprocess.run(sb.ident.wrap(argv, sb.env()), cwd=str(sb.ws),
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p
    assert json_lines(p.stdout) == [{"code": 5}], p  # connection refused
    assert violations(vp) == [], p
