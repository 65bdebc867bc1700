"""Issue 8, rule 8: an absolute-form request reaches the origin with a Host
equal to the target srt checked (RFC 9112 §3.2.2), whatever Host headers
the client sent, on fresh and on reused upstream connections.  Forwarding
the client's own Host let it reach a denied virtual host through an
allowed shared front."""

import json

from test_network import CURL_HTTP, net, origin, servers  # noqa: F401 (fixtures)

PY = "/usr/bin/python3"

# One client connection, several requests (the later ones may go out on a
# reused upstream connection); prints the Host each request arrived with.
CLIENT = r'''
import json, socket, sys
port = int(sys.argv[1])
hosts = sys.argv[2:]
s = socket.create_connection(("127.0.0.1", 3128), timeout=20)
f = s.makefile("rb")
for i, h in enumerate(hosts):
    extra = "".join("Host: %s\r\n" % x for x in h.split(",") if x)
    s.sendall(("GET http://127.0.0.1:%d/headers HTTP/1.1\r\n%s\r\n" % (port, extra)).encode())
    status = f.readline()
    length = 0
    while True:
        line = f.readline()
        if line in (b"\r\n", b""):
            break
        k, _, v = line.decode().partition(":")
        if k.lower() == "content-length":
            length = int(v)
    data = f.read(length) if length else b""
    code = status.split()[1].decode()
    got = [v for k, v in json.loads(data) if k.lower() == "host"] if code == "200" else []
    print(code, json.dumps(got))
    if code != "200":
        break  # srt closes after refusing
'''


def test_client_host_header_is_replaced_by_the_checked_target(sb, origin):
    want = "127.0.0.1:%d" % origin.port
    r = sb.run(CURL_HTTP + "-H 'Host: denied.example' http://%s/headers" % want,
               settings=net([want], ["denied.example"]))
    assert r.returncode == 0, r
    got = [v for k, v in json.loads(r.stdout) if k.lower() == "host"]
    assert got == [want], got


def test_every_request_on_a_kept_alive_connection_gets_the_target_host(sb, origin):
    want = "127.0.0.1:%d" % origin.port
    sb.mkfile("client.py", CLIENT)
    # no Host, two Host headers, odd spellings: each request, including the
    # ones sent over a reused upstream connection, carries exactly `want`
    cases = ["denied.example", "", "DENIED.EXAMPLE.:80",
             "127.0.0.1:%d" % origin.port, "a.example,denied.example"]
    r = sb.run([PY, "client.py", str(origin.port)] + cases,
               settings=net([want], ["denied.example", "*.example"]))
    assert r.returncode == 0, r
    lines = r.stdout.strip().split("\n")
    assert len(lines) == len(cases), r
    for line in lines[:-1]:
        status, hosts = line.split(" ", 1)
        assert status == "200", line
        assert json.loads(hosts) == [want], line
    # two Host headers: refused as malformed (RFC 9112 §3.2)
    assert lines[-1].split(" ", 1)[0] == "400", lines
