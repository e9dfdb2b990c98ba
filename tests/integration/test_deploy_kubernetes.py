#!/usr/bin/env python3
"""examples/kubernetes as `kubectl kustomize` renders it (what `kubectl apply -k` sends), checked
offline against the binary (no cluster): one StatefulSet per shard, named <prefix>-shard<S> with
Parallel pod management, an initContainer installing the binary from the Dockerfile's image into
an emptyDir, a redis:7 container running `/scripts/redis-cluster-init run -- redis-server
<conf>` from a ConfigMap whose dir is a volume claim, the downward API's POD_NAME, POD_IP and
POD_NAMESPACE, the password from a mounted Secret (never a literal), probes exec'ing `probe`,
SHARDS and REPLICAS matching the StatefulSets, every pod's environment accepted by `plan`, one
PodDisruptionBudget per shard, the shards identical apart from their number, the headless
governing Service publishing not-ready pods, and every file of the directory deployed. Each
problem names the file that defines the object (tests/testbed/deploy_checks.py).

Skips, saying so, where kubectl is not installed.
"""

import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import deploy_checks  # noqa: E402
from deploy_checks import (  # noqa: E402
    BINARY_NAME, DOCKERFILE, K8S_DIR, REPO, SAVE_SECONDS, STATEFULSET_NAME_RE, UNUSED_LOOPBACK,
    Binary, Invocation, Problems, Rendered, check_env_names, check_invocation,
    check_no_literal_secret, check_pod_names, check_probe_timeout, check_run, check_tree,
    install_dir, int_env, k8s_env, mount_containing, mounts_at, read, runs_binary, selects,
    validate_with_plan, yaml)


def check_statefulset(problems, binary, where, sts, docs, image, where_of) -> dict:
    """One shard's StatefulSet; returns what the cross-shard checks need."""
    name = sts["metadata"]["name"]
    spec = sts.get("spec") or {}
    f = f"StatefulSet {name}"
    problems.expect(STATEFULSET_NAME_RE.match(name), where, f"{f}.metadata.name",
                    "must be <prefix>-shard<S> so its pods are <prefix>-shard<S>-<ordinal>")
    problems.expect(spec.get("podManagementPolicy") == "Parallel", where,
                    f"{f}.spec.podManagementPolicy",
                    f"must be Parallel, found {spec.get('podManagementPolicy')}")
    pod = spec.get("template") or {}
    labels = (pod.get("metadata") or {}).get("labels") or {}
    problems.expect(selects(spec.get("selector"), labels), where, f"{f}.spec.selector",
                    "does not select the pod template's labels")
    pod_spec = pod.get("spec") or {}
    problems.expect(pod_spec.get("enableServiceLinks") is False, where,
                    f"{f}.spec.template.spec.enableServiceLinks",
                    "must be false: a Service named `redis` would inject REDIS_PORT=tcp://..., "
                    "which the binary reads as its port")

    # Pod anti-affinity between this shard's pods.
    anti = ((pod_spec.get("affinity") or {}).get("podAntiAffinity") or {})
    terms = [t.get("podAffinityTerm") or {} for t in
             anti.get("preferredDuringSchedulingIgnoredDuringExecution") or []]
    terms += anti.get("requiredDuringSchedulingIgnoredDuringExecution") or []
    problems.expect(any(t.get("topologyKey") == "kubernetes.io/hostname"
                        and selects(t.get("labelSelector"), labels) for t in terms), where,
                    f"{f}.spec.template.spec.affinity.podAntiAffinity",
                    "needs a term on kubernetes.io/hostname selecting this shard's pods")

    # The initContainer installs the binary into a volume the redis container mounts too.
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    inits = pod_spec.get("initContainers") or []
    containers = pod_spec.get("containers") or []
    installs = []
    for i, c in enumerate(inits):
        argv = (c.get("command") or image["entrypoint"] or []) + (
            c.get("args") if c.get("args") is not None else
            ([] if c.get("command") else image["cmd"] or []))
        if runs_binary(argv):
            installs.append((c, Invocation(where, f"{f} initContainers[{c.get('name', i)}]",
                                           argv)))
    scripts_dir, scripts_volume = "/scripts", None
    if problems.expect(len(installs) == 1, where, f"{f}.spec.template.spec.initContainers",
                       f"needs one initContainer running {BINARY_NAME} install, "
                       f"found {len(installs)}"):
        c, inv = installs[0]
        check_invocation(problems, binary, inv)
        if image["entrypoint"]:
            problems.expect(inv.argv[0] == image["entrypoint"][0], where, inv.field,
                            f"runs {inv.argv[0]}, but the image from {DOCKERFILE} has the "
                            f"binary at {image['entrypoint'][0]}")
        scripts_dir = install_dir(problems, where, inv.field, inv) or scripts_dir
        mount = mounts_at(c, scripts_dir)
        if problems.expect(mount, where, f"{inv.field}.volumeMounts",
                           f"nothing is mounted at {scripts_dir}"):
            scripts_volume = mount.get("name")
            problems.expect("emptyDir" in (volumes.get(scripts_volume) or {}), where,
                            f"{f} volumes[{scripts_volume}]", "must be an emptyDir")

    redis = [c for c in containers if runs_binary(c.get("command") or [])]
    result = {"name": name, "labels": labels, "replicas": spec.get("replicas"),
              "service": spec.get("serviceName"), "env": {}}
    if not problems.expect(len(redis) == 1, where, f"{f}.spec.template.spec.containers",
                           f"needs one container whose command is {scripts_dir}/{BINARY_NAME} "
                           f"run -- redis-server ..., found {len(redis)}"):
        return result
    c = redis[0]
    cf = f"{f} containers[{c.get('name')}]"
    problems.expect(str(c.get("image", "")).startswith("redis:7"), where, f"{cf}.image",
                    f"must be an official redis:7 image, found {c.get('image')}")
    inv = Invocation(where, f"{cf}.command", (c.get("command") or []) + (c.get("args") or []))
    check_invocation(problems, binary, inv)
    server_args = check_run(problems, where, inv.field, inv, scripts_dir)
    mount = mounts_at(c, scripts_dir)
    problems.expect(mount and mount.get("name") == scripts_volume, where, f"{cf}.volumeMounts",
                    f"must mount volume {scripts_volume} (where the initContainer installs the "
                    f"binary) at {scripts_dir}, found {mount}")

    # redis.conf: from a ConfigMap that exists; its dir is the claim-backed /data.
    config_files = [a for a in server_args if a.endswith(".conf")]
    if problems.expect(config_files, where, inv.field,
                       "must start redis-server with a config file (redis.conf)"):
        conf = config_files[0]
        mount = mount_containing(c, conf)
        volume = volumes.get((mount or {}).get("name")) or {}
        cm_name = (volume.get("configMap") or {}).get("name")
        cm = next((d for d in docs if d.get("kind") == "ConfigMap"
                   and d["metadata"]["name"] == cm_name), None)
        key = os.path.relpath(conf, mount["mountPath"]) if mount else None
        if problems.expect(cm and key in (cm.get("data") or {}), where, inv.field,
                           f"{conf} is not a key of a ConfigMap in {K8S_DIR} mounted there"):
            text = cm["data"][key]
            problems.expect(not re.search(r"^\s*(requirepass|masterauth)\b", text, re.M),
                            where_of(cm), f"ConfigMap {cm_name}.data.{key}",
                            "must not hold the password: `run` adds it from the password file")
            dirs = re.findall(r"^\s*dir\s+(\S+)", text, re.M)
            claims = {t["metadata"]["name"] for t in spec.get("volumeClaimTemplates") or []}
            data_mount = mounts_at(c, dirs[-1]) if dirs else None
            problems.expect(data_mount and data_mount.get("name") in claims, where,
                            f"StatefulSet {name}: ConfigMap {cm_name}.data.{key}: dir",
                            f"dir {dirs[-1] if dirs else '(unset)'} must be the mount of a "
                            f"volumeClaimTemplate (nodes.conf must survive restarts), "
                            f"claims: {sorted(claims)}")

    env, refs = k8s_env(problems, where, f"{cf}.env", c)
    result["env"] = env
    check_env_names(problems, binary, where, f"{cf}.env", env, inv)
    check_no_literal_secret(problems, where, f"{cf}.env", env)
    for var, path in (("POD_NAME", "metadata.name"), ("POD_IP", "status.podIP"),
                      ("POD_NAMESPACE", "metadata.namespace")):
        problems.expect(refs.get(var) == path, where, f"{cf}.env.{var}",
                        f"must come from the downward API fieldRef {path}, found "
                        f"{refs.get(var) or env.get(var, '(unset)')}")
    # On SIGTERM a master hands its slots over (up to HANDOVER_TIMEOUT, default 20 s), then
    # redis-server saves: both before the kubelet's SIGKILL.
    grace = pod_spec.get("terminationGracePeriodSeconds", 30)
    handover = env.get("HANDOVER_TIMEOUT") or "20"
    if env.get("HANDOVER") != "off" and handover.isdigit():
        problems.expect(isinstance(grace, int) and grace >= int(handover) + SAVE_SECONDS, where,
                        f"{f}.spec.template.spec.terminationGracePeriodSeconds",
                        f"is {grace}: the handover may take {handover} s and redis-server's "
                        f"final save needs time too; give at least {int(handover) + SAVE_SECONDS}")
    problems.expect(env.get("GOVERNING_SERVICE") == spec.get("serviceName"), where,
                    f"{cf}.env.GOVERNING_SERVICE",
                    f"{env.get('GOVERNING_SERVICE')} is not the serviceName "
                    f"{spec.get('serviceName')}")
    password_file = env.get("REDIS_PASSWORD_FILE")
    result["secret"] = None
    if problems.expect(password_file, where, f"{cf}.env.REDIS_PASSWORD_FILE",
                       "must point at the password mounted from a Secret"):
        mount = mount_containing(c, password_file)
        secret = (volumes.get((mount or {}).get("name")) or {}).get("secret")
        if problems.expect(secret, where, f"{cf}.env.REDIS_PASSWORD_FILE",
                           f"{password_file} is not in a volume mounted from a Secret"):
            rel = os.path.relpath(password_file, mount["mountPath"])
            items = secret.get("items")
            keys = [i.get("key") for i in items if i.get("path") == rel] if items else [rel]
            problems.expect(keys, where, f"volumes[{mount['name']}].secret.items",
                            f"no item is mounted as {rel}")
            result["secret"] = (secret.get("secretName"), keys[0] if keys else None)

    # Probes: exec the installed binary's probe subcommand.
    for probe, kinds in (("readinessProbe", ["readiness"]), ("livenessProbe", ["liveness"]),
                         ("startupProbe", ["liveness", "readiness"])):
        command = ((c.get(probe) or {}).get("exec") or {}).get("command")
        if probe == "startupProbe" and probe not in c:
            continue
        pf = f"{cf}.{probe}"
        if not problems.expect(command and runs_binary(command), where, pf,
                               f"must exec {scripts_dir}/{BINARY_NAME} probe {kinds[0]}"):
            continue
        pinv = Invocation(where, pf, command)
        check_invocation(problems, binary, pinv)
        check_probe_timeout(problems, binary, pinv, env)
        problems.expect(command[0] == f"{scripts_dir}/{BINARY_NAME}" and command[1:2] == ["probe"]
                        and command[2:3] and command[2] in kinds, where, pf,
                        f"must be `{scripts_dir}/{BINARY_NAME} probe {kinds[0]}`, "
                        f"found {command}")
        timeout = (c.get(probe) or {}).get("timeoutSeconds", 1)
        if "--timeout" in command:
            inner = command[command.index("--timeout") + 1]
            problems.expect(inner.isdigit() and int(inner) < timeout, where, pf,
                            f"--timeout {inner} must be below timeoutSeconds {timeout}, or the "
                            "kubelet kills the probe before it can answer")

    # Ports: the Service's target names exist here.
    names = {p.get("name"): p.get("containerPort") for p in c.get("ports") or []}
    problems.expect(names.get("redis") == 6379 and 16379 in names.values(), where,
                    f"{cf}.ports", f"must expose 6379 (redis) and 16379 (bus), found {names}")
    return result



def check_kubernetes(problems: Problems, binary: Binary, image: dict) -> None:
    tree = check_tree(problems, K8S_DIR)
    rendered = Rendered(problems, K8S_DIR)
    if not rendered.ok:
        return
    docs, where = rendered.docs, rendered.where
    sets = [d for d in docs if d.get("kind") == "StatefulSet"]
    services = {d["metadata"]["name"]: d for d in docs if d.get("kind") == "Service"}
    pdbs = [d for d in docs if d.get("kind") == "PodDisruptionBudget"]
    if not problems.expect(sets, K8S_DIR, "StatefulSet", "no StatefulSet found"):
        return
    shards = [check_statefulset(problems, binary, where(s), s, docs, image, where)
              for s in sets]

    # One prefix, shards 0..N-1, same replicas; SHARDS/REPLICAS agree.
    numbers = sorted(int(m.group(1)) for s in shards
                     if (m := re.search(r"-shard([0-9]+)$", s["name"])))
    problems.expect(numbers == list(range(len(sets))), K8S_DIR, "StatefulSet names",
                    f"shards {numbers} must be 0..{len(sets) - 1}, one StatefulSet each")
    replicas = {s["replicas"] for s in shards}
    problems.expect(len(replicas) == 1, K8S_DIR, "StatefulSet spec.replicas",
                    f"every shard needs the same size, found {sorted(map(str, replicas))}")
    for s, doc in zip(shards, sets):
        f = f"StatefulSet {s['name']} containers[redis].env"
        n = int_env(problems, where(doc), f, s["env"], "SHARDS")
        r = int_env(problems, where(doc), f, s["env"], "REPLICAS")
        problems.expect(n is None or n == len(sets), where(doc), f"{f}.SHARDS",
                        f"is {n}, but {K8S_DIR} has {len(sets)} shard StatefulSets")
        problems.expect(r is None or r + 1 == s["replicas"], where(doc), f"{f}.REPLICAS",
                        f"is {r}, but the StatefulSet has {s['replicas']} pods (REPLICAS + 1)")
        if isinstance(s["replicas"], int) and n and r is not None:
            for pod in (f"{s['name']}-{o}" for o in range(s["replicas"])):
                env = {k: v for k, v in s["env"].items() if v is not None}
                env.update(POD_NAME=pod, POD_IP=UNUSED_LOOPBACK, POD_NAMESPACE="default")
                validate_with_plan(problems, binary, where(doc), f"pod {pod}", env)

        # Its own PodDisruptionBudget, which selects no other shard's pods.
        mine = [p for p in pdbs if selects(p["spec"].get("selector"), s["labels"])]
        problems.expect(len(mine) == 1 and mine[0]["spec"].get("maxUnavailable") == 1, where(doc),
                        f"StatefulSet {s['name']}",
                        f"needs one PodDisruptionBudget with maxUnavailable: 1 selecting its "
                        f"pods, found {[(p['metadata']['name'], p['spec']) for p in mine]}")
        for other in shards:
            if other is not s:
                problems.expect(not any(selects(p["spec"].get("selector"), other["labels"])
                                        for p in mine), where(doc), f"StatefulSet {s['name']}",
                                f"its PodDisruptionBudget also selects {other['name']}'s pods: "
                                "label each shard")
    all_pods = [f"{s['name']}-{o}" for s in shards if isinstance(s["replicas"], int)
                for o in range(s["replicas"])]
    env0 = shards[0]["env"]
    if str(env0.get("SHARDS", "")).isdigit() and str(env0.get("REPLICAS", "")).isdigit():
        check_pod_names(problems, K8S_DIR, "StatefulSet pods", all_pods, int(env0["SHARDS"]),
                        int(env0["REPLICAS"]))

    # The shards are one template (shard/redis-shard.yaml): equal once the shard number is taken
    # out, so a shard<S>/ can only number it.
    def normalized(doc, shard):
        text = yaml.safe_dump(doc, sort_keys=True)
        text = re.sub(rf"-shard{shard}\b", "-shard<S>", text)
        return re.sub(rf"(shard['\"]?:\s*)['\"]?{shard}['\"]?\b", r"\1<S>", text)
    templates = [(s, doc, m.group(1)) for s, doc in zip(shards, sets)
                 if (m := re.search(r"-shard([0-9]+)$", s["name"]))]
    if templates:
        first, first_doc, first_shard = templates[0]
        base = normalized(first_doc, first_shard)
        for s, doc, shard in templates[1:]:
            problems.expect(normalized(doc, shard) == base, where(doc), f"StatefulSet {s['name']}",
                            f"differs from {first['name']} in more than the shard number (a "
                            f"shard<S>/kustomization.yaml may only number the template)")

    # The governing service: headless, publishes not-ready pods, both ports, selects the pods.
    for name in {s["service"] for s in shards}:
        svc = services.get(name)
        if not problems.expect(svc, K8S_DIR, f"Service {name}",
                               "is the StatefulSets' serviceName but is not defined"):
            continue
        spec, sf = svc.get("spec") or {}, f"Service {name}.spec"
        problems.expect(spec.get("clusterIP") == "None", where(svc), f"{sf}.clusterIP",
                        "must be None (headless: one DNS record per pod)")
        problems.expect(spec.get("publishNotReadyAddresses") is True, where(svc),
                        f"{sf}.publishNotReadyAddresses",
                        "must be true: peers must resolve a pod before it is ready")
        ports = {p.get("port") for p in spec.get("ports") or []}
        problems.expect({6379, 16379} <= ports, where(svc), f"{sf}.ports",
                        f"must include 6379 and 16379, found {sorted(ports)}")
        for s in shards:
            problems.expect(all(s["labels"].get(k) == v
                                for k, v in (spec.get("selector") or {}).items())
                            and spec.get("selector"), where(svc), f"{sf}.selector",
                            f"does not select {s['name']}'s pods")

    # The Secret: in the manifests, or created by the README's instructions.
    readme = read(f"{K8S_DIR}/README.md") if os.path.isfile(
        os.path.join(REPO, K8S_DIR, "README.md")) else ""
    problems.expect(readme, f"{K8S_DIR}/README.md", "file", "missing")
    for secret in {s.get("secret") for s in shards if s.get("secret")}:
        name, key = secret
        defined = any(d.get("kind") == "Secret" and d["metadata"]["name"] == name for d in docs)
        documented = re.search(rf"kubectl create secret generic {re.escape(name)}\b.*"
                               rf"--from-\w+={re.escape(key)}\b", readme.replace("\\\n", " "))
        problems.expect(defined or documented, f"{K8S_DIR}/README.md", f"Secret {name}",
                        f"the pods mount key {key!r} of Secret {name}, which neither the "
                        "manifests define nor the README creates")

    # The init image is the one kustomize can point at a registry: rendered as an `images` entry
    # of a kustomization in the tree sets it (`kustomize edit set image` changes that entry).
    entries = [i for k in tree.values() for i in k.get("images") or [] if isinstance(i, dict)]
    for s in sets:
        for c in s["spec"]["template"]["spec"].get("initContainers") or []:
            name = c.get("image", "")
            repo = name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name
            problems.expect(any(repo == (i.get("newName") or i.get("name")) for i in entries),
                            where(s), f"StatefulSet {s['metadata']['name']} initContainers"
                            f"[{c.get('name')}].image",
                            f"{name} is set by no `images` entry of the kustomizations of "
                            f"{K8S_DIR} (found {entries}): `kustomize edit set image` could not "
                            "point it at a registry")


def check(problems: Problems, binary: Binary) -> None:
    deploy_checks.require_kubectl(K8S_DIR)
    check_kubernetes(problems, binary, deploy_checks.dockerfile_image())


if __name__ == "__main__":
    deploy_checks.run(check)
