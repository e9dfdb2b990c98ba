#!/usr/bin/env python3
"""The deployment files, checked offline against the binary they deploy (no Docker engine and no
Kubernetes cluster are needed): docker/Dockerfile, docker/compose.yml and examples/kubernetes/.

What the binary reads is taken from the binary itself: the flags and environment variables of each
subcommand come from its --help (`--pod-name TEXT ... [POD_NAME, HOSTNAME]`), and every pod's
configuration is handed to `redis-cluster-init plan`, which exits 2 on anything it rejects (pod
name, shard count, ...) before any network traffic. A subcommand the files use but the binary does
not have (yet) is a failure, never a skip. Every problem found is printed, each naming the file and
the field; the test fails if there is any.
"""

import ipaddress
import json
import os
import shutil
import re
import shlex
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is not installed (Debian: apt-get install python3-yaml)", flush=True)
    sys.exit(itest.SKIP)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCKERFILE = "docker/Dockerfile"
DOCKERIGNORE = ".dockerignore"
COMPOSE = "docker/compose.yml"
K8S_DIR = "examples/kubernetes"
BINARY_NAME = "redis-cluster-init"
POD_NAME_RE = re.compile(r"^(?P<prefix>[a-z0-9]([a-z0-9-]*[a-z0-9])?)-shard(?P<shard>0|[1-9][0-9]*)"
                         r"-(?P<ordinal>0|[1-9][0-9]*)$")
STATEFULSET_NAME_RE = re.compile(r"^[a-z0-9-]+-shard[0-9]+$")
# Environment variables that would carry a secret if given a literal value.
SECRET_ENV_RE = re.compile(r"PASSWORD|PASS$|AUTH|SECRET|TOKEN", re.IGNORECASE)
# Ways a password reaches redis-server or redis-cli on the command line.
# Where `plan` looks for this pod's redis-server: nothing listens there (the test bed uses
# 127.16.x.y and 198.18.0.0/15).
UNUSED_LOOPBACK = "127.255.255.254"
SECRET_ARGS = ("--requirepass", "--masterauth", "requirepass", "masterauth", "--pass", "-a",
               "--password", "--askpass")


class Problems:
    """Every problem found, each prefixed with the file and the field it concerns."""

    def __init__(self):
        self.items = []
        self.missing = {}  # subcommand the binary lacks -> (why, [where: field using it])

    def add(self, where: str, field: str, message: str) -> None:
        self.items.append(f"{where}: {field}: {message}")

    def expect(self, condition, where: str, field: str, message: str) -> bool:
        if not condition:
            self.add(where, field, message)
        return bool(condition)

    def missing_subcommand(self, subcommand: str, why: str, where: str, field: str) -> None:
        self.missing.setdefault(subcommand, (why, []))[1].append(f"{where}: {field}")

    def report(self) -> list:
        lines = list(dict.fromkeys(self.items))  # a shared ConfigMap is checked per StatefulSet
        for subcommand, (why, uses) in sorted(self.missing.items()):
            lines.append(f"the binary has no subcommand `{subcommand}` ({why}); "
                         f"{len(uses)} uses:\n      " + "\n      ".join(uses))
        return lines


def read(path: str) -> str:
    with open(os.path.join(REPO, path), encoding="utf-8") as f:
        return f.read()


# ---------------------------------------------------------------------------------------------
# The binary: what each subcommand accepts, from its --help.

class Help:
    """One subcommand's --help: the flags it accepts and the environment variables it reads."""

    def __init__(self, argv, returncode, text):
        self.argv = argv
        self.ok = returncode == 0 and "Usage:" in text
        self.returncode = returncode
        self.text = text
        self.flags = set(re.findall(r"^\s+(?:-\w,\s*)?(--[a-z0-9][a-z0-9-]*)", text, re.M))
        self.env = set()
        self.flag_env = {}  # flag -> the variables it falls back to
        for line in text.splitlines():
            flag = re.match(r"^\s+(?:-\w,\s*)?(--[a-z0-9][a-z0-9-]*)", line)
            if not flag:
                continue
            brackets = re.findall(r"\[([A-Z][A-Z0-9_]*(?:\s*,\s*[A-Z][A-Z0-9_]*)*)\]", line)
            for group in brackets:
                names = [name.strip() for name in group.split(",")]
                self.env.update(names)
                self.flag_env.setdefault(flag.group(1), []).extend(names)
            # "(else env REDIS_PASSWORD or REDISCLI_AUTH)"
            for words in re.findall(r"\benv ([A-Z][A-Z0-9_]*(?:\s+or\s+[A-Z][A-Z0-9_]*)*)", line):
                self.env.update(re.findall(r"[A-Z][A-Z0-9_]*", words.replace(" or ", " ")))

    def why_not(self) -> str:
        first = (self.text.strip().splitlines() or ["no output"])[0]
        return f"`{' '.join(self.argv[1:])}` exits {self.returncode}: {first}"


class Binary:
    def __init__(self, path: str):
        self.path = path
        self._helps = {}

    def help(self, *words) -> Help:
        if words not in self._helps:
            argv = [self.path, *words, "--help"]
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10,
                                  env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
            self._helps[words] = Help(argv, done.returncode, done.stdout + done.stderr)
        return self._helps[words]

    def subcommand_help(self, subcommand: str, rest) -> Help:
        """`probe readiness --help` when that works (a sub-subcommand or a positional with
        its own help), else `probe --help`."""
        if rest and not rest[0].startswith("-"):
            deeper = self.help(subcommand, rest[0])
            if deeper.ok:
                return deeper
        return self.help(subcommand)

    def known_env(self) -> set:
        names = set()
        for words in (("bootstrap",), ("run",), ("probe",), ("install",)):
            h = self.help(*words)
            if h.ok:
                names |= h.env
        return names


# ---------------------------------------------------------------------------------------------
# Invocations of the binary found in the files.

class Invocation:
    """One command line that runs the binary: where it is, and its argv."""

    def __init__(self, where: str, field: str, argv):
        self.where = where
        self.field = field
        self.argv = [str(a) for a in argv]

    @property
    def subcommand(self):
        return self.argv[1] if len(self.argv) > 1 else None

    def own_args(self):
        """The binary's own arguments: after the subcommand, up to `--`."""
        rest = self.argv[2:]
        return rest[:rest.index("--")] if "--" in rest else rest

    def after_dashes(self):
        rest = self.argv[2:]
        return rest[rest.index("--") + 1:] if "--" in rest else []


def runs_binary(argv) -> bool:
    return bool(argv) and os.path.basename(str(argv[0])) == BINARY_NAME


def check_invocation(problems: Problems, binary: Binary, inv: Invocation) -> None:
    """Every flag the file passes exists in that subcommand's --help; the subcommand exists."""
    if inv.subcommand is None:
        problems.add(inv.where, inv.field, f"runs {BINARY_NAME} without a subcommand")
        return
    help_ = binary.subcommand_help(inv.subcommand, inv.own_args())
    if not help_.ok:
        problems.missing_subcommand(inv.subcommand, help_.why_not(), inv.where, inv.field)
        return
    for token in inv.own_args():
        if token.startswith("--"):
            flag = token.split("=", 1)[0]
            problems.expect(flag in help_.flags, inv.where, inv.field,
                            f"flag {flag} is not in `{inv.subcommand} --help` "
                            f"(it accepts {', '.join(sorted(help_.flags))})")
    for token in inv.argv:
        problems.expect(token not in SECRET_ARGS, inv.where, inv.field,
                        f"passes a password on the command line ({token})")


def check_probe_timeout(problems: Problems, binary: Binary, inv: Invocation, env: dict) -> None:
    """A probe runs with the container's environment: if that sets the variable behind the
    probe's --timeout (the bootstrap deadline, 300 s by default), the probe must override it."""
    help_ = binary.subcommand_help(inv.subcommand, inv.own_args())
    if not help_.ok or "--timeout" in inv.own_args():
        return
    for var in help_.flag_env.get("--timeout", []):
        problems.expect(var not in env, inv.where, inv.field,
                        f"the container sets {var}, which `{inv.subcommand}` would take as its "
                        "--timeout: pass --timeout explicitly")


def check_env_names(problems: Problems, binary: Binary, where: str, field: str, env: dict,
                    runner: Invocation) -> None:
    """Every variable set is one the binary reads: the subcommand the container runs, if the
    binary has it, else any subcommand."""
    known = binary.known_env()
    help_ = binary.help(runner.subcommand) if runner and runner.subcommand else None
    for name in env:
        if help_ is not None and help_.ok:
            problems.expect(name in help_.env, where, f"{field}.{name}",
                            f"`{runner.subcommand}` does not read {name} "
                            f"(its --help lists {', '.join(sorted(help_.env))})")
        else:
            problems.expect(name in known, where, f"{field}.{name}",
                            f"the binary reads no variable {name} (its --help lists "
                            f"{', '.join(sorted(known))})")


def check_no_literal_secret(problems: Problems, where: str, field: str, env_values: dict) -> None:
    """env_values: name -> literal value (None when it comes from elsewhere, e.g. a Secret)."""
    for name, value in env_values.items():
        if value is None or name.endswith("_FILE"):
            continue
        problems.expect(not SECRET_ENV_RE.search(name), where, f"{field}.{name}",
                        "a password must come from a file (REDIS_PASSWORD_FILE), "
                        "not a literal value")


def validate_with_plan(problems: Problems, binary: Binary, where: str, field: str,
                       env: dict) -> None:
    """Hands one pod's environment to `plan`: exit 2 means the binary rejects the configuration.
    Flags keep it offline: the pod's address becomes a loopback address nothing listens on
    (refused at once; the port stays the pod's own, so REDIS_PORT is checked too) and DNS goes to
    a closed loopback port."""
    env = dict(env)
    with tempfile.NamedTemporaryFile("w", prefix="rci-deploy-pw-", delete=False) as f:
        f.write("not-the-password\n")
        password_file = f.name
    try:
        if "REDIS_PASSWORD_FILE" in env:
            env["REDIS_PASSWORD_FILE"] = password_file
        env["PATH"] = os.environ.get("PATH", "/usr/bin:/bin")
        argv = [binary.path, "plan", "--pod-ip", UNUSED_LOOPBACK, "--dns-server", "127.0.0.1:9",
                "--timeout", "2", "--connect-timeout-ms", "200", "--command-timeout-ms", "200",
                "--json"]
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)
    finally:
        os.unlink(password_file)
    if done.returncode != 0:
        message = (done.stderr.strip().splitlines() or ["no message"])[-1]
        problems.add(where, field, f"`plan` with this pod's environment exits "
                                   f"{done.returncode}: {message}")
        return
    try:
        json.loads(done.stdout)
    except ValueError:
        problems.add(where, field, f"`plan --json` printed no JSON: {done.stdout[:200]!r}")


def check_pod_names(problems: Problems, where: str, field: str, names, shards: int,
                    replicas: int) -> None:
    """The pods are exactly <prefix>-shard<S>-<O> for S < shards and O <= replicas."""
    parsed = []
    for name in names:
        m = POD_NAME_RE.match(name)
        if problems.expect(m, where, field,
                           f"pod name {name!r} is not <prefix>-shard<S>-<ordinal>"):
            parsed.append((m["prefix"], int(m["shard"]), int(m["ordinal"])))
    prefixes = {p for p, _, _ in parsed}
    problems.expect(len(prefixes) <= 1, where, field,
                    f"pods use different prefixes {sorted(prefixes)}: one cluster has one prefix")
    want = {(s, o) for s in range(shards) for o in range(replicas + 1)}
    have = [(s, o) for _, s, o in parsed]
    problems.expect(sorted(have) == sorted(want), where, field,
                    f"pods {sorted(names)} are not shards 0..{shards - 1} x ordinals "
                    f"0..{replicas} (SHARDS={shards}, REPLICAS={replicas})")


# Seconds the examples leave redis-server for its final save after a handover.
SAVE_SECONDS = 30


def int_env(problems: Problems, where: str, field: str, env: dict, name: str):
    value = env.get(name)
    try:
        return int(value)
    except (TypeError, ValueError):
        problems.add(where, f"{field}.{name}", f"must be a literal number, found {value!r}")
        return None


# ---------------------------------------------------------------------------------------------
# docker/Dockerfile

def dockerfile_instructions(text: str):
    """(keyword, arguments) for each instruction, continuation lines joined, comments dropped."""
    result, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        full = pending + stripped
        pending = ""
        keyword, _, args = full.partition(" ")
        result.append((keyword.upper(), args.strip()))
    return result


def exec_form(problems: Problems, field: str, args: str):
    try:
        value = json.loads(args)
    except ValueError:
        value = None
    if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        problems.add(DOCKERFILE, field, f"must be exec form (a JSON array): {args}")
        return None
    return value


def check_dockerfile(problems: Problems) -> dict:
    """Returns what the other checks need: the image's entrypoint and default command."""
    stages = []
    for keyword, args in dockerfile_instructions(read(DOCKERFILE)):
        if keyword == "FROM":
            words = args.split()
            words = [w for w in words if not w.startswith("--platform")]
            alias = words[2] if len(words) >= 3 and words[1].upper() == "AS" else None
            stages.append({"image": words[0], "alias": alias, "body": []})
        elif problems.expect(stages, DOCKERFILE, keyword, "comes before the first FROM"):
            stages[-1]["body"].append((keyword, args))
    image = {"entrypoint": None, "cmd": None}
    if not problems.expect(len(stages) >= 2, DOCKERFILE, "FROM",
                           f"needs a build stage and a final stage, found {len(stages)}"):
        return image
    build, final = stages[0], stages[-1]
    problems.expect(build["image"] == "debian:12" and build["alias"], DOCKERFILE, "FROM (stage 1)",
                    f"must be `FROM debian:12 AS <name>`, found {build['image']} "
                    f"AS {build['alias']}")
    problems.expect(final["image"] == "scratch", DOCKERFILE, "FROM (final stage)",
                    f"must be scratch (the binary alone), found {final['image']}")

    # The build stage runs the README's commands: the `bash scripts/...` lines of demo.sh.
    readme = read("README.md")
    problems.expect("./scripts/demo.sh" in readme, "README.md", "Set-up",
                    "no longer shows ./scripts/demo.sh, whose build steps the Dockerfile repeats")
    readme_steps = re.findall(r"^bash (scripts/\S+\.sh)\s*$", read("scripts/demo.sh"), re.M)
    runs = [args for keyword, args in build["body"] if keyword == "RUN"]
    run_steps = [step for args in runs for step in re.findall(r"\bbash (scripts/\S+\.sh)", args)]
    problems.expect(run_steps == readme_steps and readme_steps, DOCKERFILE, "RUN (build stage)",
                    f"runs {run_steps}, but the README's set-up (scripts/demo.sh) runs "
                    f"{readme_steps}")
    for step in run_steps:
        problems.expect(os.path.isfile(os.path.join(REPO, step)), DOCKERFILE, "RUN",
                        f"{step} does not exist")
    copies = [args for keyword, args in build["body"] if keyword in ("COPY", "ADD")]
    problems.expect(any(args.split() == [".", "."] for args in copies), DOCKERFILE,
                    "COPY (build stage)", "must copy the whole source tree (`COPY . .`)")
    workdir = next((args for keyword, args in build["body"] if keyword == "WORKDIR"), "/")

    # The final stage holds the binary and nothing else.
    final_copies = [(k, a) for k, a in final["body"] if k in ("COPY", "ADD", "RUN")]
    problems.expect(len(final_copies) == 1, DOCKERFILE, "final stage",
                    f"must add only the binary, found {[f'{k} {a}' for k, a in final_copies]}")
    binary_in_image = None
    for keyword, args in final_copies:
        words = args.split()
        source_stage = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
        paths = [w for w in words if not w.startswith("--")]
        if not problems.expect(keyword == "COPY" and source_stage in (build["alias"], "0")
                               and len(paths) == 2, DOCKERFILE, f"{keyword} (final stage)",
                               f"must be `COPY --from={build['alias']} <binary> <path>`: {args}"):
            continue
        built = os.path.normpath(os.path.join(workdir, "build", BINARY_NAME))
        problems.expect(os.path.normpath(paths[0]) == built, DOCKERFILE, "COPY --from",
                        f"copies {paths[0]}, but scripts/build.sh writes {built} "
                        f"(WORKDIR {workdir} + build/{BINARY_NAME})")
        problems.expect(f"build/{BINARY_NAME}" in read("scripts/build.sh"), "scripts/build.sh",
                        "output", f"no longer names build/{BINARY_NAME}")
        binary_in_image = paths[1]
        problems.expect(binary_in_image == f"/{BINARY_NAME}", DOCKERFILE, "COPY --from",
                        f"must install the binary at /{BINARY_NAME}, found {binary_in_image}")

    for keyword in ("ENTRYPOINT", "CMD"):
        found = [args for k, args in final["body"] if k == keyword]
        if problems.expect(len(found) == 1, DOCKERFILE, keyword,
                           f"the final stage needs exactly one {keyword}"):
            image[keyword.lower() if keyword == "CMD" else "entrypoint"] = exec_form(
                problems, keyword, found[0])
    problems.expect(image["entrypoint"] == [f"/{BINARY_NAME}"], DOCKERFILE, "ENTRYPOINT",
                    f"must be [\"/{BINARY_NAME}\"], found {image['entrypoint']}")
    problems.expect(image["cmd"] == ["install", "/scripts"], DOCKERFILE, "CMD",
                    f"must be [\"install\", \"/scripts\"], found {image['cmd']}")

    # A host build/ in the context would carry a CMakeCache.txt made for another source path.
    ignore_path = os.path.join(REPO, DOCKERIGNORE)
    if problems.expect(os.path.isfile(ignore_path), DOCKERIGNORE, "file",
                       "missing: `COPY . .` would send build/ and .git into the image build"):
        patterns = {line.strip().strip("/") for line in read(DOCKERIGNORE).splitlines()
                    if line.strip() and not line.startswith("#")}
        problems.expect(patterns & {"build", "build*", "build/"}, DOCKERIGNORE, "patterns",
                        "must exclude build/ (its CMakeCache.txt names the host's source path)")
        problems.expect(patterns & {".git"}, DOCKERIGNORE, "patterns", "must exclude .git")
    return image


def install_dir(problems: Problems, where: str, field: str, inv: Invocation):
    """The directory of an `install DIR` invocation."""
    if not problems.expect(inv.subcommand == "install", where, field,
                           f"must run `{BINARY_NAME} install <dir>`, runs {inv.argv}"):
        return None
    positional = [a for a in inv.own_args() if not a.startswith("-")]
    problems.expect(positional == ["/scripts"], where, field,
                    f"must install into /scripts, found {positional}")
    return positional[0] if positional else "/scripts"


def check_run(problems: Problems, where: str, field: str, inv: Invocation, scripts_dir: str):
    problems.expect(inv.argv[0] == f"{scripts_dir}/{BINARY_NAME}", where, field,
                    f"must run the installed binary {scripts_dir}/{BINARY_NAME}, "
                    f"runs {inv.argv[0]}")
    problems.expect(inv.subcommand == "run", where, field,
                    f"the redis container's entrypoint must be `{BINARY_NAME} run -- "
                    f"redis-server ...`, found {inv.argv[1:3]}")
    server = inv.after_dashes()
    problems.expect(server[:1] == ["redis-server"], where, field,
                    f"must start redis-server after `--`, found {server[:1] or 'nothing'}")
    return server[1:]


# ---------------------------------------------------------------------------------------------
# examples/kubernetes/

def k8s_env(problems: Problems, where: str, field: str, container: dict):
    """name -> literal value (None for valueFrom), and name -> fieldRef path."""
    values, field_refs = {}, {}
    for item in container.get("env") or []:
        name = item.get("name")
        if "value" in item:
            values[name] = str(item["value"])
        else:
            values[name] = None
            ref = (item.get("valueFrom") or {}).get("fieldRef")
            if ref:
                field_refs[name] = ref.get("fieldPath")
    problems.expect(not container.get("envFrom"), where, f"{field}.envFrom",
                    "hides which variables the binary gets: list them under env")
    return values, field_refs


def selects(selector: dict, labels: dict) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def mounts_at(container: dict, path: str):
    for mount in container.get("volumeMounts") or []:
        if mount.get("mountPath") == path:
            return mount
    return None


def mount_containing(container: dict, path: str):
    best = None
    for mount in container.get("volumeMounts") or []:
        root = mount.get("mountPath", "").rstrip("/") + "/"
        if path.startswith(root) and (best is None or len(root) > len(best["mountPath"])):
            best = mount
    return best


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
    folder = os.path.join(REPO, K8S_DIR)
    files = sorted(n for n in os.listdir(folder) if n.endswith((".yaml", ".yml")))
    docs, origin, kustomization = [], {}, None
    kf = f"{K8S_DIR}/kustomization.yaml"
    for name in files:
        where = f"{K8S_DIR}/{name}"
        try:
            loaded = [d for d in yaml.safe_load_all(read(where)) if d is not None]
        except yaml.YAMLError as error:
            problems.add(where, "YAML", str(error).replace("\n", " "))
            continue
        for d in loaded:
            if where == kf:
                kustomization = d
                continue
            if problems.expect(isinstance(d, dict) and d.get("kind") and
                               (d.get("metadata") or {}).get("name"), where, "document",
                               "every document needs kind and metadata.name"):
                origin[id(d)] = where
                docs.append(d)
    if problems.expect(kustomization, kf, "file", "missing"):
        listed = kustomization.get("resources") or []
        others = [n for n in files if n != "kustomization.yaml"]
        problems.expect(sorted(listed) == others, kf, "resources",
                        f"lists {sorted(listed)}, but the folder holds {others}")

    where = lambda d: origin.get(id(d), K8S_DIR)  # noqa: E731
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

    # The shard files are one template: equal once the shard number is taken out.
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
                            f"differs from {first['name']} in more than the shard number")

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
        os.path.join(folder, "README.md")) else ""
    problems.expect(readme, f"{K8S_DIR}/README.md", "file", "missing")
    for secret in {s.get("secret") for s in shards if s.get("secret")}:
        name, key = secret
        defined = any(d.get("kind") == "Secret" and d["metadata"]["name"] == name for d in docs)
        documented = re.search(rf"kubectl create secret generic {re.escape(name)}\b.*"
                               rf"--from-\w+={re.escape(key)}\b", readme.replace("\\\n", " "))
        problems.expect(defined or documented, f"{K8S_DIR}/README.md", f"Secret {name}",
                        f"the pods mount key {key!r} of Secret {name}, which neither the "
                        "manifests define nor the README creates")

    # The init image is the one kustomize can point at a registry.
    images = [i.get("name") for i in (kustomization or {}).get("images") or []]
    for s in sets:
        for c in s["spec"]["template"]["spec"].get("initContainers") or []:
            problems.expect(c.get("image", "").split(":")[0] in images, kf, "images",
                            f"has no entry for {c.get('image')} (the initContainer's image)")


# ---------------------------------------------------------------------------------------------
# docker/compose.yml

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


TLS_DIR = "examples/kubernetes-tls"


def wildcard_match(pattern: str, name: str) -> bool:
    """A certificate name matches as TLS clients match it: `*` stands for one whole label."""
    if pattern.startswith("*."):
        head, _, rest = name.partition(".")
        return bool(head) and rest.lower() == pattern[2:].lower()
    return pattern.lower() == name.lower()


def check_kubernetes_tls(problems: Problems, binary: Binary) -> None:
    """The TLS overlay, as kubectl renders it (offline): every shard's redis container runs with
    TLS on, its files in a mount of the Secret a cert-manager Certificate writes, and that
    certificate holds every pod's FQDN for both server and client use."""
    if shutil.which("kubectl") is None:
        print(f"[deploy] kubectl not installed: {TLS_DIR} not rendered (skipped)", flush=True)
        return
    rendered = subprocess.run(["kubectl", "kustomize", os.path.join(REPO, TLS_DIR)],
                              capture_output=True, text=True, timeout=60)
    if not problems.expect(rendered.returncode == 0, TLS_DIR, "kustomize",
                           f"does not render: {rendered.stderr.strip()}"):
        return
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    certificates = {(d.get("spec") or {}).get("secretName"): d for d in docs
                    if d.get("kind") == "Certificate"}
    sets = [d for d in docs if d.get("kind") == "StatefulSet"]
    problems.expect(len(sets) == 3, TLS_DIR, "StatefulSets", f"renders {len(sets)}, expected 3")
    for sts in sets:
        name = sts["metadata"]["name"]
        f = f"StatefulSet {name}"
        pod_spec = sts["spec"]["template"]["spec"]
        redis = next(c for c in pod_spec["containers"] if c.get("name") == "redis")
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
    print(f"[deploy] {TLS_DIR}: rendered with kubectl, {len(sets)} StatefulSets on TLS with "
          f"cert-manager's Secret", flush=True)


def main():
    binary = Binary(itest.require_binary())
    problems = Problems()
    bootstrap = binary.help("bootstrap")
    if not bootstrap.ok or not bootstrap.env:
        itest.fail(f"cannot read the binary's options: {bootstrap.why_not()}")
    print(f"[deploy] the binary reads {', '.join(sorted(binary.known_env()))}", flush=True)
    image = check_dockerfile(problems)
    check_kubernetes(problems, binary, image)
    check_kubernetes_tls(problems, binary)
    check_compose(problems, binary, image)
    lines = problems.report()
    for line in lines:
        print(f"  {line}", file=sys.stderr, flush=True)
    if lines:
        itest.fail(f"{len(lines)} problem(s) in the deployment files (listed above)")


if __name__ == "__main__":
    itest.run(main, tools=(), needs_binary=True)
