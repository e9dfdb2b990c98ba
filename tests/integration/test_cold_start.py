#!/usr/bin/env python3
"""Cold starts: every redis-server is up and every pod's bootstrap starts at the same moment.
Each must exit 0 and the result must be one correct cluster holding every key written. One
test, three shapes, each in a bed of its own:

- 3x0: masters only;
- 3x1: a replica per shard;
- 5x2: two replicas per shard, configured through environment variables only, as a
  Kubernetes manifest does.

Arguments name the shapes to run (`3x1`, ...); without any, all three run.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from scenarios import cold_start  # noqa: E402
from testbed import TestBed  # noqa: E402

SHAPES = {
    "3x0": dict(shards=3, replicas=0),
    "3x1": dict(shards=3, replicas=1),
    "5x2": dict(shards=5, replicas=2, options_via="env"),
}


def main() -> None:
    for shape in itest.chosen_from_argv(SHAPES, "shape"):
        with TestBed(f"cold_start_{shape}") as bed:
            cold_start(bed, **SHAPES[shape])


if __name__ == "__main__":
    itest.run(main)
