"""What every command shares: output for people and scripts, and errors as one clear line."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, NoReturn

import typer

JSON_HELP = "Print JSON for scripts instead of a table."
PIPE_WIDTH = 200


class CliFailure(Exception):
    """A user-facing failure: printed as one line on stderr, exit code ``code``."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = 1) -> NoReturn:
    raise CliFailure(message, code)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "to_dict"):
        return value.to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=_json_default, ensure_ascii=False))
    sys.stdout.write("\n")


def print_table(title: str | None, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for index, column in enumerate(columns):
        justify = "right" if column.lower() in _NUMERIC_COLUMNS else "left"
        # The first column is the key (a model id): never cut it.
        table.add_column(column, justify=justify, no_wrap=index == 0)  # type: ignore[arg-type]
    for row in rows:
        table.add_row(*("" if cell is None else str(cell) for cell in row))
    # Piped output has no terminal width: give it room rather than cutting ids at 80 columns.
    width = None if sys.stdout.isatty() else PIPE_WIDTH
    Console(soft_wrap=False, width=width).print(table)


_NUMERIC_COLUMNS = {
    "context", "output", "input $/m", "output $/m", "cache read $/m", "cache write $/m",
    "blended $/m", "tokens", "usd", "change", "models", "count", "cost", "saved",
    "requests", "attempts", "p95 ms", "ms", "free share",
}


def run_app(app: typer.Typer, argv: list[str]) -> int:
    """Run a Typer app; modelrouter errors and bad input become one line on stderr."""
    from modelrouter.errors import RouterError

    try:
        # Without standalone mode, click returns a command's Exit code instead of raising it.
        returned = app(args=argv, prog_name="modelrouter", standalone_mode=False)
    except CliFailure as exc:
        _error_line(exc.message)
        return exc.code
    except RouterError as exc:
        _error_line(str(exc))
        return 1
    except KeyboardInterrupt:
        _error_line("interrupted")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # click's usage errors and anything unexpected
        return _click_or_unexpected(exc)
    return returned if isinstance(returned, int) else 0


def _click_or_unexpected(exc: Exception) -> int:
    # typer exposes Exit/Abort itself; its usage errors derive from ClickException.
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code or 0)
    if isinstance(exc, typer.Abort):
        _error_line("aborted")
        return 1
    show = getattr(exc, "show", None)
    exit_code = getattr(exc, "exit_code", None)
    if callable(show) and isinstance(exit_code, int):
        show()
        return exit_code
    _error_line(f"unexpected {type(exc).__name__}: {exc} (please report this)")
    return 70


def _error_line(message: str) -> None:
    sys.stderr.write(f"error: {message}\n")
