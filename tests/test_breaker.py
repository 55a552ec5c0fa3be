"""Circuit breaker transitions driven by explicit times, as scripted tables."""

from __future__ import annotations

import pytest

from modelrouter.routing.breaker import BreakerBoard, BreakerSnapshot, CircuitBreaker

# Events: ("fail", t), ("ok", t), ("allow", t, expected_result). Breaker: N=3, window 10, cool 5.
Event = tuple[str, float] | tuple[str, float, bool]

SCRIPTS: list[tuple[str, list[Event], str, int]] = [
    ("fresh is closed", [("allow", 0.0, True)], "closed", 0),
    ("below threshold stays closed",
     [("fail", 0.0), ("fail", 1.0), ("allow", 2.0, True)], "closed", 2),
    ("N failures in window open",
     [("fail", 0.0), ("fail", 1.0), ("fail", 2.0), ("allow", 2.0, False)], "open", 3),
    ("failures spread beyond the window do not open",
     [("fail", 0.0), ("fail", 6.0), ("fail", 10.0), ("allow", 10.0, True)], "closed", 2),
    ("exactly window_s old no longer counts",
     [("fail", 0.0), ("fail", 5.0), ("fail", 10.0)], "closed", 2),
    ("just inside the window counts",
     [("fail", 0.0), ("fail", 5.0), ("fail", 9.999)], "open", 3),
    ("success in closed clears the window",
     [("fail", 0.0), ("fail", 1.0), ("ok", 2.0), ("fail", 3.0), ("fail", 4.0)], "closed", 2),
    ("open refuses until the cooldown ends",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 5.999, False)], "open", 3),
    ("open -> half_open after the cooldown, one probe",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 6.0, True)], "half_open", 3),
    ("second allow while the probe is out is refused",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 6.0, True),
      ("allow", 6.5, False), ("allow", 10.9, False)], "half_open", 3),
    ("lost probe is reissued after another cooldown",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 6.0, True),
      ("allow", 11.0, True), ("allow", 11.0, False)], "half_open", 3),
    ("half_open -> closed on success, failures cleared",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 6.0, True), ("ok", 7.0),
      ("allow", 7.0, True), ("allow", 7.0, True)], "closed", 0),
    ("half_open -> open on failure with a fresh cooldown",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 6.0, True), ("fail", 7.0),
      ("allow", 11.9, False), ("allow", 12.0, True)], "half_open", 3),
    ("stragglers while open are ignored",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("ok", 2.0), ("fail", 5.0),
      ("allow", 6.0, True)], "half_open", 3),
    ("after closing, N fresh failures are needed again",
     [("fail", 0.0), ("fail", 0.0), ("fail", 1.0), ("allow", 6.0, True), ("ok", 6.0),
      ("fail", 7.0), ("fail", 8.0), ("allow", 8.0, True)], "closed", 2),
]


@pytest.mark.parametrize(
    ("name", "events", "state", "failures"), SCRIPTS, ids=[row[0] for row in SCRIPTS]
)
def test_transitions(name: str, events: list[Event], state: str, failures: int) -> None:
    breaker = CircuitBreaker(failure_threshold=3, window_s=10.0, cooldown_s=5.0)
    for event in events:
        kind, now = event[0], event[1]
        if kind == "fail":
            breaker.record_failure(now)
        elif kind == "ok":
            breaker.record_success(now)
        else:
            assert breaker.allow(now) is event[2], (name, event)  # type: ignore[misc]
    assert breaker.state == state
    assert breaker.snapshot().failures_in_window == failures


def test_open_until_and_snapshot() -> None:
    breaker = CircuitBreaker(failure_threshold=2, window_s=10.0, cooldown_s=5.0)
    assert breaker.open_until is None
    assert breaker.snapshot() == BreakerSnapshot("closed", 0, None, None)
    breaker.record_failure(1.0)
    breaker.record_failure(2.0)
    assert breaker.open_until == 7.0
    assert breaker.snapshot() == BreakerSnapshot("open", 2, 2.0, 7.0)
    # with a time, an elapsed cooldown reads half_open but does not take the probe
    assert breaker.snapshot(now=7.0) == BreakerSnapshot("half_open", 2, 2.0, None)
    assert breaker.snapshot().state == "open"
    assert breaker.allow(7.0) is True
    assert breaker.state == "half_open" and breaker.open_until is None
    breaker.record_failure(8.0)
    assert breaker.snapshot() == BreakerSnapshot("open", 2, 8.0, 13.0)


def test_snapshot_with_now_drops_stale_failures() -> None:
    breaker = CircuitBreaker(failure_threshold=3, window_s=10.0, cooldown_s=5.0)
    breaker.record_failure(0.0)
    breaker.record_failure(4.0)
    assert breaker.snapshot(now=9.0).failures_in_window == 2
    assert breaker.snapshot(now=12.0).failures_in_window == 1
    assert breaker.snapshot(now=14.0).failures_in_window == 0


def test_threshold_one_opens_on_first_failure() -> None:
    breaker = CircuitBreaker(failure_threshold=1, window_s=1.0, cooldown_s=0.0)
    breaker.record_failure(0.0)
    assert breaker.snapshot().state == "open"
    assert breaker.allow(0.0) is True  # zero cooldown: probe straight away
    assert breaker.state == "half_open"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"window_s": 0.0}, "window_s"),
        ({"cooldown_s": -1.0}, "cooldown_s"),
    ],
)
def test_invalid_settings(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CircuitBreaker(**kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        BreakerBoard(**kwargs)  # type: ignore[arg-type]


def test_board_keeps_one_breaker_per_model() -> None:
    board = BreakerBoard(failure_threshold=2, window_s=10.0, cooldown_s=5.0)
    assert "a" not in board
    assert board.allow("a", 0.0) is True
    assert "a" in board
    assert board.get("a") is board.get("a")
    board.record_failure("b", 0.0)
    board.record_failure("b", 1.0)
    board.record_failure("a", 1.0)
    assert board.allow("b", 2.0) is False
    assert board.allow("a", 2.0) is True
    board.record_success("a", 3.0)
    assert board.snapshot() == {
        "a": BreakerSnapshot("closed", 0, None, None),
        "b": BreakerSnapshot("open", 2, 1.0, 6.0),
    }
    assert board.snapshot(now=6.0)["b"].state == "half_open"
    assert board.get("c").failure_threshold == 2
