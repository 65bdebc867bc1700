#!/usr/bin/env python3
"""Does srt know every key of the reference srt's settings schema?

    schema_parity.py [SRT [REFERENCE_PACKAGE_DIR]]

schema_keys.mjs lists every key path of the reference's zod schema
(dist/sandbox/sandbox-config.js); each is given to srt alone in a settings
file, with the value `true`, and srt's answer is classified:
  accepted           srt parses the key (it took the value, or named its type)
  ignored            accepted with a warning (no meaning on Linux)
  not supported yet  refused until built (src/lib/config_compat.c)
  UNKNOWN            srt calls it an unknown key: a parity bug
Prints one line per key and exits 1 if any is UNKNOWN.  test_compat.py uses
the same functions, as root and as the unprivileged user.  SRT defaults to
build/srt, the reference to $SRT_REFERENCE or the bench install.
"""

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import extract_readme  # noqa: E402

KNOWN = ("accepted", "ignored", "not supported yet")


def schema_keys(reference):
    p = subprocess.run(["node", str(HERE / "schema_keys.mjs"), str(reference)],
                       capture_output=True, text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError("schema_keys.mjs failed: " + p.stderr)
    return json.loads(p.stdout)


def spelled_keys(reference):
    """The key names the schema file spells out (`name: z...` or
    `name: SomeSchema`), to check that the walk saw them all."""
    source = (Path(reference) / "dist" / "sandbox" / "sandbox-config.js").read_text()
    return set(re.findall(r"^\s+(\w+): (?:z\s*$|z\.(?!ZodIssueCode)|\w+Schema\b)", source, re.M))


def sample_for(keypath):
    """A settings object holding keypath (a.b[].c) and nothing else, with
    the value `true`: a key srt knows either takes it or names its type."""
    value = True
    for part in reversed(re.findall(r"[^.\[\]]+|\[\]", keypath)):
        value = [value] if part == "[]" else {part: value}
    return value


def classify(returncode, stderr, path):
    """srt's verdict on the settings file `path` from `srt --settings path
    -- true`: only a refusal that names the file is about the key (exit 125
    is also srt failing for another reason, which is shown as it is)."""
    if returncode == 0:
        return "ignored" if ": ignored (" in stderr else "accepted"
    if returncode != 125 or ("srt: %s: " % path) not in stderr:
        return "exit %d: %s" % (returncode, stderr.strip())
    if "not supported yet" in stderr:
        return "not supported yet"
    if "unknown key" in stderr:
        return "UNKNOWN: " + stderr.strip()
    return "accepted"


def main(argv):
    srt = str(Path(argv[0]).resolve()) if argv else str(HERE.parent.parent.parent / "build" / "srt")
    reference = argv[1] if len(argv) > 1 else extract_readme.reference_dir()
    keys = schema_keys(reference)
    missed = spelled_keys(reference) - {re.sub(r"\[\]", "", k).split(".")[-1] for k in keys}
    bad = sorted("walk missed key " + k for k in missed)
    with tempfile.TemporaryDirectory() as d:
        for k in keys:
            f = Path(d) / "s.json"
            f.write_text(json.dumps(sample_for(k)))
            r = subprocess.run([srt, "--settings", str(f), "--", "true"], cwd=d,
                               capture_output=True, text=True, timeout=60)
            verdict = classify(r.returncode, r.stderr, str(f))
            print("%-45s %s" % (k, verdict))
            if verdict not in KNOWN:
                bad.append(k)
    for b in bad:
        print("NOT KNOWN:", b, file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
