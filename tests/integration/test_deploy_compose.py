#!/usr/bin/env python3
"""docker/compose.yml, checked offline against the binary (no Docker engine): one init service built
from docker/Dockerfile installs the binary into a named volume; six redis:7 services, each running
`/scripts/redis-cluster-init run -- redis-server ...`, named and aliased as the StatefulSet pods
would be (<pod>.<service>.<namespace>.svc.<domain>) on fixed addresses of one network, each with
its own /data volume, the password from a compose secret's file (never a literal, and kept out of
the image's build context), a healthcheck running `probe readiness`; every variable and flag one the
binary reads, and each service's environment accepted by `plan`. The shared checks are in
tests/testbed/deploy_checks.py.
"""

import ipaddress
import os
import shlex
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import deploy_checks  # noqa: E402
from deploy_checks import (  # noqa: E402
    BINARY_NAME, COMPOSE, DOCKERFILE, DOCKERIGNORE, REPO, Binary, Invocation, Problems,
    check_env_names, check_invocation, check_no_literal_secret, check_pod_names,
    check_probe_timeout, check_run, install_dir, int_env, read, runs_binary, validate_with_plan,
    yaml)


def compose_env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def compose_volumes(service: dict) -> dict:
    """mount path -> source (named volume or host path)."""
    result = {}
    for v in service.get("volumes") or []:
        if isinstance(v, str):
            parts = v.split(":")
            if len(parts) >= 2:
                result[parts[1]] = parts[0]
        else:
            result[v.get("target")] = v.get("source")
    return result


def as_argv(value):
    return shlex.split(value) if isinstance(value, str) else list(value or [])


def check_compose(problems: Problems, binary: Binary, image: dict) -> None:
    try:
        doc = yaml.safe_load(read(COMPOSE)) or {}
    except yaml.YAMLError as error:
        problems.add(COMPOSE, "YAML", str(error).replace("\n", " "))
        return
    services = doc.get("services") or {}
    volumes = doc.get("volumes") or {}
    secrets = doc.get("secrets") or {}
    networks = doc.get("networks") or {}

    # The init service: built from docker/Dockerfile, installs into a named volume.
    built = {name: s for name, s in services.items() if isinstance(s.get("build"), (dict, str))}
    scripts_dir, scripts_volume = "/scripts", None
    if problems.expect(len(built) == 1, COMPOSE, "services.*.build",
                       f"needs one service built from {DOCKERFILE}, found {sorted(built)}"):
        init_name, init = next(iter(built.items()))
        f = f"services.{init_name}"
        build = init["build"] if isinstance(init["build"], dict) else {"context": init["build"]}
        context = os.path.normpath(os.path.join(os.path.dirname(COMPOSE),
                                                build.get("context", ".")))
        dockerfile = os.path.normpath(os.path.join(context, build.get("dockerfile",
                                                                      "Dockerfile")))
        problems.expect(dockerfile == DOCKERFILE and context == ".", COMPOSE, f"{f}.build",
                        f"must build {DOCKERFILE} with the repository root as context, "
                        f"builds {dockerfile} from {context}")
        argv = (as_argv(init.get("entrypoint")) or image["entrypoint"] or []) + (
            as_argv(init.get("command")) if "command" in init else image["cmd"] or [])
        inv = Invocation(COMPOSE, f"{f}.command", argv)
        if problems.expect(runs_binary(argv), COMPOSE, f"{f}.command",
                           f"must run {BINARY_NAME} install /scripts, runs {argv}"):
            check_invocation(problems, binary, inv)
            scripts_dir = install_dir(problems, COMPOSE, inv.field, inv) or scripts_dir
        scripts_volume = compose_volumes(init).get(scripts_dir)
        problems.expect(scripts_volume in volumes, COMPOSE, f"{f}.volumes",
                        f"must mount a named volume (declared under volumes:) at {scripts_dir}, "
                        f"found {scripts_volume}")

    redis = {name: s for name, s in services.items() if name not in built}
    problems.expect(len(redis) == 6, COMPOSE, "services",
                    f"needs six redis services (3 shards x 1 replica), found {len(redis)}")
    addresses, data_volumes = {}, {}
    shards_seen, replicas_seen = set(), set()
    for name, s in redis.items():
        f = f"services.{name}"
        problems.expect(str(s.get("image", "")).startswith("redis:7"), COMPOSE, f"{f}.image",
                        f"must be an official redis:7 image, found {s.get('image')}")
        argv = as_argv(s.get("entrypoint")) + as_argv(s.get("command"))
        inv = Invocation(COMPOSE, f"{f}.entrypoint", argv)
        if problems.expect(runs_binary(argv), COMPOSE, inv.field,
                           f"must be {scripts_dir}/{BINARY_NAME} run -- redis-server ..., "
                           f"found {argv}"):
            check_invocation(problems, binary, inv)
            check_run(problems, COMPOSE, inv.field, inv, scripts_dir)
        mounts = compose_volumes(s)
        problems.expect(mounts.get(scripts_dir) == scripts_volume and scripts_volume,
                        COMPOSE, f"{f}.volumes",
                        f"must mount {scripts_volume} (the init service's volume) at "
                        f"{scripts_dir}, found {mounts.get(scripts_dir)}")
        data = mounts.get("/data")
        if problems.expect(data in volumes, COMPOSE, f"{f}.volumes",
                           f"needs its own named volume at /data (nodes.conf), found {data}"):
            problems.expect(data not in data_volumes, COMPOSE, f"{f}.volumes",
                            f"/data volume {data} is shared with {data_volumes.get(data)}")
            data_volumes[data] = name
        depends = s.get("depends_on") or {}
        condition = (depends.get(next(iter(built), "")) or {}).get("condition") \
            if isinstance(depends, dict) else None
        problems.expect(condition == "service_completed_successfully", COMPOSE,
                        f"{f}.depends_on", "must wait for the init service to complete "
                        "(condition: service_completed_successfully)")

        env = compose_env(s)
        check_env_names(problems, binary, COMPOSE, f"{f}.environment", env, inv)
        check_no_literal_secret(problems, COMPOSE, f"{f}.environment", env)
        problems.expect(env.get("POD_NAME") == name == s.get("hostname", name), COMPOSE,
                        f"{f}.environment.POD_NAME",
                        f"must equal the service name and hostname {name}, found "
                        f"{env.get('POD_NAME')} / {s.get('hostname')}")
        n = int_env(problems, COMPOSE, f"{f}.environment", env, "SHARDS")
        r = int_env(problems, COMPOSE, f"{f}.environment", env, "REPLICAS")
        shards_seen.add(n)
        replicas_seen.add(r)

        # DNS: the alias a StatefulSet pod would have; POD_IP is its fixed address.
        domain = env.get("CLUSTER_DOMAIN") or "cluster.local"
        fqdn = f"{env.get('POD_NAME')}.{env.get('GOVERNING_SERVICE')}." \
               f"{env.get('POD_NAMESPACE')}.svc.{domain}"
        nets = s.get("networks") or {}
        if not problems.expect(isinstance(nets, dict) and len(nets) == 1, COMPOSE,
                               f"{f}.networks", "must join exactly one declared network with "
                               "an ipv4_address and aliases"):
            continue
        net_name, net = next(iter(nets.items()))
        net = net or {}
        problems.expect(fqdn in (net.get("aliases") or []), COMPOSE,
                        f"{f}.networks.{net_name}.aliases",
                        f"must include {fqdn} (<pod>.<service>.<namespace>.svc.<domain>)")
        ip = net.get("ipv4_address")
        problems.expect(ip and env.get("POD_IP") == ip, COMPOSE, f"{f}.environment.POD_IP",
                        f"{env.get('POD_IP')} is not the service's ipv4_address {ip}")
        subnets = [c.get("subnet") for c in
                   (((networks.get(net_name) or {}).get("ipam") or {}).get("config") or [])]
        try:
            inside = ip and any(ipaddress.ip_address(ip) in ipaddress.ip_network(subnet)
                                for subnet in subnets if subnet)
        except ValueError:
            inside = False
        problems.expect(inside, COMPOSE, f"{f}.networks.{net_name}.ipv4_address",
                        f"{ip} is not in the subnet declared for network {net_name} {subnets}")
        problems.expect(ip not in addresses, COMPOSE, f"{f}.networks.{net_name}.ipv4_address",
                        f"{ip} is also {addresses.get(ip)}'s")
        addresses[ip] = name

        # The password: a compose secret, read from its file.
        listed = [x if isinstance(x, str) else x.get("source") for x in s.get("secrets") or []]
        password_file = env.get("REDIS_PASSWORD_FILE") or ""
        secret = password_file[len("/run/secrets/"):] \
            if password_file.startswith("/run/secrets/") else None
        problems.expect(secret and secret in listed and secret in secrets, COMPOSE,
                        f"{f}.environment.REDIS_PASSWORD_FILE",
                        f"must be /run/secrets/<a secret this service lists>, found "
                        f"{password_file or '(unset)'} with secrets {listed}")

        test = as_argv((s.get("healthcheck") or {}).get("test"))
        if test[:1] in (["CMD"], ["CMD-SHELL"]):
            test = test[1:] if test[0] == "CMD" else shlex.split(test[1])
        if problems.expect(runs_binary(test) and test[1:3] == ["probe", "readiness"], COMPOSE,
                           f"{f}.healthcheck.test",
                           f"must run {scripts_dir}/{BINARY_NAME} probe readiness, found {test}"):
            hinv = Invocation(COMPOSE, f"{f}.healthcheck.test", test)
            check_invocation(problems, binary, hinv)
            check_probe_timeout(problems, binary, hinv, env)
        if problems.items and any(p.startswith(f"{COMPOSE}: {f}.environment") for p in
                                  problems.items):
            continue
        validate_with_plan(problems, binary, COMPOSE, f"{f}.environment",
                           {k: v for k, v in env.items() if v is not None})

    problems.expect(len(shards_seen) == 1 and len(replicas_seen) == 1, COMPOSE,
                    "services.*.environment", f"SHARDS {shards_seen} and REPLICAS "
                    f"{replicas_seen} must be the same in every service")
    if len(shards_seen) == 1 and len(replicas_seen) == 1 and None not in shards_seen | \
            replicas_seen:
        check_pod_names(problems, COMPOSE, "services", list(redis), next(iter(shards_seen)),
                        next(iter(replicas_seen)))
    for name, secret in secrets.items():
        path = (secret or {}).get("file")
        if path:
            rel = os.path.normpath(os.path.join(os.path.dirname(COMPOSE), path))
            ignored = os.path.isfile(os.path.join(REPO, DOCKERIGNORE)) and \
                rel in read(DOCKERIGNORE).split()
            problems.expect(ignored, DOCKERIGNORE, "patterns",
                            f"must exclude {rel} (secret {name}) from the image build context")


def check(problems: Problems, binary: Binary) -> None:
    check_compose(problems, binary, deploy_checks.dockerfile_image())


if __name__ == "__main__":
    deploy_checks.run(check)
