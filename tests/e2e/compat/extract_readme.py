#!/usr/bin/env python3
"""Extract the settings examples of the reference srt's README.

Every ```json block of the README that is a settings object (its keys are
keys of the reference's schema) is stored verbatim as
tests/e2e/compat/readme/NN-<heading>.json, and readme/headings.json maps each
file to the README heading (and bold label, for the recipes) it stands under
and its line.  The files are in the repository so that `make test` runs them
without npm; test_compat.py re-extracts them when the reference is installed
and fails if they drifted from its README.

    extract_readme.py [README]          rewrite tests/e2e/compat/readme/
    extract_readme.py --check [README]  exit 1 if the stored copies differ
README defaults to $SRT_REFERENCE's README.md.
"""

import json
import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "readme"
DEFAULT_REFERENCE = "/root/.cache/srt-bench/reference/node_modules/@anthropic-ai/sandbox-runtime"

# Top-level keys of the reference 0.0.83 schema (SandboxRuntimeConfigSchema):
# a block is a settings example when its keys are among these.
TOP_KEYS = {
    "network", "filesystem", "credentials", "ignoreViolations", "enableWeakerNestedSandbox",
    "allowNestedUserNamespaces", "enableWeakerNetworkIsolation", "allowAppleEvents", "ripgrep",
    "mandatoryDenySearchDepth", "allowPty", "seccomp", "bwrapPath", "socatPath",
    "javaAgentJarPath", "windows", "git",
}


def reference_dir():
    return Path(os.environ.get("SRT_REFERENCE") or DEFAULT_REFERENCE)


def slug(text):
    s = re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()
    return s[:60].rstrip("-")


def extract(text):
    """[(file name, heading, line, block text)] for each settings example."""
    out = []
    heading, label = "", ""
    fence, block, start = None, [], 0
    for no, line in enumerate(text.splitlines(), 1):
        if fence is not None:
            if line.strip() == "```":
                if fence == "json":
                    body = "\n".join(block) + "\n"
                    try:
                        obj = json.loads(body)
                    except ValueError:
                        obj = None
                    if isinstance(obj, dict) and obj and set(obj) <= TOP_KEYS:
                        title = heading + (" - " + label if label else "")
                        name = "%02d-%s.json" % (len(out) + 1, slug(title))
                        out.append((name, title, start, body))
                # a bold label names the block after it, not the next one
                fence, label = None, ""
            else:
                block.append(line)
            continue
        m = re.match(r"^```(\w*)\s*$", line)
        if m:
            fence, block, start = m.group(1), [], no
            continue
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            heading, label = m.group(1).strip(), ""
            continue
        m = re.match(r"^\*\*([^*]+)\*\*", line)
        if m:
            label = m.group(1).strip().rstrip(":")
    return out


def stored():
    """The stored copies, in the same form as extract()."""
    idx = json.loads((OUT / "headings.json").read_text())
    return [(e["file"], e["heading"], e["line"], (OUT / e["file"]).read_text()) for e in idx]


def write(examples):
    OUT.mkdir(exist_ok=True)
    for old in OUT.glob("*.json"):
        old.unlink()
    for name, title, line, body in examples:
        (OUT / name).write_text(body)
    (OUT / "headings.json").write_text(json.dumps(
        [{"file": n, "heading": t, "line": l} for n, t, l, _ in examples], indent=2) + "\n")


def main(argv):
    check = "--check" in argv
    args = [a for a in argv if a != "--check"]
    readme = Path(args[0]) if args else reference_dir() / "README.md"
    examples = extract(readme.read_text())
    if check:
        if examples != stored():
            print("tests/e2e/compat/readme/ differs from %s: run %s %s"
                  % (readme, sys.argv[0], readme), file=sys.stderr)
            return 1
        return 0
    write(examples)
    for name, title, line, _ in examples:
        print("%s  (line %d: %s)" % (name, line, title))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
