#!/usr/bin/env bash
# bench-gateway adapter for the gateway foundation (modelrouter.gateway.http + .upstream),
# run through the minimal pass-through app modelrouter.gateway.passthrough.
#   gateway_foundation.sh version   print what it runs on
#   gateway_foundation.sh start     exec the gateway in the foreground (BENCH_* variables)
# From the project root:
#   python3 ../shared/bench-gateway/bench.py compare --quick --gateway-name foundation \
#       --gateway-cmd "bash benchmarks/gateway_foundation.sh"
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${MODELROUTER_PYTHON:-$root/.venv/bin/python}"

case "${1:-}" in
version)
  exec "$py" -c 'import sys, httptools, uvloop, modelrouter.gateway.http
print(f"modelrouter gateway foundation: asyncio Protocol server + pool, httptools {httptools.__version__}, uvloop {uvloop.__version__}, Python {sys.version.split()[0]}")' ;;
start)
  args=()
  for pair in $BENCH_UPSTREAMS; do args+=(--upstream "$pair"); done
  exec "$py" -B -m modelrouter.gateway.passthrough --host "$BENCH_GATEWAY_HOST" \
      --port "$BENCH_GATEWAY_PORT" --api-key "$BENCH_API_KEY" --workers 1 "${args[@]}" ;;
*)
  echo "usage: $0 version|start" >&2; exit 2 ;;
esac
