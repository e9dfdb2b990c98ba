"""A kustomization directory as files: which kustomizations it reaches, which files they name, and
which file defines a rendered object. Only the fields the examples use (those kubectl 1.20's
kustomize knows): resources, bases, patchesStrategicMerge, patchesJson6902.

Rendering is kubectl's (`kubectl kustomize`); this only reads the tree, so that a problem in a
rendered object can name the file it comes from, and a file that no kustomization names (and so
is never deployed, nor checked) is found.
"""

import os

import yaml

NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def file_of(directory: str):
    """The kustomization file of a directory, or None."""
    for name in NAMES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def load(directory: str) -> dict:
    path = file_of(directory)
    if path is None:
        raise FileNotFoundError(f"{directory}: no kustomization.yaml")
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def entries(kustomization: dict):
    """(field, relative path) of every file or directory the kustomization names."""
    for field in ("resources", "bases", "patchesStrategicMerge"):
        for item in kustomization.get(field) or []:
            if isinstance(item, str):
                yield field, item
    for patch in kustomization.get("patchesJson6902") or []:
        if isinstance(patch, dict) and patch.get("path"):
            yield "patchesJson6902", patch["path"]


def walk(directory: str) -> dict:
    """Every kustomization directory reached from `directory` (itself first), each once:
    normalized path -> its parsed kustomization."""
    found = {}

    def visit(d):
        d = os.path.normpath(d)
        if d in found:
            return
        found[d] = load(d)
        for _, rel in entries(found[d]):
            target = os.path.join(d, rel)
            if os.path.isdir(target):
                visit(target)

    visit(directory)
    return found


def named_files(directory: str) -> dict:
    """Every file the tree names: normalized path -> (kustomization directory, field)."""
    named = {}
    for d, k in walk(directory).items():
        for field, rel in entries(k):
            target = os.path.normpath(os.path.join(d, rel))
            if not os.path.isdir(target):
                named[target] = (d, field)
    return named


def definitions(directory: str):
    """(kind, name, file) of every object in the tree's resource files."""
    result = []
    for path, (_, field) in named_files(directory).items():
        if field != "resources" or not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8") as f:
            for doc in yaml.safe_load_all(f):
                if isinstance(doc, dict) and doc.get("kind"):
                    result.append((doc["kind"], (doc.get("metadata") or {}).get("name"), path))
    return result


def source_of(defined, kind: str, name: str):
    """The file defining the rendered object `kind` `name`: the object of that kind and name, else
    the one whose name the rendered name extends (namePrefix, nameSuffix), the longest such."""
    best = None
    for k, n, path in defined:
        if k != kind or not n:
            continue
        if n == name:
            return path
        if (name.startswith(n) or name.endswith(n)) and (best is None or len(n) > best[0]):
            best = (len(n), path)
    return best[1] if best else None
