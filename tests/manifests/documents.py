#!/usr/bin/env python3
"""Rendered manifests (YAML on stdin, as `kubectl kustomize DIR` prints them) as the JSON that
validate.cjs reads: a list of {"source": file, "doc": document}, where source is the file under
DIR that defines the object (so a schema error names the file to fix), or null.

    kubectl kustomize DIR | python3 tests/manifests/documents.py DIR > docs.json
"""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import kustomization  # noqa: E402
import yaml  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def shown(path: str) -> str:
    """A path relative to the repository when it is inside it, else as it is."""
    full = os.path.abspath(path)
    return os.path.relpath(full, REPO) if full.startswith(REPO + os.sep) else full


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: documents.py KUSTOMIZATION_DIR < rendered.yaml")
    defined = kustomization.definitions(sys.argv[1])
    result = []
    for doc in yaml.safe_load_all(sys.stdin):
        if doc is None:
            continue
        source = None
        if isinstance(doc, dict):
            source = kustomization.source_of(defined, doc.get("kind"),
                                             (doc.get("metadata") or {}).get("name") or "")
        result.append({"source": shown(source) if source else None, "doc": doc})
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
