"""Shared by the container tests (imported as a module): the profiles, the
podman command line, the seccomp profile that refuses new namespaces."""

import json
import os

import pytest

RUNC = "/usr/sbin/runc"
PODMAN_DEFAULT_SECCOMP = "/usr/share/containers/seccomp.json"
HOST_MAXNS = "/proc/sys/user/max_user_namespaces"
RESULT = "SRT-CTR-RESULT "
RUN_TIMEOUT = 150       # podman run --timeout: the container is killed then
CLIENT_TIMEOUT = 180    # and the podman client a little later

# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET, the
# mask of moby's profiles/seccomp/default.json (2114060288)
CLONE_NS_FLAGS = 0x7E020000
EPERM, ENOSYS = 1, 38

# Profile name -> (podman options, inside.py options).
#   default           podman's default seccomp profile, rootful, host userns
#   seccomp-nouserns  a seccomp profile refusing new namespaces as Docker's
#                     default does (see nouserns_seccomp)
#   maxuserns0        user.max_user_namespaces=0, set in a user namespace
#                     of the container's own (inside.py --limit-userns), which
#                     needs /proc/sys writable there (unmask=/proc/sys) and,
#                     to keep that from reaching host-wide sysctls, the
#                     container in a user namespace of its own (identity-
#                     mapped, so the host's files keep their owners)
PROFILES = {
    "default": ([], []),
    "seccomp-nouserns": (["--security-opt", "seccomp={dir}/seccomp-nouserns.json"], []),
    "maxuserns0": (["--uidmap", "0:0:65536", "--gidmap", "0:0:65536",
                    "--security-opt", "unmask=/proc/sys"], ["--limit-userns"]),
}
IDENTITIES = ["root", "user"]


def nouserns_seccomp(src):
    """podman's default profile, made to refuse new namespaces the way
    Docker's default profile does for a container without CAP_SYS_ADMIN:
    clone only without namespace flags (EPERM otherwise), clone3 ENOSYS
    (its flags are behind a pointer seccomp cannot read, so libc falls back
    to clone), unshare EPERM.  podman's default allows all three."""
    p = json.loads(json.dumps(src))
    gone = {"clone", "clone3", "unshare"}
    for rule in p["syscalls"]:
        rule["names"] = [n for n in rule["names"] if n not in gone]
    p["syscalls"] = [r for r in p["syscalls"] if r["names"]]
    s390 = ["s390", "s390x"]
    # the flags are argument 0, but argument 1 on s390 (as in moby's profile)
    for idx, arches in ((0, {"excludes": {"arches": s390}}),
                        (1, {"includes": {"arches": s390}})):
        p["syscalls"].append(dict(
            names=["clone"], action="SCMP_ACT_ALLOW",
            args=[{"index": idx, "value": CLONE_NS_FLAGS, "valueTwo": 0,
                   "op": "SCMP_CMP_MASKED_EQ"}], **arches))
        # seccomp has no "masked not equal": one EPERM rule per flag
        for bit in range(32):
            flag = 1 << bit
            if CLONE_NS_FLAGS & flag:
                p["syscalls"].append(dict(
                    names=["clone"], action="SCMP_ACT_ERRNO", errnoRet=EPERM,
                    args=[{"index": idx, "value": flag, "valueTwo": flag,
                           "op": "SCMP_CMP_MASKED_EQ"}], **arches))
    p["syscalls"].append({"names": ["clone3"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": ENOSYS})
    p["syscalls"].append({"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
                          "errnoRet": EPERM})
    return p


def podman_base(d):
    """The podman command line up to the image (--rootfs /:O)."""
    return ["podman", "--runtime", RUNC, "run", "--rm", "--network", "none",
            "--volume", "%s:%s:ro" % (d, d)]


def podman_env(d):
    e = dict(os.environ)
    e["CONTAINERS_CONF"] = str(d / "containers.conf")
    return e


def read_maxns():
    with open(HOST_MAXNS) as f:
        return f.read().strip()


def pairs(profiles):
    """Parameters for the ctr fixture: every identity in each profile."""
    return [pytest.param((p, i), id="%s-%s" % (p, i))
            for p in profiles for i in IDENTITIES]
