#!/usr/bin/env python3
"""`redis-cluster-init install DIR`, as an initContainer runs it to copy the binary into a shared
emptyDir: the copy is byte-identical, mode 0755 whatever the umask, put in place by rename (no
temporary file left, an existing file replaced by a new inode, which also works while the old
copy is running), and runs. A missing directory or a path that is not a directory fails with
exit 1 and a message naming the path, creating nothing. No redis, no DNS needed.
"""

import filecmp
import os
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "testbed"))

import itest  # noqa: E402
from itest import check  # noqa: E402
from testbed import binary_env  # noqa: E402

NAME = "redis-cluster-init"


def install(binary, directory, umask=0o022):
    """Runs `install DIR` with a given umask; returns (status, stdout, stderr)."""
    def preexec():
        os.umask(umask)
    proc = subprocess.run([binary, "install", directory], capture_output=True, text=True,
                          timeout=30, env=binary_env(), preexec_fn=preexec)
    return proc.returncode, proc.stdout, proc.stderr


def check_installed(binary, directory, stdout, stderr) -> None:
    target = os.path.join(directory, NAME)
    check(os.path.isfile(target), f"{target} not created")
    mode = stat.S_IMODE(os.stat(target).st_mode)
    check(mode == 0o755, f"{target} has mode {mode:o}, expected 755")
    check(filecmp.cmp(binary, target, shallow=False), f"{target} differs from {binary}")
    check(os.listdir(directory) == [NAME], f"{directory} holds {os.listdir(directory)}, "
                                           f"expected only {NAME} (a temporary file left?)")
    check(f"installed {target}" in stdout + stderr,
          f"install did not say 'installed {target}': stdout {stdout!r} stderr {stderr!r}")


def main() -> None:
    binary = os.path.abspath(itest.require_binary())
    with tempfile.TemporaryDirectory(prefix="rci-install-") as scratch:
        # 1. A fresh directory, under a restrictive umask (the file must still be 0755).
        directory = os.path.join(scratch, "scripts")
        os.mkdir(directory)
        status, out, err = install(binary, directory, umask=0o077)
        check(status == 0, f"install exited {status}: {err}")
        check_installed(binary, directory, out, err)
        target = os.path.join(directory, NAME)
        version = subprocess.run([target, "--version"], capture_output=True, text=True,
                                 timeout=10)
        check(version.returncode == 0 and version.stdout.strip(),
              f"the installed copy does not run: {version}")

        # 2. Over an existing file: replaced (a new inode: renamed into place, not rewritten).
        with open(target, "wb") as f:
            f.write(b"old contents\n")
        os.chmod(target, 0o600)
        old_inode = os.stat(target).st_ino
        status, out, err = install(binary, directory)
        check(status == 0, f"install over an existing file exited {status}: {err}")
        check_installed(binary, directory, out, err)
        check(os.stat(target).st_ino != old_inode,
              "the existing file was rewritten in place, not replaced by rename")

        # A directory given with a trailing slash is the same directory (and said so).
        status, out, err = install(binary, directory + "/")
        check(status == 0, f"install into {directory}/ exited {status}: {err}")
        check_installed(binary, directory, out, err)
        check("//" not in out, f"install printed a doubled slash: {out!r}")

        # 3. The installed copy reinstalls itself while it runs (a busy text file cannot be
        #    opened for writing: only a rename can replace it).
        status, out, err = install(target, directory)
        check(status == 0, f"the running copy could not install over itself: exit {status}: "
                           f"{err}")
        check_installed(binary, directory, out, err)

        # 4. Failures: exit 1, naming the path, nothing created.
        missing = os.path.join(scratch, "no-such-dir")
        status, out, err = install(binary, missing)
        check(status == 1, f"install into a missing directory exited {status}, expected 1")
        check(missing in out + err, f"the error does not name {missing}: {err!r}")
        check(not os.path.exists(missing), f"{missing} was created")

        not_a_dir = os.path.join(scratch, "a-file")
        with open(not_a_dir, "w") as f:
            f.write("x")
        status, out, err = install(binary, not_a_dir)
        check(status == 1, f"install into a regular file exited {status}, expected 1")
        check(not_a_dir in out + err, f"the error does not name {not_a_dir}: {err!r}")
        check(sorted(os.listdir(scratch)) == ["a-file", "scripts"],
              f"a failed install left files behind: {sorted(os.listdir(scratch))}")


if __name__ == "__main__":
    itest.run(main, tools=())
