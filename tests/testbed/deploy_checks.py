"""What the deployment-file tests share (test_deploy_dockerfile, test_deploy_compose,
test_deploy_kubernetes, test_deploy_kubernetes_tls): the files are checked offline against the
binary they deploy (no Docker engine and no Kubernetes cluster are needed).

What the binary reads is taken from the binary itself: the flags and environment variables of each
subcommand come from its --help (`--pod-name TEXT ... [POD_NAME, HOSTNAME]`), and every pod's
configuration is handed to `redis-cluster-init plan`, which exits 2 on anything it rejects (pod
name, shard count, ...) before any network traffic. A subcommand the files use but the binary does
not have (yet) is a failure, never a skip. Every problem found is printed, each naming the file and
the field; a test fails if there is any.

The Kubernetes examples are checked as `kubectl kustomize` renders them (what `kubectl apply -k`
sends), each problem named by the file that defines the object: without kubectl those tests skip,
saying how to install it.

    def check(problems, binary): ...
    if __name__ == "__main__":
        deploy_checks.run(check)
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import itest

try:
    import yaml
except ImportError:
    print("SKIP: PyYAML is not installed (Debian: apt-get install python3-yaml)", flush=True)
    sys.exit(itest.SKIP)

import kustomization  # noqa: E402  (needs yaml)

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DOCKERFILE = "docker/Dockerfile"
DOCKERIGNORE = ".dockerignore"
COMPOSE = "docker/compose.yml"
K8S_DIR = "examples/kubernetes"
TLS_DIR = "examples/kubernetes-tls"
BINARY_NAME = "redis-cluster-init"
POD_NAME_RE = re.compile(r"^(?P<prefix>[a-z0-9]([a-z0-9-]*[a-z0-9])?)-shard(?P<shard>0|[1-9][0-9]*)"
                         r"-(?P<ordinal>0|[1-9][0-9]*)$")
STATEFULSET_NAME_RE = re.compile(r"^[a-z0-9-]+-shard[0-9]+$")
# Environment variables that would carry a secret if given a literal value.
SECRET_ENV_RE = re.compile(r"PASSWORD|PASS$|AUTH|SECRET|TOKEN", re.IGNORECASE)
# Where `plan` looks for this pod's redis-server: nothing listens there (the test bed uses
# 127.16.x.y and 198.18.0.0/15).
UNUSED_LOOPBACK = "127.255.255.254"
# Ways a password reaches redis-server or redis-cli on the command line.
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


def dockerfile_image() -> dict:
    """The image's entrypoint and default command, for the files that run it. Problems in the
    Dockerfile are test_deploy_dockerfile's to report, not every test's."""
    return check_dockerfile(Problems())


# ---------------------------------------------------------------------------------------------
# Kubernetes: the examples as kubectl renders them.

# kubectl 1.20's kustomize (Debian 12's kubernetes-client) is the oldest the examples support:
# newer ones warn that the fields it needs are deprecated (see examples/kubernetes/
# kustomization.yaml). Those warnings are expected; any other is shown.
DEPRECATION_WARNING = re.compile(r"^# Warning: '[A-Za-z0-9]+' is deprecated\b")


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


def require_kubectl(directory: str) -> None:
    """Skips the test, saying how to enable it, where kubectl is not installed."""
    if shutil.which("kubectl") is None:
        print(f"SKIP: kubectl is not installed, so {directory} cannot be rendered as "
              "`kubectl apply -k` renders it; install kubectl 1.20 or later (Debian 12: "
              "apt-get install kubernetes-client) to run this test", flush=True)
        sys.exit(itest.SKIP)


class Rendered:
    """`kubectl kustomize <directory>`: its documents, and for each the file defining it."""

    def __init__(self, problems: Problems, directory: str):
        self.directory = directory
        self.docs = []
        self.ok = False
        self._source = {}  # id(document) -> the file defining it
        done = subprocess.run(["kubectl", "kustomize", os.path.join(REPO, directory)],
                              capture_output=True, text=True, timeout=120)
        other = [line for line in done.stderr.splitlines()
                 if line.strip() and not DEPRECATION_WARNING.match(line)]
        if not problems.expect(done.returncode == 0, directory, "kubectl kustomize",
                               f"does not render: {' '.join(other) or 'no message'}"):
            return
        for line in other:
            print(f"[deploy] {directory}: kubectl kustomize: {line}", flush=True)
        try:
            loaded = list(yaml.safe_load_all(done.stdout))
        except yaml.YAMLError as error:
            problems.add(directory, "kubectl kustomize", "prints no YAML: " +
                         str(error).replace("\n", " "))
            return
        defined = kustomization.definitions(os.path.join(REPO, directory))
        for d in loaded:
            if d is None:
                continue
            if not problems.expect(isinstance(d, dict) and d.get("kind") and
                                   (d.get("metadata") or {}).get("name"), directory, "document",
                                   f"every document needs kind and metadata.name: {d!r:.100}"):
                continue
            source = kustomization.source_of(defined, d["kind"], d["metadata"]["name"])
            self._source[id(d)] = os.path.relpath(source, REPO) if source else directory
            self.docs.append(d)
        self.ok = True
        kinds = sorted({d["kind"] for d in self.docs})
        print(f"[deploy] {directory}: kubectl kustomize renders {len(self.docs)} documents "
              f"({', '.join(kinds)})", flush=True)

    def where(self, doc) -> str:
        """The file that defines `doc` (the kustomization directory when none is found)."""
        return self._source.get(id(doc), self.directory)

    def of_kind(self, kind: str) -> list:
        return [d for d in self.docs if d.get("kind") == kind]


def check_tree(problems: Problems, directory: str) -> dict:
    """Every manifest under `directory` is deployed: each YAML file is named by a kustomization
    that `directory`'s own reaches, and each kustomization there is reached; every name points
    at a file that exists. Returns the tree (kustomization directory -> its content)."""
    root = os.path.join(REPO, directory)
    try:
        tree = kustomization.walk(root)
    except (OSError, yaml.YAMLError) as error:
        problems.add(directory, "kustomization.yaml", str(error).replace("\n", " "))
        return {}
    named = kustomization.named_files(root)
    rel = lambda p: os.path.relpath(p, REPO)  # noqa: E731
    for path, (d, field) in sorted(named.items()):
        problems.expect(os.path.isfile(path), rel(kustomization.file_of(d)), field,
                        f"names {os.path.relpath(path, d)}, which does not exist")
    for parent, _, files in os.walk(root):
        if kustomization.file_of(parent) and os.path.normpath(parent) not in tree:
            problems.add(rel(kustomization.file_of(parent)), "file",
                         f"no kustomization reached from {directory} uses this directory: "
                         "it is neither deployed nor checked")
        for name in files:
            path = os.path.normpath(os.path.join(parent, name))
            if name.endswith((".yaml", ".yml")) and name not in kustomization.NAMES and \
                    path not in named:
                problems.add(rel(path), "file", f"no kustomization reached from {directory} "
                             "names this file: it is neither deployed nor checked")
    return tree


# ---------------------------------------------------------------------------------------------

def run(check, needs_binary: bool = True) -> None:
    """A deployment-file test: check(problems, binary) collects problems; each is printed, and
    the test fails if there is any. binary is None when needs_binary is False."""
    def main():
        binary = None
        if needs_binary:
            binary = Binary(itest.require_binary())
            bootstrap = binary.help("bootstrap")
            if not bootstrap.ok or not bootstrap.env:
                itest.fail(f"cannot read the binary's options: {bootstrap.why_not()}")
            print(f"[deploy] the binary reads {', '.join(sorted(binary.known_env()))}",
                  flush=True)
        problems = Problems()
        check(problems, binary)
        lines = problems.report()
        for line in lines:
            print(f"  {line}", file=sys.stderr, flush=True)
        if lines:
            itest.fail(f"{len(lines)} problem(s) in the deployment files (listed above)")
    itest.run(main, tools=(), needs_binary=needs_binary)
