"""The C library through its public header: an embedding program (tests/lib/
libapi.c, linked against the shared libsrt) spawns a sandbox with its own
stdio pipes, receives a violation event, replaces the network policy while
the command runs, and waits.  Also: the pkg-config file is generated."""
import http.server
import os
import pathlib
import threading

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("SRT_BIN") or REPO / "build" / "srt").parent
LIBAPI = BUILD / "tests" / "libapi"


class _Quiet(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: srt may reuse its connections

    def log_message(self, *a):
        pass

    def setup(self):
        super().setup()
        self.server.conns += 1


@pytest.fixture
def origin():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Quiet)
    srv.daemon_threads = True
    srv.conns = 0
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_library_update_network_while_running(sb, origin):
    if not LIBAPI.exists():
        pytest.skip("tests/lib/libapi not built next to %s" % BUILD)
    r = sb.host([str(LIBAPI), str(origin.server_address[1])], check=False, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "libapi: ok" in r.stdout
    # three allowed requests: the second reused the first one's upstream
    # connection; the third came after a policy update, which drops every
    # idle connection, so it needed a new one
    assert origin.conns == 2


def test_pkg_config_file_is_generated():
    pc = BUILD / "meson-private" / "srt.pc"
    if not pc.exists():
        pytest.skip("not a meson build directory: %s" % BUILD)
    text = pc.read_text()
    assert "Name: srt" in text
    assert "-lsrt" in text
