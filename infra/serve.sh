#!/usr/bin/env bash
# make serve: a local Prefect server, the localize work pool, every deployment and a worker.
# Ctrl-C stops the worker and the server. Settings: PREFECT_PORT (default 4200), PREFECT_HOME
# (default ./.prefect), LOCALIZE_BIN (the virtual environment's bin folder, default ./.venv/bin).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
BIN=${LOCALIZE_BIN:-$ROOT/.venv/bin}
PORT=${PREFECT_PORT:-4200}
export PREFECT_HOME=${PREFECT_HOME:-$ROOT/.prefect}
export PREFECT_API_URL=http://127.0.0.1:$PORT/api
export PREFECT_SERVER_ANALYTICS_ENABLED=false
export PREFECT_WORKER_QUERY_SECONDS=${PREFECT_WORKER_QUERY_SECONDS:-2}
export LOCALIZE_ROOT=$ROOT
LOG=$PREFECT_HOME/server.log
mkdir -p "$PREFECT_HOME"
if curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1; then
  echo "something already answers on port $PORT; stop it or choose another port: PREFECT_PORT=4201 make serve" >&2
  exit 1
fi
set -m
"$BIN/prefect" server start --host 127.0.0.1 --port "$PORT" >"$LOG" 2>&1 &
SERVER=$!
WORKER=
stop() {  # SIGTERM, up to 15 s to finish, then SIGKILL
  local pid=$1
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
cleanup() {
  trap - EXIT INT TERM
  stop "$WORKER"
  stop "$SERVER"
}
trap cleanup EXIT INT TERM
echo "starting the Prefect server on 127.0.0.1:$PORT (log: $LOG)"
for _ in $(seq 1 180); do
  curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1 && break
  kill -0 "$SERVER" 2>/dev/null || { echo "the Prefect server stopped at start; its log, $LOG, ends with:" >&2; tail -n 20 "$LOG" >&2; exit 1; }
  sleep 0.5
done
curl -fsS "$PREFECT_API_URL/health" >/dev/null 2>&1 || { echo "the Prefect server did not answer within 90 s; see $LOG" >&2; exit 1; }
"$BIN/prefect" work-pool create localize --type process --overwrite >/dev/null
"$BIN/prefect" --no-prompt deploy --all --prefect-file infra/prefect.yaml
echo
echo "Prefect UI: http://127.0.0.1:$PORT    (worker starting; Ctrl-C to stop everything)"
echo "Try: PREFECT_API_URL=$PREFECT_API_URL $BIN/prefect deployment run 'extract-course/extract-course' --param course=intro-course --param source=$ROOT/src/localize/samples/intro-course"
echo "     (localize-course, route-course, ingest-returns and publish-course also need --param config=PATH: a"
echo "     localize.toml with your partners and regions; src/localize/samples/localize.toml is a starting point)"
# In the background and waited for, so Ctrl-C (or SIGTERM) reaches the trap at once.
"$BIN/prefect" worker start --pool localize &
WORKER=$!
wait "$WORKER"
