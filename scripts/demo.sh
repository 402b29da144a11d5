#!/usr/bin/env bash
# The main job, end to end, on the embedded Toloka emulator with simulated tolokers: a throw-away
# Airflow home whose DAGs are dags_examples/, the toloka_shoes_quickstart DAG run with `airflow dags test`
# (upload, open, labeling, review, aggregation; its sensors are deferrable and `dags test` runs the
# triggers inline), then what exists afterwards, the first aggregated labels and their accuracy
# against the emulator's hidden ground truth.
# Usage: scripts/demo.sh [number of tasks, default 100]
#        scripts/demo.sh --ui [--port N]   the real stack (api-server, scheduler, dag-processor,
#        triggerer) with the example DAGs and the emulator, to click through until Ctrl-C
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/_venv.sh
if [ "${1:-}" = "--ui" ]; then
  exec python -m airflow_provider_toloka.testing.stack "$@"
fi
N_TASKS="${1:-100}"

work=$(mktemp -d)
emulator_pid=""
cleanup() {
  if [ -n "$emulator_pid" ]; then kill "$emulator_pid" 2>/dev/null || true; wait "$emulator_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

python -m airflow_provider_toloka.testing.emulator --host 127.0.0.1 --port 0 --operation-delay 1 \
  --simulate-tolokers --seed 1 \
  >"$work/emulator.out" 2>"$work/emulator.err" &
emulator_pid=$!
url=""
for _ in $(seq 1 150); do
  url=$(grep -o 'http://[0-9.:]*' "$work/emulator.out" 2>/dev/null | head -n 1 || true)
  [ -n "$url" ] && break
  kill -0 "$emulator_pid" 2>/dev/null || { cat "$work/emulator.err" >&2; exit 1; }
  sleep 0.2
done
[ -n "$url" ] || { echo "The emulator did not start within 30s" >&2; cat "$work/emulator.err" >&2; exit 1; }
echo "== Toloka emulator at $url (pid $emulator_pid)"

export AIRFLOW_HOME="$work/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/dags_examples"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW_VAR_TOLOKA_STAGING_URL="file://$work/staging"
export AIRFLOW_CONN_TOLOKA_DEFAULT="{\"conn_type\": \"toloka\", \"password\": \"demo-api-key\", \"host\": \"$url\"}"

echo "== airflow db migrate"
airflow db migrate >"$work/migrate.log" 2>&1 || { tail -n 30 "$work/migrate.log" >&2; exit 1; }
echo "== airflow dags test toloka_shoes_quickstart (n_tasks=$N_TASKS)"
start=$(date +%s)
if ! airflow dags test toloka_shoes_quickstart -c "{\"n_tasks\": $N_TASKS}" >"$work/dag.log" 2>&1; then
  tail -n 60 "$work/dag.log" >&2; exit 1
fi
grep -E "Project .* is ready|Pool .* is ready|Sent .* tasks|succeeded:|Pool .* is OPEN|Pool .* closed|'accepted'|'answered'|DagRun Finished" "$work/dag.log" \
  | sed -E 's/^[^ ]+ \[[a-z ]+\] //; s/ +\[airflow[^]]*\].*$//' || true
echo "== the run took $(( $(date +%s) - start ))s; state read back from the API:"
python scripts/demo_report.py "$url" "$(find "$work/staging" -name '*.labels.jsonl' | head -n 1)"
