"""Issue 8, rules 7 and 9: allowUnixSockets admits exactly the sockets
identified at start, and everything srt writes from data that comes from
inside is escaped."""

import json
import os
import socket
import time

from e2e_util import PY, wait_until
from test_network import UnixEcho, violations, vpath

# Signals readiness, waits (bounded) for the host's go, then connects.
SWAP_CLIENT = r"""
import errno, os, socket, sys, time
target, ready, go = sys.argv[1:4]
swap = sys.argv[4:6]
open(ready, "w").close()
for _ in range(300):
    if os.path.exists(go):
        break
    time.sleep(0.05)
else:
    print("no-go"); sys.exit(3)
if swap:
    os.rename(swap[0], swap[1])
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
try:
    s.connect(target)
    s.sendall(b"hi")
    print(s.recv(100).decode())
except OSError as e:
    print(errno.errorcode.get(e.errno, str(e)))
"""


def _start_client(sb, settings, target, swap=(), vp=None):
    ready, go = sb.ws / "ready", sb.base / "go"
    opts = ["--violations", vp] if vp else []
    p = sb.popen([PY, "-c", SWAP_CLIENT, target, str(ready), str(go), *swap],
                 settings=settings, opts=opts)
    assert wait_until(lambda: ready.exists() or p.poll() is not None, timeout=20), "no start"
    assert p.poll() is None, p.communicate(timeout=5)
    return p, go


def _finish(p, go):
    go.touch()
    out, err = p.communicate(timeout=30)
    return p.returncode, out.decode(), err.decode()


def _unix_hosts(vp):
    return [v["host"] for v in violations(vp) if v.get("protocol") == "unix"]


def test_unix_socket_renamed_onto_listed_path_on_host_is_refused(sb):
    agent = UnixEcho(str(sb.base / "agent.sock"))
    other = UnixEcho(str(sb.base / "other.sock"))
    try:
        settings = {"network": {"allowUnixSockets": [agent.path]},
                    "filesystem": {"allowWrite": [str(sb.ws)]}}
        vp = vpath(sb)
        p, go = _start_client(sb, settings, agent.path, vp=vp)
        os.rename(other.path, agent.path)  # the host swaps after the start
        rc, out, err = _finish(p, go)
        assert rc == 0, (rc, out, err)
        assert out.strip() == "EACCES", (out, err)
        assert other.accepted == 0 and agent.accepted == 0
        assert _unix_hosts(vp) == [agent.path]
    finally:
        agent.close()
        other.close()


def test_unix_socket_renamed_onto_listed_path_from_inside_is_refused(sb):
    # the listed socket lies in a writable directory: the command renames a
    # forbidden socket of the same directory onto it, then connects
    agent = UnixEcho(str(sb.ws / "agent.sock"))
    other = UnixEcho(str(sb.ws / "other.sock"))
    try:
        settings = {"network": {"allowUnixSockets": [agent.path]},
                    "filesystem": {"allowWrite": [str(sb.ws)]}}
        vp = vpath(sb)
        p, go = _start_client(sb, settings, agent.path, swap=(other.path, agent.path), vp=vp)
        rc, out, err = _finish(p, go)
        assert rc == 0, (rc, out, err)
        assert out.strip() == "EACCES", (out, err)
        assert not os.path.exists(other.path)  # the rename did happen
        assert other.accepted == 0 and agent.accepted == 0
        assert _unix_hosts(vp) == [agent.path]
    finally:
        agent.close()
        other.close()


def test_unix_socket_missing_at_start_stays_refused(sb):
    late_path = str(sb.base / "late.sock")
    settings = {"network": {"allowUnixSockets": [late_path]},
                "filesystem": {"allowWrite": [str(sb.ws)]}}
    vp = vpath(sb)
    p, go = _start_client(sb, settings, late_path, vp=vp)
    late = UnixEcho(late_path)  # appears only after the start
    try:
        rc, out, err = _finish(p, go)
        assert rc == 0, (rc, out, err)
        assert out.strip() == "EACCES", (out, err)
        assert late.accepted == 0
        assert "refused for this run" in err, err
        assert _unix_hosts(vp) == [late_path]
    finally:
        late.close()


def test_unix_socket_listed_and_unchanged_still_connects(sb):
    agent = UnixEcho(str(sb.base / "agent.sock"))
    try:
        settings = {"network": {"allowUnixSockets": [agent.path]},
                    "filesystem": {"allowWrite": [str(sb.ws)]}}
        p, go = _start_client(sb, settings, agent.path)
        rc, out, err = _finish(p, go)
        assert (rc, out.strip()) == (0, "agent:hi"), (rc, out, err)
        assert agent.accepted == 1
    finally:
        agent.close()


# ---- rule 9: what comes from inside is escaped ---------------------------

EVIL = b"evil\x1b]52;c;aGk=\x07\xff\xfe\x9b\xe2\x80\xae.example"
# the HTTP proxy's parser takes only name bytes in an authority: it must
# refuse these names itself (400) before anything is recorded
HIGH = b"high\xff\xfe\x9b31m\xe2\x80\xae.example"

# A raw SOCKS5 CONNECT and an HTTP CONNECT naming EVIL; prints what the
# proxies answered (a refusal is expected: the name is not allowed).
EVIL_CLIENT = r"""
import socket, sys
name = bytes.fromhex(sys.argv[1])
out = []
s = socket.create_connection(("127.0.0.1", 1080), timeout=10)
s.sendall(b"\x05\x01\x00")
assert s.recv(2) == b"\x05\x00"
s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + b"\x01\xbb")
out.append("socks:%d" % s.recv(10)[1])
s.close()
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(b"CONNECT " + name + b":443 HTTP/1.1\r\nHost: " + name + b":443\r\n\r\n")
out.append("http:" + s.recv(100).split(b"\r\n")[0].decode("ascii", "replace"))
s.close()
high = bytes.fromhex(sys.argv[2])
s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
s.sendall(b"CONNECT " + high + b":443 HTTP/1.1\r\nHost: " + high + b":443\r\n\r\n")
out.append("high:" + s.recv(100).split(b"\r\n")[0].decode("ascii", "replace").replace(" ", "_"))
s.close()
print(" ".join(out))
"""


def _assert_terminal_safe(data):
    bad = sorted({b for b in data if (b < 0x20 and b not in (0x0a, 0x09)) or b >= 0x7f})
    assert not bad, (bad, data)


WANT = "evil\\x1b]52;c;aGk=\\x07\\xff\\xfe\\x9b\\xe2\\x80\\xae.example"


def _run_evil(sb):
    vp = vpath(sb)
    p = sb.popen([PY, "-c", EVIL_CLIENT, EVIL.hex(), HIGH.hex()], opts=["--violations", vp, "--debug"],
                 settings={"network": {"allowedDomains": ["allowed.example"]}})
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, (out, err)
    out = out.decode()
    assert out.startswith("socks:2 "), out  # refused by the ruleset
    # through the HTTP proxy: refused by the parser (only name bytes pass)
    assert "http:HTTP/1.1 400" in out and "high:HTTP/1.1_400" in out, out
    return err, open(vp, "rb").read()


def test_violation_records_are_utf8_json_naming_the_host_escaped(sb):
    _, raw = _run_evil(sb)
    lines = [l for l in raw.split(b"\n") if l.strip()]
    recs = [json.loads(l.decode("utf-8", "strict")) for l in lines]
    assert ("socks5", WANT) in {(v["protocol"], v["host"]) for v in recs}, recs
    assert not [v for v in recs if v["protocol"] in ("connect", "http")], recs
    _assert_terminal_safe(raw)


def test_stderr_summary_and_debug_escape_names_from_inside(sb):
    err, _ = _run_evil(sb)
    _assert_terminal_safe(err)
    assert b"blocked by the sandbox" in err, err
    assert WANT + ":443 (not in allowedDomains)" in err.decode("ascii"), err


def test_debug_output_escapes_paths_named_from_inside(sb):
    # a command names a repository with an escape sequence; a later run's
    # --debug (which lists the mount plan) must show it escaped
    settings = {"filesystem": {"allowWrite": [str(sb.ws)]}}
    name = b"sub\x1b]0;pwn\x07\xff\xe2\x80\xae"
    make = "import os, sys; os.makedirs(bytes.fromhex(sys.argv[1]) + b'/.git/hooks')"
    r = sb.run([PY, "-c", make, name.hex()], settings=settings)
    assert r.returncode == 0, r
    p = sb.popen(["true"], settings=settings, opts=["--debug"])
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, err
    _assert_terminal_safe(err)
    assert "sub\\x1b]0;pwn\\x07\\xff\\xe2\\x80\\xae/.git" in err.decode("ascii"), err
