"""The complexity router: shipped model, thresholds, tiers, CLI and reproducible training."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelrouter.cli._common import run_app
from modelrouter.errors import ConfigError
from modelrouter.routing.complexity import parse_auto, route, score
from modelrouter.routing.complexity.cascade import simulate
from modelrouter.routing.complexity.thresholds import tier_for

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT.parent / "shared" / "routing-bench"
WEIGHTS = ROOT / "src/modelrouter/routing/complexity/data/weights.json.gz"
needs_bench = pytest.mark.skipif(not (BENCH / "evaluate.py").is_file(),
                                 reason="../shared/routing-bench is not present")

PROMPTS = [
    "What is 2 + 2?",
    "Which of the following is NOT a prime number?\nA. 2\nB. 3\nC. 9\nD. 11\nAnswer:",
    "A train leaves at 3 pm at 60 mph; a second leaves at 4 pm at 80 mph. When does it catch up?",
    "Écris un poème sur la mer.",
    "",
]


def test_scores_are_in_unit_interval_and_deterministic() -> None:
    first = [score(p) for p in PROMPTS]
    assert all(0.0 <= s <= 1.0 for s in first)
    assert first == [score(p) for p in PROMPTS]


def test_scores_are_stable_across_processes() -> None:
    code = ("import json, sys; from modelrouter.routing.complexity import score; "
            f"print(json.dumps([score(p) for p in {PROMPTS!r}]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={"PYTHONHASHSEED": "123", "PATH": ""})
    assert json.loads(out.stdout) == [score(p) for p in PROMPTS]


def test_messages_score_the_last_user_turn() -> None:
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"},
                {"role": "user", "content": PROMPTS[1]}]
    decision = route(messages)
    assert decision.family == "choice"
    assert 0.0 <= decision.score <= 1.0
    assert decision.features_top and all(isinstance(v, float) for _, v in decision.features_top)


@pytest.mark.parametrize(("name", "expected"), [("auto", None), ("auto:0.25", 0.25),
                                                ("AUTO:1", 1.0), ("auto:0", 0.0)])
def test_parse_auto(name: str, expected: float | None) -> None:
    assert parse_auto(name) == expected


@pytest.mark.parametrize("name", ["auto:", "auto:x", "auto:1.5", "auto:-0.1", "auto:nan",
                                  "automatic"])
def test_parse_auto_rejects_bad_thresholds(name: str) -> None:
    with pytest.raises(ConfigError, match="auto"):
        parse_auto(name)


def test_tier_mapping_is_monotone_in_score() -> None:
    order = {"balanced": 0, "advanced": 1}
    tiers = [order[tier_for(s / 100, 0.37)] for s in range(101)]
    assert tiers == sorted(tiers) and tiers[0] == 0 and tiers[-1] == 1


def test_explicit_threshold_and_target_quality() -> None:
    prompt = PROMPTS[2]
    s = score(prompt)
    assert route(prompt, threshold=0.0).tier == "advanced"
    assert route(prompt, threshold=1.0).tier == ("advanced" if s >= 1.0 else "balanced")
    # More quality asked for never means a higher threshold (fewer strong calls).
    loose, strict = route(prompt, target_quality=0.85), route(prompt, target_quality=0.99)
    assert strict.threshold <= loose.threshold
    with pytest.raises(ConfigError):
        route(prompt, target_quality=1.5)


def test_cascade_simulation_with_a_perfect_and_a_useless_judge() -> None:
    rows = [{"strong_correct": 1, "weak_correct": 0}, {"strong_correct": 1, "weak_correct": 1}]
    costs = ([10.0, 10.0], [0.1, 0.1])
    perfect = simulate(rows, costs, judge_accuracy=1.0)
    assert perfect.quality == 1.0 and perfect.escalated_pct == 50.0
    assert perfect.cost_usd == pytest.approx(10.2)
    coin = simulate(rows, costs, judge_accuracy=0.5)
    assert coin.quality == pytest.approx(0.75)


def _cli(argv: list[str]) -> int:
    from modelrouter.cli.route import app

    return run_app(app, argv)


@needs_bench
def test_cli_score_and_eval_on_a_slice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lines = (BENCH / "gsm8k.public.jsonl").read_text(encoding="utf-8").splitlines()[:300]
    data = tmp_path / "slice.jsonl"
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "scores.jsonl"
    assert _cli(["score", "--in", str(data), "--out", str(out)]) == 0
    scored = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in scored] == [json.loads(line)["id"] for line in lines]
    capsys.readouterr()
    code = _cli(["eval", "--data", str(data), "--scores", str(out),
                 "--evaluator", str(BENCH / "evaluate.py"), "--json"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    for who in ("router", "length"):
        for key in ("apgr", "cpt50_pct", "cpt80_pct", "cpt95_pct", "strong_calls_at_95q_pct",
                    "cost_saving_at_95q_pct"):
            assert report[who][key] is not None
    assert report["random"]["apgr"] == 0.5
    assert 0 < report["cascade"]["escalated_pct"] < 100


def test_cli_score_rejects_rows_without_prompt(tmp_path: Path) -> None:
    data = tmp_path / "bad.jsonl"
    data.write_text('{"id": "a"}\n', encoding="utf-8")
    assert _cli(["score", "--in", str(data), "--out", str(tmp_path / "o.jsonl")]) == 2


def test_cli_score_keeps_unicode_line_separators_inside_prompts(tmp_path: Path) -> None:
    # str.splitlines() cut JSON lines at U+2028 / U+0085, which MMLU prompts contain.
    rows = [{"id": "a", "prompt": "one\u2028two\x85three"}, {"id": "b", "prompt": "x\x1cy"}]
    data = tmp_path / "rows.jsonl.gz"
    data.write_bytes(gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                           for r in rows).encode("utf-8")))
    out = tmp_path / "scores.jsonl"
    assert _cli(["score", "--in", str(data), "--out", str(out)]) == 0
    scored = [json.loads(line) for line in out.read_text(encoding="utf-8").split("\n") if line]
    assert [r["id"] for r in scored] == ["a", "b"]
    assert scored[0]["score"] == score("one\u2028two\x85three")


def test_cli_score_names_the_bad_line_and_leaves_no_output(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    data = tmp_path / "rows.jsonl"
    data.write_text('{"id": "a", "prompt": "p"}\n{"id": "b", "prompt": \n', encoding="utf-8")
    out = tmp_path / "scores.jsonl"
    assert _cli(["score", "--in", str(data), "--out", str(out)]) == 2
    assert "line 2" in capsys.readouterr().err
    assert not out.exists()


@needs_bench
def test_training_reproduces_the_shipped_weights(tmp_path: Path) -> None:
    out = tmp_path / "weights.json.gz"
    done = subprocess.run([sys.executable, str(ROOT / "tools/train_router.py"), "--data",
                           str(BENCH), "--out", str(out), "--json"],
                          check=True, capture_output=True, text=True, timeout=600)
    assert out.read_bytes() == WEIGHTS.read_bytes()
    # The cross-validated figures the closing note quotes (issue targets where they are met).
    report = json.loads(done.stdout)
    mmlu, gsm8k = report["mmlu"], report["gsm8k"]
    assert mmlu["router"]["apgr"] >= 0.65 and gsm8k["router"]["apgr"] >= 0.66
    for block in (mmlu, gsm8k):
        assert block["router"]["apgr"] > block["length"]["apgr"] + 0.05
        assert (block["router"]["cost_saving_at_95q_pct"]
                > block["random"]["cost_saving_at_95q_pct"])
