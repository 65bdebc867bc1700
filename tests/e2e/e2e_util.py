"""Small helpers shared by the e2e test modules (imported as a module)."""

import collections
import os
import subprocess
import time

PY = "/usr/bin/python3"
DEFAULT_TIMEOUT = 30

Result = collections.namedtuple("Result", "returncode stdout stderr")


def wait_until(pred, timeout=5.0, interval=0.05):
    """Poll pred() until it is true or `timeout` seconds pass (bounded);
    return its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= end:
            return v
        time.sleep(interval)


def pgrep(pattern):
    """PIDs of host processes whose full command line matches pattern."""
    r = subprocess.run(["pgrep", "-f", pattern], capture_output=True,
                       text=True, timeout=10)
    return [int(x) for x in r.stdout.split()]


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # a zombie still answers kill(0); treat it as dead
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def read_until(fd, token, timeout, buf=b""):
    """Read from fd (non-blocking via select) until token appears in the
    accumulated output or timeout; return (found, output)."""
    import select
    end = time.monotonic() + timeout
    while token not in buf:
        left = end - time.monotonic()
        if left <= 0:
            return False, buf
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                return token in buf, buf
            if not d:
                return token in buf, buf
            buf += d
    return True, buf


def read_line(proc, timeout=15):
    """First line of proc's stdout (bytes, with the newline), waiting at
    most `timeout` seconds; b"" or a partial line on timeout/EOF."""
    _, buf = read_until(proc.stdout.fileno(), b"\n", timeout)
    return buf
