"""A client that asks a server for some paths in turn, in a thread of its own, until stopped, and keeps how long
each answer took (a failure counts its time, and is counted): the dashboard's reader of bench/busy_dashboard.py,
the /healthz poller of bench/digest_charts.py.

    with Poller("http://127.0.0.1:8080", ["/healthz"], every=0.1) as health:
        ...                                   # the load being measured
    health.seconds, health.failed
"""

from __future__ import annotations

import threading
import time
import urllib.request
from collections.abc import Sequence


class Poller:
    """Asks for `paths` in turn (`every` seconds apart; 0: back to back), each within `timeout` seconds."""

    def __init__(self, base: str, paths: Sequence[str], every: float = 0.0, timeout: float = 30.0) -> None:
        self._base = base
        self._paths = paths
        self._every = every
        self._timeout = timeout
        self._stop = threading.Event()
        self.seconds: list[float] = []
        self.failed = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> Poller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                with urllib.request.urlopen(self._base + self._paths[n % len(self._paths)],
                                            timeout=self._timeout) as response:
                    response.read()
            except OSError:
                self.failed += 1
            self.seconds.append(time.perf_counter() - started)
            n += 1
            if self._every:
                self._stop.wait(self._every)
