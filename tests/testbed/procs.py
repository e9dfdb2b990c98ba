"""Child processes, each in its own process group, so that stopping one also stops anything it
started and a failing test never leaves a redis-server, dnsmasq or binary behind.
"""

import os
import signal
import subprocess
import time


def _signal_group(pgid: int, sig) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


class ProcessRegistry:
    """Every process a bed started, so one call at the end (or on failure) stops them all."""

    def __init__(self):
        self._procs = []

    def spawn(self, argv, *, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=None,
              cwd=None) -> subprocess.Popen:
        """Starts argv as the leader of a new session (and process group)."""
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                env=env, cwd=cwd, start_new_session=True)
        self._procs.append(proc)
        return proc

    def stop_all(self, grace=5.0) -> None:
        """Terminates every process group still around: SIGTERM first so redis-server shuts down
        cleanly, SIGKILL for whatever is left after `grace` seconds.
        """
        for proc in self._procs:
            if proc.poll() is None:
                _signal_group(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        for proc in self._procs:
            stop(proc, grace=max(0.0, deadline - time.monotonic()))
        self._procs.clear()


def stop(proc: subprocess.Popen, grace=5.0, sig=signal.SIGTERM) -> int:
    """Sends `sig` to the process group of `proc`, waits up to `grace` seconds, then SIGKILLs the
    group. Also kills group members that outlived the leader. Returns the leader's exit status.
    """
    if proc.poll() is None:
        _signal_group(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc.pid, signal.SIGKILL)
            proc.wait()
    # The group id stays reserved while members live, so this cannot hit an unrelated process.
    _signal_group(proc.pid, signal.SIGKILL)
    return proc.returncode


def kill(proc: subprocess.Popen) -> int:
    """SIGKILLs the process group: a crash, as opposed to a clean shutdown."""
    return stop(proc, grace=5.0, sig=signal.SIGKILL)


def process_tree() -> dict:
    """Parent pid -> child pids of every live process, read once from /proc."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name (field 2) may contain spaces and parentheses: split after the last ')'.
        fields = stat[stat.rfind(b")") + 2:].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def descendants(pid: int, tree=None) -> list:
    """Pids of every live descendant of `pid` (children may exec helpers); pass a tree from
    process_tree() to look up many pids from one reading of /proc."""
    tree = process_tree() if tree is None else tree
    found, pending = [], [pid]
    while pending:
        for child in tree.get(pending.pop(), []):
            found.append(child)
            pending.append(child)
    return found


def read_cmdline(pid: int):
    """The argv of a live process as a list of strings, or None if it is gone."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        return None
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]
