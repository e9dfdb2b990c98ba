#!/usr/bin/env python3
"""Every Kubernetes document the examples render to is valid against Kubernetes' OpenAPI schemas
(cert-manager's for the TLS example's Issuers and Certificates), offline: scripts/check-manifests.sh
renders each examples/*/ with kubectl and validates each document (wrong types, missing required
fields, values outside an enum, unknown fields, as `kubectl apply` would reject them).

Then a negative control: the same script on a copy of examples/ with three errors put in must
fail, naming each (file, object, field). A validator that accepted everything would pass the
first half; the second makes that a failure.

Skips (exit 125, saying why) where kubectl, node/npm or PyYAML is missing, or where the npm
registry is unreachable and the schema packages are not cached yet (the script decides).
"""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
SCRIPT = os.path.join(REPO, "scripts", "check-manifests.sh")

# (file under examples/, text in it, its broken form, what the script must then print).
BREAKAGES = [
    ("kubernetes/shard/redis-shard.yaml", "\n  replicas: 2\n", '\n  replicas: "2"\n',
     "kubernetes/shard/redis-shard.yaml: apps/v1 StatefulSet redis-shard0: spec.replicas: "
     "must be integer"),
    ("kubernetes/common/service.yaml", "  publishNotReadyAddresses: true\n",
     "  publishNotReadyAdresses: true\n",
     "kubernetes/common/service.yaml: v1 Service redis-pods: spec.publishNotReadyAdresses: "
     "unknown field"),
    ("kubernetes-tls/certificates.yaml", "    - client auth\n", "    - client-auth\n",
     "kubernetes-tls/certificates.yaml: cert-manager.io/v1 Certificate redis-tls: "
     "spec.usages[1]: must be equal to one of the allowed values"),
]


def check_manifests(*dirs) -> subprocess.CompletedProcess:
    done = subprocess.run(["bash", SCRIPT, *dirs], cwd=REPO, capture_output=True, text=True,
                          timeout=300)
    print(done.stdout + done.stderr, end="", flush=True)
    if done.returncode == itest.SKIP:
        print("SKIP: scripts/check-manifests.sh cannot run here (its message above says why)",
              flush=True)
        sys.exit(itest.SKIP)
    return done


def main():
    done = check_manifests()
    if done.returncode != 0:
        itest.fail(f"scripts/check-manifests.sh exits {done.returncode}: the examples' rendered "
                   "manifests are not valid (each problem is listed above)")

    # The negative control, on a copy: the examples themselves are never touched.
    with tempfile.TemporaryDirectory(prefix="rci-manifests-") as tmp:
        copy = os.path.join(tmp, "examples")
        shutil.copytree(os.path.join(REPO, "examples"), copy)
        for rel, good, bad, _ in BREAKAGES:
            path = os.path.join(copy, rel)
            with open(path, encoding="utf-8") as f:
                text = f.read()
            if good not in text:
                itest.fail(f"examples/{rel} no longer holds {good.strip()!r}: change BREAKAGES "
                           "in this test to break something that is there")
            with open(path, "w", encoding="utf-8") as f:
                f.write(text.replace(good, bad, 1))
        print("[schemas] negative control: the same check on a copy with three errors put in",
              flush=True)
        broken = check_manifests(os.path.join(copy, "kubernetes"),
                                 os.path.join(copy, "kubernetes-tls"))
        output = broken.stdout + broken.stderr
        itest.check(broken.returncode == 1,
                    f"on manifests with errors, scripts/check-manifests.sh exits "
                    f"{broken.returncode}, not 1")
        for rel, _, bad, expected in BREAKAGES:
            itest.check(expected in output,
                        f"with {bad.strip()!r} in examples/{rel}, scripts/check-manifests.sh does "
                        f"not report {expected!r}")
    print("[schemas] the control's three errors were each reported", flush=True)


if __name__ == "__main__":
    itest.run(main, tools=(), needs_binary=False)
