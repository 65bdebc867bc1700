"""srt inside a real container engine: Debian's podman with runc, rootful,
the host's root as the container's (`--rootfs /:O`), `--network none`
(issue #9, item 7).  Command lines: README.md of this directory.

Three profiles, each as root and as the unprivileged user srt-ctr:

  default           podman's default seccomp profile.  User namespaces
                    work, a fresh /proc cannot be mounted (runc covers parts
                    of /proc): srt's nested mode.
  seccomp-nouserns  Docker-like seccomp profile: clone with namespace flags
                    and unshare EPERM, clone3 ENOSYS.
  maxuserns0        user.max_user_namespaces=0 (in a user namespace of the
                    container's own; the host's value is unchanged).

In the last two no user namespace can be created: srt's no-namespace mode
(Landlock, seccomp and srt's gates alone) runs there with the key, and the
same attacks fail, except the mandatory denies inside writable roots, which
that mode cannot hold and says so at every run; without the key srt fails
closed, naming the cause, the mode and the key.

All probes of a (profile, identity) pair run in one container (inside.py);
the tests below assert on its results.
"""

import json
import re

import pytest

from ctr_util import PROFILES, pairs, read_maxns

NESTED = ["default"]
NO_USERNS = ["seccomp-nouserns", "maxuserns0"]
# Profiles where srt runs commands with the key: all of them.
RUNS = NESTED + NO_USERNS
assert set(NESTED + NO_USERNS) == set(PROFILES)

KEY = "enableWeakerNestedSandbox"
# what the current binary names as the cause, per profile
CAUSE = {"seccomp-nouserns": ["CLONE_NEWUSER", "seccomp"],
         "maxuserns0": ["user.max_user_namespaces is 0"]}


# a write the sandbox refuses: EROFS from its read-only mounts (EACCES is
# what Landlock alone would give)
REFUSED_WRITE = ("Read-only file system", "Permission denied")


def refused_write(r):
    return r["rc"] != 0 and any(m in r["err"] for m in REFUSED_WRITE)


def ran(r):
    """The probe's command ran inside srt (it prints "ran" first)."""
    assert r["rc"] != 125 and r["out"].startswith("ran\n"), (
        "srt did not run the probe: %r" % r)
    return r["out"][len("ran\n"):]


def mode_line(r):
    """The values of srt --check's "mode: full|nested|none" lines."""
    return re.findall(r"^mode:\s*(\S+)", r["out"] + r["err"], re.M)


def probe_json(r):
    return json.loads(ran(r).strip().splitlines()[-1])


# ===================== the profiles are what they say ======================

@pytest.mark.parametrize("ctr", pairs(PROFILES), indirect=True)
def test_profile_setup(ctr):
    profile, identity, res = ctr
    uid = res["env_uid"]["out"].strip()
    assert (uid == "0") == (identity == "root"), res["env_uid"]
    # the user by `podman run --user`, but in maxuserns0 (whose driver must
    # be root to make the user namespace) by setpriv
    assert res["env_switch"] == ("setpriv" if identity == "user" and
                                 profile == "maxuserns0" else "none"), res
    userns = res["env_userns"]
    if profile in NESTED:
        assert userns["rc"] == 0, userns
    else:
        assert userns["rc"] != 0, userns
    maxns = res["env_max_user_namespaces"]
    assert (maxns == "0") == (profile == "maxuserns0"), maxns
    assert res["setup_git_init"]["rc"] == 0, res["setup_git_init"]


def test_host_max_user_namespaces_unchanged(containers, host_maxns):
    for identity in ("root", "user"):
        res = containers.results("maxuserns0", identity)
        assert "_error" not in res, res["_error"]
        assert res["env_max_user_namespaces"] == "0"
    assert read_maxns() == host_maxns


# ===================== nested mode: podman's default profile ===============

@pytest.mark.parametrize("ctr", pairs(NESTED), indirect=True)
def test_nested_without_key_fails_closed(ctr):
    r = ctr[2]["nokey_echo"]
    assert r["rc"] == 125, r
    assert r["out"] == "", r
    assert KEY in r["err"], r


@pytest.mark.parametrize("ctr", pairs(NESTED), indirect=True)
def test_nested_with_key_runs_the_command(ctr):
    r = ctr[2]["key_echo"]
    assert r["rc"] == 0, r
    assert r["out"] == "hi\n", r


@pytest.mark.parametrize("ctr", pairs(NESTED), indirect=True)
def test_check_says_nested_with_key(ctr):
    r = ctr[2]["check_key"]
    assert mode_line(r) == ["nested"], r
    assert r["rc"] == 0, r


@pytest.mark.parametrize("ctr", pairs(NESTED), indirect=True)
def test_check_without_key_names_the_key(ctr):
    # the mode that works here, and that it needs the key
    r = ctr[2]["check_nokey"]
    assert mode_line(r) == ["nested"], r
    assert KEY in r["out"] + r["err"], r


# ===================== no user namespace: the no-namespace mode ============

@pytest.mark.parametrize("ctr", pairs(NO_USERNS), indirect=True)
def test_no_userns_without_key_fails_closed_naming_the_cause(ctr):
    profile, _, res = ctr
    r = res["nokey_echo"]
    assert r["rc"] == 125, r
    assert r["out"] == "", r
    assert r["err"].startswith("srt: "), r
    for word in CAUSE[profile] + ["no-namespace mode", KEY]:
        assert word in r["err"], (word, r)


@pytest.mark.parametrize("ctr", pairs(NO_USERNS), indirect=True)
def test_no_userns_with_key_runs_and_says_what_it_does_not_hold(ctr):
    r = ctr[2]["key_echo"]
    assert r["rc"] == 0, r
    assert r["out"] == "hi\n", r
    assert "no-namespace mode" in r["err"], r
    assert "mandatory denies inside writable roots" in r["err"], r


@pytest.mark.parametrize("ctr", pairs(NO_USERNS), indirect=True)
@pytest.mark.parametrize("which", ["check_key", "check_nokey"])
def test_no_userns_check_says_no_namespace_mode(ctr, which):
    profile, _, res = ctr
    r = res[which]
    assert r["rc"] == 0, r
    for word in CAUSE[profile]:
        assert word in r["out"] + r["err"], (word, r)
    assert mode_line(r) == ["no-namespace"], r
    assert re.search(r"^  mandatory denies +weaker ", r["out"], re.M), r


# ===================== attacks of the e2e suite, with the key ==============

@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
@pytest.mark.parametrize("where", ["write_etc", "write_home", "write_parent"])
def test_write_outside_allow_write_fails(ctr, where):
    r = ctr[2][where]
    ran(r)
    assert refused_write(r), r
    assert not r["exists"], r


# the no-namespace mode cannot hold these (Landlock's rights cover all
# beneath a writable root): it says so at every run (tested above)
@pytest.mark.parametrize("ctr", pairs(NESTED), indirect=True)
def test_protected_paths_in_the_workspace(ctr):
    res = ctr[2]
    b = res["write_bashrc"]
    ran(b)
    assert refused_write(b), b
    assert b["content"] == "original\n", b
    h = res["write_hook"]
    ran(h)
    assert refused_write(h), h
    assert not h["exists"], h


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_deny_read(ctr):
    r = ctr[2]["read_denied"]
    out = ran(r)
    assert r["rc"] != 0, r
    assert "SRT-CTR-SECRET" not in out + r["err"], r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_direct_tcp_to_a_container_loopback_server_fails(ctr):
    r = ctr[2]["tcp_direct"]
    assert ran(r).startswith("ERR"), r
    assert r["accepted"] == 0, r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_udp_to_a_container_loopback_socket_is_not_received(ctr):
    r = ctr[2]["udp"]
    ran(r)
    assert r["rc"] == 0, r
    assert r["received"] == 0, r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_dns_does_not_work(ctr):
    r = ctr[2]["dns"]
    res = probe_json(r)
    assert res["gai"] == "gaierror", res
    # the container's nameserver cannot even be sent a datagram: no route
    # (the sandbox's network namespace), or no UDP socket at all (the
    # no-namespace mode)
    assert res.get("udp", "OSError:101") in ("OSError:101", "PermissionError:1"), res


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_chmod_outside_allow_write_fails(ctr):
    r = ctr[2]["chmod_outside"]
    ran(r)
    assert r["rc"] != 0, r
    assert r["mode"] == oct(0o600), r


@pytest.mark.parametrize("ctr", pairs(NO_USERNS), indirect=True)
def test_no_tcp_listener_in_the_no_namespace_mode(ctr):
    # without a network namespace a listener would be on the container's
    # own network (reachable from outside with a network)
    r = ctr[2]["listen_tcp"]
    assert ran(r).strip() == "ERR 1", r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_container_unix_socket_unreachable(ctr):
    r = ctr[2]["unix"]
    assert ran(r).strip() == "ERR EPERM", r
    assert not r["accepted"], r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_vsock_socket_refused(ctr):
    res = ctr[2]
    r = res["vsock"]
    assert ran(r).strip().startswith("ERR"), (r, "outside srt:", res["env_vsock"])


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
@pytest.mark.parametrize("which", ["proxy_denied_name", "proxy_denied_port"])
def test_proxy_refuses_what_allowed_domains_does_not_list(ctr, which):
    r = ctr[2][which]
    out = ran(r)
    assert out.startswith("HTTP/1.1 403"), r
    assert "X-Proxy-Error: blocked-by-sandbox" in out, r
    assert "not in allowedDomains" in r["err"], r
    assert r.get("accepted", 0) == 0, r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_files_of_outside_processes_stay_closed(ctr):
    # nested mode uses the container's /proc: the command sees the
    # container's processes, but not into them (here: the driver, which
    # can read the denyRead secret)
    res = probe_json(ctr[2]["proc_outside"])
    for k, v in res.items():
        if k != "visible":
            assert v.startswith("ERR"), (k, res)


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_proc_files_of_outside_processes_cannot_be_written(ctr):
    # nested mode: the read-only /proc refuses it even where Landlock, with
    # allowNestedUserNamespaces, would not; no-namespace mode: Landlock
    r = ctr[2]["proc_write_outside"]
    ran(r)
    assert r["rc"] != 0, r
    assert r["after"] == r["before"], r


# ===================== legitimate work, with the key =======================

@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
def test_git_init_and_commit_in_the_workspace(ctr):
    r = ctr[2]["git"]
    assert r["rc"] == 0, r
    assert r["out"] == "first commit\n", r
    assert r["log"]["out"] == "first commit\n", r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
@pytest.mark.parametrize("which", ["curl_http_proxy", "curl_socks_proxy"])
def test_curl_through_the_proxy_to_an_allowed_origin(ctr, which):
    r = ctr[2][which]
    assert r["rc"] == 0, r
    assert r["out"] == "hello from origin\n", r
    assert r["hits"] == ["/hello"], r


@pytest.mark.parametrize("ctr", pairs(RUNS), indirect=True)
@pytest.mark.parametrize("which", ["python", "node"])
def test_interpreters_run(ctr, which):
    r = ctr[2][which]
    assert r["rc"] == 0, r
    assert r["out"] == "42\n", r
