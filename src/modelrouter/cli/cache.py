"""`modelrouter cache`: how well the response cache works, and emptying it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from modelrouter.cli._common import JSON_HELP, fail, print_json, print_table

if TYPE_CHECKING:
    from modelrouter.cache.store import ResponseCache

app = typer.Typer(no_args_is_help=True, help="The response cache: hit rates and clearing.")

URL_HELP = (
    "Cache URL: memory://, sqlite:///path/cache.db or redis://host:6379/0. "
    "Default: MODELROUTER_CACHE_URL, else cache.db in the user data directory."
)


def _open(url: str | None) -> ResponseCache:
    import sqlite3

    from modelrouter.cache.store import open_cache

    try:
        return open_cache(url)
    except (ValueError, ImportError) as exc:
        fail(str(exc))
    except (OSError, sqlite3.Error) as exc:
        fail(f"cannot open the cache: {exc}")


@app.command("stats")
def stats(
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    url: Annotated[str | None, typer.Option("--url", help=URL_HELP)] = None,
) -> None:
    """Hits, misses, hit rate and live entries per namespace, counted across processes.

    Example: modelrouter cache stats --json
    """
    cache = _open(url)
    try:
        found = cache.stats()
    except cache.backend.transient_errors as exc:
        fail(f"cannot read the cache at {cache.backend.url}: {exc}")
    finally:
        cache.close()
    if as_json:
        print_json({"backend": cache.backend.url,
                    "namespaces": {name: s.to_dict() for name, s in found.items()}})
        return
    rows = [
        (
            name,
            s.entries,
            s.hits,
            s.misses,
            "—" if s.hit_rate is None else f"{s.hit_rate:.1%}",
            "—" if s.ttl_s is None else f"{s.ttl_s:g}",
            "—" if s.max_entries is None else s.max_entries,
        )
        for name, s in found.items()
    ]
    print_table(f"Response cache — {cache.backend.url}",
                ["namespace", "entries", "hits", "misses", "hit rate", "ttl s", "max entries"],
                rows)


@app.command("clear")
def clear(
    namespace: Annotated[
        str | None, typer.Option("--namespace", "-n", help="Only this namespace.")
    ] = None,
    url: Annotated[str | None, typer.Option("--url", help=URL_HELP)] = None,
) -> None:
    """Remove cached answers and reset hit/miss counters, in one namespace or all of them.

    Example: modelrouter cache clear --namespace default
    """
    cache = _open(url)
    try:
        if namespace is not None:
            known = set(cache.stats()) | set(cache.namespaces)
            if namespace not in known:
                from modelrouter.config.defaults import did_you_mean

                fail(f"no cache namespace {namespace!r}" + did_you_mean(namespace, known)
                     + f" (known: {', '.join(sorted(known))})")
        removed = cache.clear(namespace)
    except ValueError as exc:
        fail(str(exc))
    except cache.backend.transient_errors as exc:
        fail(f"cannot clear the cache at {cache.backend.url}: {exc}")
    finally:
        cache.close()
    where = f"namespace {namespace!r}" if namespace else "every namespace"
    noun = "entry" if removed == 1 else "entries"
    typer.echo(f"Removed {removed} cached {noun} from {where}; hit/miss counters reset.")
