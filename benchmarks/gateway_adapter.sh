#!/usr/bin/env bash
# bench-gateway adapter for `modelrouter serve`, configured like the LiteLLM baseline: one
# worker, key auth on (the master key), routing on, cost tracking and the SQLite usage ledger on
# (every attempt is a committed row), no cache, no retries.
#   gateway_adapter.sh version | start          (BENCH_* variables: see the harness README)
# From the project root:
#   python3 ../shared/bench-gateway/bench.py compare --quick --gateway-name modelrouter \
#       --gateway-cmd "bash benchmarks/gateway_adapter.sh"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${MODELROUTER_PYTHON:-$root/.venv/bin/python}"

case "${1:-}" in
version)
  exec "$py" -c 'import modelrouter, sys; print(f"modelrouter {modelrouter.__version__} serve, Python {sys.version.split()[0]}")' ;;
start)
  work="$BENCH_WORKDIR"
  # The mock models are not real catalog models: add them to a copy of the bundled catalog,
  # priced like the baseline prices them (gpt-4o-mini: $0.15 / $0.60 per million tokens).
  "$py" - "$work" $BENCH_UPSTREAMS <<'PY'
import shutil, sys
from pathlib import Path
from modelrouter.catalog.loader import bundled_catalog_dir
work, pairs = Path(sys.argv[1]), sys.argv[2:]
catalog = work / "catalog"
shutil.rmtree(catalog, ignore_errors=True)
shutil.copytree(bundled_catalog_dir(), catalog, ignore=shutil.ignore_patterns("*.csv"))
config = ["[router]", "max_fallback_attempts = 0", "[retry]", "max_retries = 0", ""]
for pair in pairs:
    name, url = pair.split("=", 1)
    provider = name.replace("-", "")
    folder = catalog / "models" / provider
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.yaml").write_text(f"""model_id: {provider}:{name}
provider: {provider}
metadata:
  name: {name}
  api_identifier: {name}
  context_window_input: 128000
  context_window_output: 16384
  last_verified: 2026-11-25
capabilities: [text_input, text_output, streaming, function_calling, system_messages]
pricing_ref: {provider}/{name}
speed_class: fast
quality_class: standard
""")
    (catalog / "pricing" / f"{provider}.yaml").write_text(f"""provider: {provider}
pricing_versions:
  - effective_date: 2024-07-18
    models:
      {name}: {{input: "0.15", output: "0.60"}}
""")
    config += [f"[providers.{provider}]", 'adapter = "openai_compat"', f'base_url = "{url}"', ""]
(work / "modelrouter.toml").write_text("\n".join(config))
PY
  export MODELROUTER_HOME="$work" MODELROUTER_CATALOG_DIR="$work/catalog"
  export MODELROUTER_MASTER_KEY="$BENCH_API_KEY"
  exec "$py" -B -m modelrouter serve --config "$work/modelrouter.toml" \
      --host "$BENCH_GATEWAY_HOST" --port "$BENCH_GATEWAY_PORT" --workers 1 ;;
*)
  echo "usage: $0 version|start" >&2; exit 2 ;;
esac
