"""ignoreViolations, matched as the reference 0.0.83 matches it: the key "*"
covers every command, any other key must occur in the command text (the -c
string, or argv shell-quoted and joined by spaces); a listed pattern must
occur in the violation's line, "deny network-outbound HOST:PORT (REASON)".
Plain substrings: no globs, case counts.  A suppressed request is refused
all the same; only its record (--violations) and its line in srt's exit
summary go."""
import os

from test_network import CURL_HTTP, net, violations, vpath

QUIET = CURL_HTTP + "-o /dev/null -w '%{http_code}\\n' http://a.quiet.example/"
LOUD = CURL_HTTP + "-o /dev/null -w '%{http_code}\\n' http://loud.example:8081/"


def run_both(sb, ignore, cmd=QUIET + "; " + LOUD):
    """Both requests under `ignore`; returns (hosts recorded, stderr)."""
    settings = net(["example.org"])
    settings["ignoreViolations"] = ignore
    v = vpath(sb)
    if os.path.exists(v):
        os.unlink(v)
    r = sb.run(cmd, settings=settings, opts=["--violations", v])
    # refused either way: ignoreViolations never allows anything
    assert r.stdout.split() == ["403", "403"], r
    hosts = [x["host"] for x in violations(v)]
    return hosts, r.stderr


def summary_hosts(stderr):
    return sorted(h for h in ("a.quiet.example", "loud.example") if h in stderr)


def test_star_pattern_is_a_substring_of_the_line(sb):
    hosts, err = run_both(sb, {"*": ["quiet.example"]})
    assert hosts == ["loud.example"], hosts
    assert summary_hosts(err) == ["loud.example"], err
    assert "1 network request was blocked" in err, err


def test_pattern_can_name_the_port_or_the_reason(sb):
    hosts, err = run_both(sb, {"*": ["example:8081 "]})
    assert hosts == ["a.quiet.example"], hosts
    # the reason is part of the line: both go
    hosts, err = run_both(sb, {"*": ["(not in allowedDomains)"]})
    assert hosts == [], hosts
    assert "blocked by the sandbox" not in err, err


def test_globs_are_plain_text(sb):
    """"*.quiet.example" is no glob: it matches only that literal text, so
    nothing is suppressed (srt once matched patterns with fnmatch)."""
    hosts, err = run_both(sb, {"*": ["*.quiet.example"], "c*": ["loud"]})
    assert hosts == ["a.quiet.example", "loud.example"], hosts
    assert summary_hosts(err) == ["a.quiet.example", "loud.example"], err


def test_case_counts(sb):
    hosts, _ = run_both(sb, {"*": ["A.QUIET.EXAMPLE"]})
    assert hosts == ["a.quiet.example", "loud.example"], hosts


def test_command_key_is_a_substring_of_the_shell_string(sb):
    # the -c string is the command text: "loud.example:8081" occurs in it
    hosts, err = run_both(sb, {"loud.example:8081": ["quiet"]})
    assert hosts == ["loud.example"], hosts
    assert summary_hosts(err) == ["loud.example"], err
    # a key that is not in the command text suppresses nothing; "sh" is the
    # basename of the /bin/sh srt runs the string with, not part of the text
    hosts, _ = run_both(sb, {"wget": ["quiet"], "sh": ["quiet"]})
    assert hosts == ["a.quiet.example", "loud.example"], hosts


def test_command_key_matches_quoted_argv(sb):
    """Without -c, the command text is argv as the reference quotes it:
    bare words as they are, others in single quotes."""
    settings = net(["example.org"])
    settings["ignoreViolations"] = {"-w '%{http_code}\\n' http://a.quiet": ["example"]}
    v = vpath(sb)
    argv = ["curl", "-sS", "--max-time", "30", "--noproxy", "", "-x",
            "http://127.0.0.1:3128", "-o", "/dev/null", "-w", "%{http_code}\\n"]
    r = sb.run(argv + ["http://a.quiet.example/"], settings=settings,
               opts=["--violations", v])
    assert r.stdout.strip() == "403", r
    assert violations(v) == [], violations(v)
    assert "blocked by the sandbox" not in r.stderr, r.stderr
    # the same request from a command whose text does not hold the key
    r = sb.run(argv + ["http://b.quiet.example/"], settings=settings,
               opts=["--violations", v])
    assert r.stdout.strip() == "403", r
    assert [x["host"] for x in violations(v)] == ["b.quiet.example"]
    assert "b.quiet.example" in r.stderr, r.stderr
