"""Whole transcripts: overlapping windows, the prompt's turns, and the linear summary ranker."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from shared.language.extraction import Extractor
from shared.language.summarize import centralities
from shared.language.windows import prompt_turns, windows
from shared.platform.tokens import estimate_tokens
from shared.settings import ROOT

EX = Extractor(ROOT / "config" / "language/extraction.yaml")
PROMISE = "I'll send you the replacement SIM card by Friday."


def due(text: str, language: str) -> str | None:
    return next((w for w in ("by friday", "tomorrow", "on monday") if w in text.lower()), None)


def long_call(turns: int, promise_at: int = 3) -> list[dict[str, str]]:
    """A call of ``turns`` turns: the agent's promise at turn ``promise_at``, then hours of line checks."""
    call = [
        {"speaker": "customer", "text": "My mobile data stopped working this morning."},
        {"speaker": "agent", "text": "I'm sorry to hear that, let me look at your account."},
        {"speaker": "customer", "text": "The SIM card seems to be damaged."},
    ]
    while len(call) < turns:
        n = len(call)
        if n == promise_at:
            call.append({"speaker": "agent", "text": PROMISE})
        elif n % 2:
            call.append({"speaker": "agent", "text": "The network test is still running."})
        else:
            call.append({"speaker": "customer", "text": f"Reading {n}: the signal bar is still empty."})
    return call + [
        {"speaker": "agent", "text": "Please restart the phone tomorrow morning once the card arrives."},
        {"speaker": "customer", "text": "Okay, thanks."},
    ]


# --- windows ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "size", "overlap"), [(0, 10, 2), (10, 10, 2), (11, 10, 2), (1000, 120, 10), (7, 3, 1)])
def test_every_turn_is_owned_by_exactly_one_window_and_read_with_its_context(n: int, size: int, overlap: int) -> None:
    parts = windows(n, size, overlap)
    owned = [i for w in parts for i in range(w.own_start, w.own_end)]
    assert owned == list(range(n))
    for w in parts:
        assert w.end - w.start <= size
        assert w.start == max(0, w.own_start - overlap) and w.end == min(n, w.own_end + overlap)
    assert len(parts) == 1 or n > size


def test_a_window_too_small_for_its_context_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        windows(100, 20, 10)


# --- the promise in the first minutes of a long call --------------------------------------------


def test_a_promise_in_turn_3_of_a_450_turn_call_is_a_step() -> None:
    call = long_call(450)
    assert len(call) > EX.window_turns * 3  # read in several windows, not one
    found = EX.actions(call, "en", due)
    promise = [a for a in found if a["sentence"] == PROMISE]
    assert len(promise) == 1
    assert (promise[0]["owner"], promise[0]["due_text"], promise[0]["turn"]) == ("agent", "by friday", 3)
    restart = [a for a in found if a["turn"] == len(call) - 2]
    assert [a["owner"] for a in restart] == ["customer"]  # the end of the call is read as before


def test_windows_find_what_reading_the_call_whole_finds() -> None:
    """Steps near window borders (a request and the customer's reply that it is done, a request and
    the promise that accepts it) come out as they do when the whole call is read at once."""
    rng = random.Random(23)
    episodes = [
        [("agent", "Could you send us a photo of the damaged box?"), ("customer", "I'll send the photos tonight.")],
        [("agent", "Could you send a screenshot of the error?"), ("customer", "Here it is.")],
        [("agent", "Our billing team will refund the duplicate charge within five days.")],
        [("customer", "I'll post the old router back on Monday.")],
        [("agent", "I won't need anything else from you.")],
        [("agent", "If the light is still red tomorrow, please call us again.")],
        [("customer", "It's been slow all week."), ("agent", "I can see that on the line.")],
    ]
    call: list[dict[str, str]] = []
    while len(call) < 700:
        call += [{"speaker": s, "text": f"{t[:-1]} (case {len(call)}){t[-1]}"} for s, t in rng.choice(episodes)]
    whole = Extractor(ROOT / "config" / "language/extraction.yaml")
    whole.window_turns, whole.window_overlap = 100_000, 0

    def due_words(text: str, language: str) -> str | None:
        return next((w for w in ("tonight", "within five days", "on monday", "tomorrow") if w in text.lower()), None)

    assert EX.actions(call, "en", due_words) == whole.actions(call, "en", due_words)


# --- what the model is shown ----------------------------------------------------------------------


def test_the_prompt_carries_the_promise_turn_and_the_end_of_the_call_within_budget() -> None:
    call = [{"i": i, **t} for i, t in enumerate(long_call(450))]
    shown = prompt_turns(call, 3000, keep=[3])
    indices = [t["i"] for t in shown]
    assert indices[0] == 3 and shown[0]["text"] == PROMISE
    assert indices[-1] == len(call) - 1 and indices == sorted(indices)
    assert 200 not in indices  # the middle of the call is left out
    assert sum(estimate_tokens(t) for t in shown) <= 3000


def test_without_steps_the_prompt_keeps_the_latest_turns_as_before() -> None:
    call = [{"i": i, **t} for i, t in enumerate(long_call(450))]
    shown = prompt_turns(call, 3000)
    assert [t["i"] for t in shown] == list(range(len(call) - len(shown), len(call)))
    short = call[:5]
    assert prompt_turns(short, 3000, keep=[1]) == short


# --- linear summary ranker -----------------------------------------------------------------------


def _pairwise(bags: list[Counter[str]]) -> list[float]:
    """The quadratic definition: mean cosine to every other bag (what the ranker used to compute)."""
    df = Counter(w for b in bags for w in b)
    vecs = [{w: c * math.log(1 + len(bags) / df[w]) for w, c in b.items()} for b in bags]

    def cos(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b.get(w, 0.0) for w, v in a.items())
        return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))

    return [sum(cos(a, b) for j, b in enumerate(vecs) if j != i) / (len(vecs) - 1) for i, a in enumerate(vecs)]


def test_centroid_scores_equal_the_pairwise_mean_cosine() -> None:
    rng = random.Random(5)
    words = [f"w{i}" for i in range(40)]
    bags = [Counter(rng.choices(words, k=rng.randint(2, 9))) for _ in range(60)]
    assert centralities(bags) == pytest.approx(_pairwise(bags), abs=1e-12)
    assert centralities(bags[:1]) == [0.0] and centralities([]) == []


def test_a_long_call_is_summarised_whole() -> None:
    """The problem said in the first turn and the resolution at the end of a 450-turn call, with
    hours of unrelated remarks between them, are what the summary picks."""
    rng = random.Random(7)
    vocabulary = [f"topic{i}" for i in range(3000)]
    call = long_call(450)
    for n in range(4, len(call) - 2):
        call[n] = {"speaker": call[n]["speaker"], "text": "Remark " + " ".join(rng.sample(vocabulary, 4)) + "."}
    picked = [p["text"] for p in EX.summary_sentences(call, "en", limit=2)]
    assert picked == [
        "My mobile data stopped working this morning.",
        "Please restart the phone tomorrow morning once the card arrives.",
    ]
