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
