"""The loop that drives the local pipeline's components on one thread.

A component (a mapping's shard pollers, the Firehose emulation, the mailbox)
does whatever is due when polled and says when it next has something to do.
One thread polls them all, so handlers run one at a time, as they would with
one batch in flight per shard, and nothing needs a lock. `drain` gives each
component a last chance to finish (flush buffers, close windows) at shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Protocol

log = logging.getLogger(__name__)

IDLE_POLL_SECONDS = 0.25  # every component is polled at least this often


class Component(Protocol):
    """Something the runtime polls."""

    name: str

    def poll(self, now: float) -> float:
        """Do what is due at `now`; return when next to poll (epoch seconds)."""
        ...

    def drain(self, now: float) -> bool:
        """Work towards a clean stop; True once nothing is left to do."""
        ...

    def stats(self) -> dict[str, int]:
        """Counters for progress lines and the demo report."""
        ...


class Runtime:
    """Polls components until stopped; the clock and sleep are injectable."""

    def __init__(
        self,
        components: Sequence[Component],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.components = list(components)
        self.clock = clock
        self.sleep = sleep
        self.stopping = threading.Event()
        self.errors: list[str] = []

    def step(self) -> float:
        """Poll every component once; returns seconds until the next is due."""
        now = self.clock()
        due = now + IDLE_POLL_SECONDS
        for component in self.components:
            try:
                due = min(due, component.poll(now))
            except Exception as err:  # noqa: BLE001 - one component's fault must not stop the rest
                self._fault(component, err)
        return max(0.0, due - self.clock())

    def run(self) -> None:
        """Poll until `stop()`; then return (call `drain` for a clean end)."""
        while not self.stopping.is_set():
            wait = self.step()
            if wait > 0:
                self.stopping.wait(wait)  # and `stop()` wakes it at once

    def stop(self) -> None:
        self.stopping.set()

    def drain(self, timeout: float) -> bool:
        """Let components finish for up to `timeout` seconds; True if all did."""
        deadline = self.clock() + timeout
        while True:
            done = True
            for component in self.components:
                try:
                    done = component.drain(self.clock()) and done
                except Exception as err:  # noqa: BLE001
                    self._fault(component, err)
            if done:
                return True
            if self.clock() >= deadline:
                return False
            self.sleep(IDLE_POLL_SECONDS)

    def _fault(self, component: Component, err: Exception) -> None:
        message = f"{component.name}: {type(err).__name__}: {err}"
        log.error("%s", message, exc_info=err)
        if message not in self.errors:
            self.errors.append(message)
