#!/usr/bin/env python3
"""docker/Dockerfile and .dockerignore, checked offline (no Docker engine): the build stage runs the
README's own set-up scripts on debian:12 over the whole source tree, the final stage is scratch
holding the binary alone at /redis-cluster-init with ENTRYPOINT ["/redis-cluster-init"] and CMD
["install", "/scripts"] (what the compose file and the Kubernetes initContainer rely on), and the
build context leaves out build/ and .git. Each problem is printed naming the file and the
instruction (tests/testbed/deploy_checks.py).
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import deploy_checks  # noqa: E402


def check(problems, _binary) -> None:
    image = deploy_checks.check_dockerfile(problems)
    print(f"[deploy] {deploy_checks.DOCKERFILE}: ENTRYPOINT {image['entrypoint']} "
          f"CMD {image['cmd']}", flush=True)


if __name__ == "__main__":
    deploy_checks.run(check, needs_binary=False)
