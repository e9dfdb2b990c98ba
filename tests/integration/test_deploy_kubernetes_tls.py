#!/usr/bin/env python3
"""examples/kubernetes-tls as `kubectl kustomize` renders it, checked offline (no cluster): every
shard's redis container runs with TLS on, its files in a mount of the Secret a cert-manager
Certificate writes, and that certificate holds every pod's FQDN for both server and client use,
from an Issuer the overlay defines. And the overlay is examples/kubernetes plus TLS, nothing else:
the same objects (cert-manager's added), each StatefulSet the base's with only Secret volumes,
their read-only mounts and environment variables added; its shard<S>/ the base's very files. So
everything test_deploy_kubernetes checks of the base holds here too. Each problem names the file
(tests/testbed/deploy_checks.py).

Skips, saying so, where kubectl is not installed.
"""

import copy
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import deploy_checks  # noqa: E402
import kustomization  # noqa: E402
from deploy_checks import (  # noqa: E402
    K8S_DIR, REPO, TLS_DIR, Binary, Problems, Rendered, check_env_names, check_tree)

CERT_MANAGER_GROUP = "cert-manager.io/"
SHARD_DIR_RE = re.compile(r"^shard[0-9]+$")


def wildcard_match(pattern: str, name: str) -> bool:
    """A certificate name matches as TLS clients match it: `*` stands for one whole label."""
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest.lower() == pattern[2:].lower()
    return pattern.lower() == name.lower()


def differences(a, b, path: str = "") -> list:
    """The paths at which two documents differ."""
    if type(a) is not type(b):
        return [path or "(document)"]
    if isinstance(a, dict):
        return [d for key in sorted(set(a) | set(b), key=str)
                for d in differences(a.get(key), b.get(key), f"{path}.{key}".lstrip("."))]
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path} ({len(a)} items, {len(b)} here)"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [path]


def without_tls(sts: dict, base: dict):
    """`sts` with what TLS may add to the base's StatefulSet taken out: Secret volumes, read-only
    mounts of those, environment variables of the redis container. Returns (stripped, added)."""
    stripped = copy.deepcopy(sts)
    added = []
    pod, base_pod = stripped["spec"]["template"]["spec"], base["spec"]["template"]["spec"]
    base_volumes = {v.get("name") for v in base_pod.get("volumes") or []}
    new_secrets = {v.get("name") for v in pod.get("volumes") or []
                   if v.get("name") not in base_volumes and "secret" in v}
    pod["volumes"] = [v for v in pod.get("volumes") or [] if v.get("name") not in new_secrets]
    added += [f"volume {n}" for n in sorted(new_secrets)]
    base_redis = next((c for c in base_pod.get("containers") or [] if c.get("name") == "redis"), {})
    for c in pod.get("containers") or []:
        if c.get("name") != "redis":
            continue
        base_env = {e.get("name") for e in base_redis.get("env") or []}
        added += [f"env {e.get('name')}" for e in c.get("env") or []
                  if e.get("name") not in base_env]
        c["env"] = [e for e in c.get("env") or [] if e.get("name") in base_env]
        base_mounts = {m.get("mountPath") for m in base_redis.get("volumeMounts") or []}
        keep = []
        for m in c.get("volumeMounts") or []:
            if m.get("mountPath") not in base_mounts and m.get("name") in new_secrets \
                    and m.get("readOnly") is True:
                added.append(f"mount {m.get('mountPath')}")
            else:
                keep.append(m)
        c["volumeMounts"] = keep
    return stripped, added


def check_same_as_base(problems: Problems, rendered: Rendered, base: Rendered) -> None:
    """The overlay deploys the base's objects, cert-manager's added, and changes nothing in them
    but TLS."""
    ours = {(d["kind"], d["metadata"]["name"]): d for d in rendered.docs
            if not str(d.get("apiVersion", "")).startswith(CERT_MANAGER_GROUP)}
    theirs = {(d["kind"], d["metadata"]["name"]): d for d in base.docs}
    problems.expect(set(ours) == set(theirs), TLS_DIR, "objects",
                    f"must be {K8S_DIR}'s and cert-manager's: missing "
                    f"{sorted(set(theirs) - set(ours))}, extra {sorted(set(ours) - set(theirs))}")
    for key in sorted(set(ours) & set(theirs)):
        doc, base_doc = ours[key], theirs[key]
        added = []
        if key[0] == "StatefulSet":
            doc, added = without_tls(doc, base_doc)
        diff = differences(base_doc, doc)
        problems.expect(not diff, TLS_DIR, f"{key[0]} {key[1]}",
                        f"differs from {K8S_DIR}'s in more than TLS (which adds "
                        f"{', '.join(added) or 'nothing'}): {', '.join(diff[:8])}")
        if key[0] == "StatefulSet":
            problems.expect(added, TLS_DIR, f"StatefulSet {key[1]}",
                            f"is {K8S_DIR}'s unchanged: the TLS patch does not reach it")


def check_shard_dirs(problems: Problems, tree: dict) -> None:
    """The overlay's shard<S>/ number its TLS template exactly as the base's number the base's."""
    for d in sorted(tree):
        name = os.path.basename(d)
        if not SHARD_DIR_RE.match(name) or not d.startswith(os.path.join(REPO, TLS_DIR) + os.sep):
            continue
        ours = kustomization.file_of(d)
        theirs = kustomization.file_of(os.path.join(REPO, K8S_DIR, name))
        rel = os.path.relpath(ours, REPO)
        if not problems.expect(theirs, rel, "file",
                               f"{K8S_DIR}/{name}/ does not exist: the overlay has a shard the "
                               "base has not"):
            continue
        with open(ours, encoding="utf-8") as a, open(theirs, encoding="utf-8") as b:
            problems.expect(a.read() == b.read(), rel, "file",
                            f"must be the same file as {os.path.relpath(theirs, REPO)} (it "
                            "numbers the TLS template as that numbers the base's)")


def check_kubernetes_tls(problems: Problems, binary: Binary) -> None:
    tree = check_tree(problems, TLS_DIR)
    check_shard_dirs(problems, tree)
    rendered = Rendered(problems, TLS_DIR)
    base = Rendered(problems, K8S_DIR)
    if not rendered.ok:
        return
    if base.ok:
        check_same_as_base(problems, rendered, base)
    docs = rendered.docs
    certificates = {(d.get("spec") or {}).get("secretName"): d for d in docs
                    if d.get("kind") == "Certificate"}
    issuers = {d["metadata"]["name"] for d in docs if d.get("kind") == "Issuer"}
    for cert in certificates.values():
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        if ref.get("kind", "Issuer") == "Issuer":
            problems.expect(ref.get("name") in issuers, rendered.where(cert),
                            f"Certificate {cert['metadata']['name']}.spec.issuerRef",
                            f"names Issuer {ref.get('name')}, which {TLS_DIR} does not define "
                            f"(it defines {sorted(issuers)})")
    sets = [d for d in docs if d.get("kind") == "StatefulSet"]
    expected = len(base.of_kind("StatefulSet")) if base.ok else 3
    problems.expect(sets and len(sets) == expected, TLS_DIR, "StatefulSets",
                    f"renders {len(sets)}, expected {expected} (one per shard, as {K8S_DIR})")
    for sts in sets:
        name = sts["metadata"]["name"]
        f = f"StatefulSet {name}"
        pod_spec = sts["spec"]["template"]["spec"]
        redis = next((c for c in pod_spec["containers"] if c.get("name") == "redis"), None)
        if not problems.expect(redis, TLS_DIR, f"{f}.spec.template.spec.containers",
                               "has no container named redis"):
            continue
        env = {e["name"]: e.get("value") for e in redis.get("env") or []}
        check_env_names(problems, binary, TLS_DIR, f"{f} env", env, None)
        problems.expect(env.get("TLS") == "yes", TLS_DIR, f"{f}.env.TLS", "must be yes")
        secrets = {v["name"]: (v.get("secret") or {}).get("secretName")
                   for v in pod_spec.get("volumes") or []}
        mounts = {m["mountPath"]: secrets.get(m["name"]) for m in redis.get("volumeMounts") or []}
        for var in ("TLS_CERT_FILE", "TLS_KEY_FILE", "TLS_CA_CERT_FILE"):
            path = env.get(var) or ""
            secret = mounts.get(os.path.dirname(path))
            if not problems.expect(secret in certificates, TLS_DIR, f"{f}.env.{var}",
                                   f"{path or '(unset)'} is in no mount of a Secret that a "
                                   f"Certificate writes ({sorted(filter(None, certificates))})"):
                continue
            spec = certificates[secret]["spec"]
            for ordinal in range(sts["spec"]["replicas"]):
                fqdn = (f"{name}-{ordinal}.{sts['spec']['serviceName']}.default.svc."
                        f"cluster.local")
                problems.expect(any(wildcard_match(n, fqdn) for n in spec.get("dnsNames") or []),
                                TLS_DIR, f"Certificate for {secret}.spec.dnsNames",
                                f"holds no name matching {fqdn}")
            problems.expect({"server auth", "client auth"} <= set(spec.get("usages") or []),
                            TLS_DIR, f"Certificate for {secret}.spec.usages",
                            "needs server auth and client auth (tls-auth-clients yes)")
    print(f"[deploy] {TLS_DIR}: {len(sets)} StatefulSets on TLS with cert-manager's Secret",
          flush=True)


def check(problems: Problems, binary: Binary) -> None:
    deploy_checks.require_kubectl(TLS_DIR)
    check_kubernetes_tls(problems, binary)


if __name__ == "__main__":
    deploy_checks.run(check)
