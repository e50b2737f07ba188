#!/usr/bin/env bash
# make serve: a local Prefect server, the localize work pool, every deployment and a worker.
# Ctrl-C stops the worker and the server. Settings: PREFECT_PORT (default 4200).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=$ROOT/.venv/bin
PORT=${PREFECT_PORT:-4200}
export PREFECT_HOME=${PREFECT_HOME:-$ROOT/.prefect}
export PREFECT_API_URL=http://127.0.0.1:$PORT/api
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_WORKER_QUERY_SECONDS=${PREFECT_WORKER_QUERY_SECONDS:-2}
export LOCALIZE_ROOT=$ROOT
set -m
"$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" >"$PREFECT_HOME/server.log" 2>&1 &
SERVER=$!
cleanup() {
  kill -TERM "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
mkdir -p "$PREFECT_HOME"
for _ in $(seq 1 120); do
  curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1 && break
  sleep 0.5
done
curl -fsS "$PREFECT_API_URL/health" >/dev/null || { echo "Prefect server did not start; see $PREFECT_HOME/server.log"; exit 1; }
"$BIN/prefect" work-pool create localize --type process --overwrite >/dev/null
"$BIN/prefect" --no-prompt deploy --all --prefect-file infra/prefect.yaml
echo
echo "Prefect UI: http://127.0.0.1:$PORT    (worker starting; Ctrl-C to stop everything)"
echo "Try: PREFECT_API_URL=$PREFECT_API_URL $BIN/prefect deployment run 'localize-course/localize-course' --param course=intro-course --param source=$ROOT/src/localize/samples/intro-course"
"$BIN/prefect" worker start --pool localize
