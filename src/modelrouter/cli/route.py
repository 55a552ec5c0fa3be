"""`modelrouter route`: score prompts with the complexity router; evaluate it on a benchmark."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import typer

from modelrouter.catalog.importers.common import atomic_write_text
from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

app = typer.Typer(help="The complexity router behind model=auto: score prompts, evaluate them.",
                  no_args_is_help=True)

KEYS = ("apgr", "cpt50_pct", "cpt80_pct", "cpt95_pct", "strong_calls_at_95q_pct",
        "cost_saving_at_95q_pct", "call_saving_at_95q_pct")


def _read_rows(path: Path) -> list[dict[str, Any]]:
    try:
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        text = data.decode("utf-8")
    except (OSError, ValueError) as exc:
        fail(f"cannot read {path}: {exc}", code=2)
    rows = []
    # JSON lines end at "\n" only: str.splitlines() would also cut at U+2028, U+0085 and
    # other separators that JSON strings may hold unescaped (MMLU prompts do).
    for number, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as exc:
            fail(f"{path} line {number}: not JSON ({exc})", code=2)
    for index, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("id"), str) or not isinstance(
                row.get("prompt"), str):
            fail(f"{path} row {index}: expected an object with string 'id' and 'prompt'", code=2)
    return rows


@app.command("score")
def score_file(
    in_path: Annotated[Path, typer.Option(
        "--in", help="JSONL (or .jsonl.gz) rows with id and prompt.")],
    out_path: Annotated[Path, typer.Option("--out", help="Where to write {id, score} rows.")],
) -> None:
    """Score every prompt in a file; the output is evaluate.py's --scores input.

    Example: modelrouter route score --in mmlu.public.jsonl.gz --out scores.jsonl
    """
    from modelrouter.routing.complexity.model import score

    rows = _read_rows(in_path)
    lines = "".join(json.dumps({"id": row["id"], "score": score(row["prompt"])}) + "\n"
                    for row in rows)
    try:
        atomic_write_text(out_path, lines)
    except OSError as exc:
        fail(f"cannot write {out_path}: {exc}", code=2)
    typer.echo(f"scored {len(rows)} prompts -> {out_path}", err=True)


def _evaluator(path: Path | None, data: Path) -> ModuleType:
    candidate = path or data.resolve().parent / "evaluate.py"
    spec = importlib.util.spec_from_file_location("routing_bench_evaluate", candidate)
    if not candidate.is_file() or spec is None or spec.loader is None:
        fail(f"no evaluate.py at {candidate}; pass --evaluator", code=2)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@app.command("eval")
def eval_data(
    data: Annotated[Path, typer.Option("--data", help="A routing-bench data file.")],
    scores: Annotated[Path | None, typer.Option(
        "--scores", help="{id, score} rows; default: score with the shipped model.")] = None,
    evaluator: Annotated[Path | None, typer.Option(
        "--evaluator", help="routing-bench evaluate.py; default: next to --data.")] = None,
    judge_accuracy: Annotated[float, typer.Option(
        "--judge-accuracy", min=0.0, max=1.0,
        help="Also simulate a cascade with a judge this accurate (assumed signal).")] = 0.9,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """APGR, CPT(50/80/95 %) and cost at 95 % quality beside the length and random baselines.

    Example: modelrouter route eval --data ../shared/routing-bench/gsm8k.public.jsonl
    """
    from modelrouter.routing.complexity.cascade import simulate
    from modelrouter.routing.complexity.model import score

    ev = _evaluator(evaluator, data)
    try:
        rows = ev.load_data(str(data))
        meta = json.loads(Path(ev.find_meta(None, str(data))).read_text(encoding="utf-8"))
        given = ev.load_scores(str(scores)) if scores else None
    except (ev.BenchError, OSError, ValueError) as exc:
        fail(str(exc), code=2)
    if given is not None:
        missing = [r["id"] for r in rows if r["id"] not in given]
        if missing:
            fail(f"{scores}: no score for {len(missing)} ids (first: {missing[0]!r})", code=2)
        values = [given[r["id"]] for r in rows]
    else:
        values = [score(r["prompt"]) for r in rows]
    bench = ev.Bench(rows, meta)
    cascade = simulate(rows, (bench.cs, bench.cw), judge_accuracy=judge_accuracy)
    report = {
        "data": str(data), "rows": bench.n,
        "quality": {"strong": round(bench.S, 4), "weak": round(bench.W, 4)},
        "router": bench.evaluate(values, with_curve=False),
        "length": bench.evaluate(ev.length_scores(rows), with_curve=False),
        "random": bench.random_expected(),
        "cascade": cascade.to_dict(),
    }
    if as_json:
        print_json(report)
        return
    table = [[who, *(report[who].get(k) for k in KEYS)] for who in ("router", "length", "random")]
    print_table(f"{data.name}: {bench.n} prompts, strong {bench.S:.3f}, weak {bench.W:.3f}",
                ["router", "APGR", "CPT50 %", "CPT80 %", "CPT95 %", "strong % @95q",
                 "cost saving % @95q", "call saving % @95q"], table)
    typer.echo(f"cascade (judge accuracy {judge_accuracy:.2f}, assumed): "
               f"{cascade.quality_pct_of_strong:.1f} % of strong quality, "
               f"{cascade.escalated_pct:.1f} % escalated, cost saving "
               f"{cascade.cost_saving_pct:.1f} %")
    if given is None:
        typer.echo("note: the shipped model was trained on the public split, so these router "
                   "figures are in-sample; tools/train_router.py prints cross-validated ones.")
