"""A background sampler for the tests that must see something while it happens (a secret on
a command line, a handshake entry in a table): a `with` block runs sample() on a thread every
`interval` seconds until the block ends."""

import threading


class Sampler:
    interval = 0.05

    def sample(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)
