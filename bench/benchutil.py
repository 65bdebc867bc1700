"""Helpers shared by the bench/*.py scripts."""
import json
import os
import socket


def write_json(path, obj):
    """Write obj as JSON to path atomically (temporary file, then rename)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def first_line(text, limit=200):
    """The last non-empty line of a tool's output (usually the error), short."""
    lines = [l.strip() for l in (text or "").splitlines() if l.strip()]
    if not lines:
        return ""
    s = lines[-1]
    return s if len(s) <= limit else s[:limit] + "..."


def free_port():
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port
