#!/usr/bin/env python3
"""Cold start of a 3x0 cluster: every redis-server is up and every pod's bootstrap starts at
the same moment. Each must exit 0 and the result must be one correct cluster holding every key
written.
"""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from scenarios import cold_start  # noqa: E402
from testbed import TestBed  # noqa: E402


def main() -> None:
    with TestBed("cold_start_3x0") as bed:
        cold_start(bed, shards=3, replicas=0)


if __name__ == "__main__":
    itest.run(main)
