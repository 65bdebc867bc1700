"""Command line: options, exit status, argument/stdio passthrough, settings
errors (SPEC §2, §3)."""

import hashlib
import json
import os
import re
import shutil

import pytest

from e2e_util import PY
from conftest import gate_on

WRITE_WS = {"filesystem": {"allowWrite": ["."]}}


# -- informational options ------------------------------------------------

def test_help(sb):
    for flag in ("--help", "-h"):
        r = sb.run([flag], raw=True)
        assert r.returncode == 0, r
        assert "usage" in r.stdout.lower()
        assert "--settings" in r.stdout


def test_version(sb):
    r = sb.run(["--version"], raw=True)
    assert r.returncode == 0, r
    assert re.search(r"\bsrt\b.*\d+\.\d+\.\d+", r.stdout), r.stdout


def test_proxy_subcommand_says_not_built(sb):
    """`srt proxy` is the reference's subcommand: srt says it is not built
    (it needs TLS termination) instead of running a program named proxy;
    `srt -- proxy` still runs one."""
    r = sb.run(["proxy", "--listen", "127.0.0.1:0"], raw=True)
    assert r.returncode == 125, r
    assert "not built yet" in r.stderr, r.stderr
    r = sb.run(["--", "proxy"], raw=True)
    assert r.returncode == 127, r


def test_check(sb):
    r = sb.run(["--check"], raw=True, timeout=60)
    assert r.returncode == 0, r
    out = (r.stdout + r.stderr).lower()
    for feature in ("user namespace", "seccomp", "landlock", "network namespace",
                    "new /proc", "seccomp notify"):
        assert feature in out, "--check does not mention %s:\n%s" % (feature, out)
    # on this host (no container runtime around it) the full mode is used,
    # and every property is enforced by it
    assert "\nmode: full\n" in r.stdout, r.stdout
    for prop in ("filesystem writes", "filesystem reads", "mandatory denies", "network",
                 "unix sockets", "process visibility", "signals"):
        assert re.search(r"^  %s +enforced " % re.escape(prop), r.stdout, re.M), \
            "property %s not reported as enforced:\n%s" % (prop, r.stdout)
    assert "a sandbox started in full mode" in r.stdout


def test_print_policy_does_not_run(sb):
    marker = sb.ws / "marker"
    r = sb.run(["--settings", sb.write_settings(WRITE_WS), "--print-policy",
                "--", "sh", "-c", "echo RAN-MARKER; touch marker"], raw=True)
    assert r.returncode == 0, r
    assert "RAN-MARKER" not in r.stdout
    assert not marker.exists()
    # the resolved writable root is shown
    assert str(sb.ws) in r.stdout
    # print-policy changes nothing on the host (no stand-ins are created)
    assert sorted(os.listdir(sb.ws)) == []


def test_unknown_option(sb):
    r = sb.run(["--no-such-option", "true"], raw=True)
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: ")


# -- exit status ----------------------------------------------------------

@pytest.mark.parametrize("cmd,code", [
    (["true"], 0),
    (["sh", "-c", "exit 3"], 3),
    (["sh", "-c", "exit 255"], 255),
    (["sh", "-c", "kill -9 $$"], 128 + 9),
    (["sh", "-c", "kill -15 $$"], 128 + 15),
])
def test_exit_status(sb, cmd, code):
    r = sb.run(cmd)
    assert r.returncode == code, r


def test_exit_not_found(sb):
    r = sb.run(["srt-e2e-no-such-command", "x"])
    assert r.returncode == 127, r
    assert r.stderr.startswith("srt: ")
    assert "srt-e2e-no-such-command" in r.stderr
    assert "not found" in r.stderr


def test_exit_not_executable(sb):
    sb.mkfile("script.sh", "#!/bin/sh\necho RAN-MARKER\n")
    os.chmod(sb.ws / "script.sh", 0o644)
    r = sb.run(["./script.sh"])
    assert r.returncode == 126, r
    assert r.stderr.startswith("srt: ")
    assert "RAN-MARKER" not in r.stdout


def test_exit_directory_not_executable(sb):
    r = sb.run(["/etc"])
    assert r.returncode == 126, r
    assert r.stderr.startswith("srt: ")


# -- shell-string forms and argv passthrough ------------------------------

def test_dash_c_shell_string(sb):
    r = sb.run(["-c", "echo $((1+2)) | tr 3 x; echo \"$0\""], raw=True)
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[0] == "x"


def test_single_string_with_spaces_is_shell(sb):
    r = sb.run(["echo a   b; echo c | tr c d"], raw=True)
    assert r.returncode == 0, r
    assert r.stdout == "a b\nd\n"


def test_dash_c_exit_status(sb):
    r = sb.run("exit 42")
    assert r.returncode == 42, r


def test_arguments_passed_intact(sb):
    args = ["a b", "  lead", "trail  ", '"dq"', "it's", "", "$HOME", "*",
            "`id`", "x\ny", "\\", "-c", "--", "--settings", "ünï"]
    r = sb.run([PY, "-c", "import sys,json; print(json.dumps(sys.argv[1:]))"]
               + args)
    assert r.returncode == 0, r
    assert json.loads(r.stdout) == args


def test_options_after_command_belong_to_command(sb):
    r = sb.run(["echo", "--debug", "--settings", "x"])
    assert r.returncode == 0, r
    assert r.stdout == "--debug --settings x\n"


def test_cwd_and_env_preserved(sb):
    r = sb.run(["sh", "-c", 'pwd; echo "$SRT_E2E_VAR"'],
               env={"SRT_E2E_VAR": "va lue"})
    assert r.returncode == 0, r
    assert r.stdout.splitlines() == [str(sb.ws), "va lue"]


def test_stdio_passthrough_50mb(sb):
    data = os.urandom(50 * 1024 * 1024)
    digest = hashlib.sha256(data).hexdigest()
    r = sb.run(["cat"], input=data, timeout=60)
    assert r.returncode == 0, r.stderr
    assert len(r.stdout) == len(data)
    assert hashlib.sha256(r.stdout).hexdigest() == digest
    # and the command really reads our stdin
    r = sb.run(["sha256sum"], input=data, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split()[0].decode() == digest


def test_stderr_is_separate(sb):
    r = sb.run("echo out; echo err >&2")
    assert r.returncode == 0, r
    assert r.stdout == "out\n"
    assert "err\n" in r.stderr


# -- settings -------------------------------------------------------------

BAD_SETTINGS = {
    "empty": ("", None),
    "whitespace": ("  \n\n", None),
    "not_json": ('{\n "filesystem": {,}\n}\n', r":2:17:"),
    "trailing_garbage": ('{"filesystem": {}} x\n', r":1:\d+:"),
    "not_object": ("[1, 2]\n", None),
    "unknown_key": ('{"foo": 1}\n', r"\bfoo\b"),
    "unknown_nested_key": ('{"filesystem": {"allowWrites": ["."]}}\n',
                           r"allowWrites"),
    "wrong_type": ('{"filesystem": {"allowWrite": "."}}\n',
                   r"filesystem\.allowWrite"),
    "wrong_type_bool": ('{"network": {"allowLocalBinding": "yes"}}\n',
                        r"allowLocalBinding"),
    "domain_empty_label": ('{"network": {"allowedDomains": ["foo..com"]}}\n',
                           r"allowedDomains"),
    "domain_star_middle": ('{"network": {"allowedDomains": ["a.*.com"]}}\n',
                           r"allowedDomains"),
    "domain_ipv6_unbracketed_port": (
        '{"network": {"allowedDomains": ["::1:8080"]}}\n', r"allowedDomains"),
    "depth_0": ('{"mandatoryDenySearchDepth": 0}\n',
                r"mandatoryDenySearchDepth"),
    "depth_11": ('{"mandatoryDenySearchDepth": 11}\n',
                 r"mandatoryDenySearchDepth"),
    "port_range": ('{"network": {"httpProxyPort": 70000}}\n',
                   r"httpProxyPort"),
}


@pytest.mark.parametrize("name", sorted(BAD_SETTINGS))
def test_bad_settings_rejected(sb, name):
    content, pattern = BAD_SETTINGS[name]
    path = sb.write_settings(content)
    r = sb.run(["--settings", path, "--", "sh", "-c",
                "echo RAN-MARKER; touch %s/marker" % sb.ws], raw=True)
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: "), r.stderr
    assert path in r.stderr, "error does not name the file: %r" % r.stderr
    if pattern:
        assert re.search(pattern, r.stderr), r.stderr
    assert "RAN-MARKER" not in r.stdout
    assert not (sb.ws / "marker").exists()


def test_settings_not_json_reports_line_and_column(sb):
    path = sb.write_settings('{\n  "filesystem": {\n    "allowWrite": [".",]\n'
                             '  }\n}\n')
    r = sb.run(["--settings", path, "true"], raw=True)
    assert r.returncode == 125, r
    assert re.search(re.escape(path) + r":3:\d+:", r.stderr), r.stderr


def test_settings_file_missing_explicit(sb):
    path = str(sb.base / "does-not-exist.json")
    r = sb.run(["--settings", path, "--", "echo", "RAN-MARKER"], raw=True)
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: ") and path in r.stderr
    assert "RAN-MARKER" not in r.stdout


def test_settings_file_is_directory(sb):
    path = str(sb.base)
    r = sb.run(["--settings", path, "--", "echo", "RAN-MARKER"], raw=True)
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: ")
    assert "RAN-MARKER" not in r.stdout


def test_settings_file_unreadable(sb):
    if sb.uid == 0:
        pytest.skip("root reads any file; unreadable needs an unprivileged user")
    path = sb.write_settings(WRITE_WS)
    os.chmod(path, 0o000)
    r = sb.run(["--settings", path, "--", "echo", "RAN-MARKER"], raw=True)
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: ") and path in r.stderr
    assert "RAN-MARKER" not in r.stdout


def test_broken_default_settings_file(sb):
    """A broken ~/.srt-settings.json is an error, never a fallback."""
    p = sb.home / ".srt-settings.json"
    p.write_text("{ not json")
    sb.ident.chown(str(p))
    r = sb.run(["echo", "RAN-MARKER"])
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: ") and str(p) in r.stderr
    assert "RAN-MARKER" not in r.stdout


def test_missing_default_settings_uses_defaults(sb):
    assert not (sb.home / ".srt-settings.json").exists()
    r = sb.run('echo ok > "$TMPDIR/f" && cat "$TMPDIR/f"; '
               'echo x > ws-file; echo "rc=$?"; '
               'cat /etc/hostname >/dev/null && echo read-ok')
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert lines[0] == "ok"                     # private TMPDIR writable
    assert lines[1] != "rc=0"                   # nothing else writable
    assert "Read-only file system" in r.stderr
    assert lines[2] == "read-ok"                # reads allowed
    assert not (sb.ws / "ws-file").exists()


def test_default_settings_file_is_used(sb):
    p = sb.home / ".srt-settings.json"
    p.write_text(json.dumps({"filesystem": {"allowWrite": [str(sb.ws)]}}))
    sb.ident.chown(str(p))
    r = sb.run("echo hello > f")
    assert r.returncode == 0, r
    assert (sb.ws / "f").read_text() == "hello\n"


def test_settings_relative_and_tilde_paths(sb):
    sb.mkdir("sub")
    tilde = sb.mkdir("srt-e2e-tilde", base=sb.home)
    try:
        r = sb.run('echo a > sub/a && echo b > "$HOME/srt-e2e-tilde/b" && '
                   'echo c > c',
                   settings={"filesystem": {"allowWrite": [
                       "./sub", "~/srt-e2e-tilde"]}})
        assert r.returncode != 0
        assert (sb.ws / "sub" / "a").read_text() == "a\n", r
        assert (tilde / "b").read_text() == "b\n", r
        assert "Read-only file system" in r.stderr
        assert not (sb.ws / "c").exists()
    finally:
        shutil.rmtree(tilde, ignore_errors=True)


def test_debug_flag(sb):
    r = sb.run(["true"], opts=["--debug"], settings=WRITE_WS)
    assert r.returncode == 0, r
    assert r.stderr.strip(), "--debug printed nothing"
    r2 = sb.run(["true"], settings=WRITE_WS, env={"SRT_DEBUG": "1"})
    assert r2.returncode == 0, r2
    assert r2.stderr.strip(), "SRT_DEBUG=1 printed nothing"


@pytest.mark.parametrize("args,needle", [
    ([], "no command"),
    (["--"], "no command"),
    (["--settings"], "--settings"),
    (["-c"], "-c"),
    (["--debug"], "no command"),
])
def test_usage_errors(sb, args, needle):
    r = sb.run(args, raw=True)
    assert r.returncode == 125, r
    assert r.stderr.startswith("srt: "), r.stderr
    # the message is clean text and names what is wrong (for a missing
    # argument: the option)
    assert not re.search(r"[\x00-\x08\x0b-\x1f]", r.stderr), repr(r.stderr)
    assert needle in r.stderr, r.stderr


# The reference README's "Complete Configuration Example" (0.0.83), as it
# stands there: a drop-in must take it (issue #10).
REFERENCE_COMPLETE_EXAMPLE = """{
  "network": {
    "allowedDomains": ["github.com", "*.github.com", "lfs.github.com",
                       "api.github.com", "npmjs.org", "*.npmjs.org"],
    "deniedDomains": ["malicious.com"],
    "allowUnixSockets": ["/var/run/docker.sock"],
    "allowLocalBinding": false
  },
  "filesystem": {
    "denyRead": ["~/.ssh"],
    "allowRead": [],
    "allowWrite": [".", "src/", "test/", "/tmp"],
    "denyWrite": [".env", "config/production.json"]
  },
  "ignoreViolations": {
    "*": ["/usr/bin", "/System"],
    "git push": ["/usr/bin/nc"],
    "npm": ["/private/tmp"]
  },
  "enableWeakerNestedSandbox": false,
  "allowNestedUserNamespaces": false,
  "enableWeakerNetworkIsolation": false,
  "allowAppleEvents": false
}
"""


def test_reference_complete_example_runs(sb):
    r = sb.run("echo RAN; echo x > written && cat written", settings=REFERENCE_COMPLETE_EXAMPLE)
    assert r.returncode == 0, r
    assert r.stdout == "RAN\nx\n", r
    # the macOS-only keys are named, once each, as ignored
    assert r.stderr.count("enableWeakerNetworkIsolation: ignored") == 1, r.stderr
    assert r.stderr.count("allowAppleEvents: ignored") == 1, r.stderr


def test_reference_security_keys_not_built_are_refused(sb):
    r = sb.run("echo RAN", settings={"credentials": {"envVars": [{"name": "TOKEN", "mode": "mask"}]}})
    assert r.returncode == 125, r
    assert "RAN" not in r.stdout
    assert "credentials: not supported yet" in r.stderr, r.stderr


def test_typo_names_the_closest_key(sb):
    r = sb.run("echo RAN", settings={"network": {"allowedDomain": ["example.com"]}})
    assert r.returncode == 125, r
    assert 'did you mean "allowedDomains"?' in r.stderr, r.stderr


def test_short_options(sb):
    s = sb.write_settings({"filesystem": {"allowWrite": ["."]}})
    r = sb.run(["-d", "-s", s, "--", "sh", "-c", "echo x > f && cat f"], raw=True)
    assert r.returncode == 0 and r.stdout == "x\n", r
    assert "settings: " + s in r.stderr, r.stderr
    v = sb.run(["-V"], raw=True)
    assert v.returncode == 0 and re.search(r"\bsrt\b.*\d+\.\d+\.\d+", v.stdout), v


def test_print_policy_lists_as_stand_ins_only_what_is_missing(sb):
    """An existing protected file is protected as it is: listed as
    read-only, not among the stand-ins the run creates (issue #10 item 5)."""
    (sb.ws / ".bashrc").write_text("mine\n")
    sb.ident.chown(str(sb.ws / ".bashrc"))
    r = sb.run(["--settings", sb.write_settings(WRITE_WS), "--print-policy"], raw=True)
    assert r.returncode == 0, r
    head, _, standins = r.stdout.partition("stand-ins created on the host")
    standins = standins.split("mandatory deny search depth")[0]
    assert str(sb.ws / ".bashrc") in head, r.stdout
    assert str(sb.ws / ".bashrc") not in standins, r.stdout
    if gate_on(sb):
        # the creation gate refuses the missing names: no stand-in at all
        assert "stand-ins created on the host" not in r.stdout, r.stdout
        assert str(sb.ws / ".profile") not in r.stdout, r.stdout
        return
    assert str(sb.ws / ".profile") in standins, r.stdout
