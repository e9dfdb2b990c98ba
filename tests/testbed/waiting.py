"""The test bed's one way to wait: poll a condition until it holds or a deadline passes.

Every wait in the bed and the tests is bounded and says, when it times out, what it waited for
and what it saw last, so a failing run explains itself. A condition may also check invariants
that must hold while waiting (an empty node must not claim slots before the failover...): it
raises, and the wait ends there.
"""

import time


def wait_until(condition, timeout, what, *, interval=0.05, tolerate=(), error=AssertionError,
               detail=None):
    """Calls condition() every `interval` seconds until it returns a truthy value; returns
    (that value, seconds waited). After `timeout` seconds raises `error` naming `what`, with
    detail() appended when given. Exceptions of the types in `tolerate` (a server restarting)
    count as "not yet", and the last one is named in the timeout's message."""
    started = time.monotonic()
    deadline = started + timeout
    last_error = None
    while True:
        try:
            value = condition()
        except tolerate as caught:
            value, last_error = None, caught
        if value:
            return value, time.monotonic() - started
        if time.monotonic() >= deadline:
            because = f" (last error: {last_error})" if last_error is not None else ""
            extra = f"\n{detail()}" if detail is not None else ""
            raise error(f"{what}: not after {timeout:g}s{because}{extra}")
        time.sleep(interval)


def wait_until_none(problems, timeout, what, *, interval=0.05, tolerate=(), error=AssertionError,
                    detail=None, shown=40):
    """Calls problems() every `interval` seconds until it returns an empty list; returns the
    seconds waited. On timeout the error lists the last problems found (at most `shown`)."""
    last = []

    def settled():
        last[:] = problems()
        return not last

    def listed():
        head = "\n  ".join(str(p) for p in last[:shown])
        more = f"\n  ... and {len(last) - shown} more" if len(last) > shown else ""
        extra = f"\n{detail()}" if detail is not None else ""
        return f"{len(last)} problem(s):\n  {head}{more}{extra}"

    _, waited = wait_until(settled, timeout, what, interval=interval, tolerate=tolerate,
                           error=error, detail=listed)
    return waited
