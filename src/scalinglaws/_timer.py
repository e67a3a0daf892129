"""Wall-clock seconds per stage of a computation (for benchmarks; changes no number)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

__all__ = ["StageTimer"]


@dataclass
class StageTimer:
    """Accumulates wall-clock seconds per named stage.

    Examples
    --------
    >>> timer = StageTimer()
    >>> start = time.perf_counter()
    >>> start = timer.add("draw", start)
    >>> list(timer.seconds)
    ['draw']
    """

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, start: float) -> float:
        """Add the time since ``start`` to ``stage``; return now (the next stage's start)."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - start
        return now
