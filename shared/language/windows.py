"""A long conversation read in overlapping windows, and the turns of it a prompt can carry.

The next-step rules look a few turns around a sentence (the customer's reply that says a request
is already done, the agent's request a customer's promise accepts, the branches of one turn), and
some compare every step with every other. Read whole, a two-hour call makes that quadratic; cut
to its latest turns, a promise made in the first minutes is lost. So a transcript longer than one
window is read window by window: each window *owns* a run of turns and reads ``overlap`` turns of
context on either side, and keeps only what it found in the turns it owns. Work grows linearly
with the call, and every turn is read with its neighbours.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.platform.tokens import estimate_tokens


@dataclass(frozen=True)
class Window:
    """Items ``[start, end)`` are read; what is found in items ``[own_start, own_end)`` is kept."""

    start: int
    end: int
    own_start: int
    own_end: int


def windows(n: int, size: int, overlap: int) -> list[Window]:
    """Windows over ``n`` items: one when they fit in ``size``, else runs of ``size - 2 * overlap``
    owned items, each read with up to ``overlap`` items before and after it."""
    if size <= 2 * overlap:
        raise ValueError(f"a window of {size} turns cannot hold {overlap} turns of context on each side")
    if n <= size:
        return [Window(0, n, 0, n)]
    step = size - 2 * overlap
    return [
        Window(max(0, own - overlap), min(n, own + step + overlap), own, min(n, own + step))
        for own in range(0, n, step)
    ]


def prompt_turns(turns: Sequence[dict[str, Any]], budget: int, keep: Iterable[int] = ()) -> list[dict[str, Any]]:
    """The turns a prompt carries within ``budget`` tokens, in conversation order, each with its index ``i``.

    The turns numbered in ``keep`` (where the extractor found a step, wherever in the call) come first,
    up to half the budget; the latest turns fill the rest. A model reading a two-hour call therefore
    sees the early promise verbatim, and the end of the call as before."""
    by_index = {int(t.get("i", n)): {**t, "i": int(t.get("i", n))} for n, t in enumerate(turns)}
    chosen: dict[int, dict[str, Any]] = {}
    used = 0
    for i in sorted(set(keep)):
        item = by_index.get(i)
        if item is None:
            continue
        cost = estimate_tokens(item)
        if used + cost > budget // 2:
            break
        chosen[i] = item
        used += cost
    for i in sorted(by_index, reverse=True):
        if i in chosen:
            continue
        cost = estimate_tokens(by_index[i])
        if used + cost > budget and chosen:
            break
        chosen[i] = by_index[i]
        used += cost
    return [chosen[i] for i in sorted(chosen)]
