#!/usr/bin/env bash
# DEPLOY.md's single-host rehearsal: PostgreSQL + a local Ray cluster + two API replicas +
# a Ray worker; a job created through one replica, watched and called through the other.
# Usage: deploy/rehearse.sh   (from the repo root, after `make setup`; needs the local
# PostgreSQL server of DEPLOY.md, trust auth). Exits non-zero on any failure.
set -euo pipefail
export PATH="$PWD/.venv/bin:$PATH"
PG=${REHEARSAL_POSTGRES:-postgresql://postgres@127.0.0.1:5432}
DB=sintonia_rehearsal_$$
RAY_PORT=${REHEARSAL_RAY_PORT:-6390}
export SINTONIA_HOME=$(mktemp -d)
export SINTONIA_DATABASE_URL=$PG/$DB
export SINTONIA_MODELS_DIR=${SINTONIA_MODELS_DIR:-$PWD/.cache/models}
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # `ray stop` stops every Ray cluster of this machine, not only this one: rehearse on a
  # machine where no other Ray work runs.
  ray stop --force >/dev/null 2>&1 || true
  psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $DB" >/dev/null 2>&1 || true
  echo "logs were in $SINTONIA_HOME"
}
trap cleanup EXIT

psql "$PG/postgres" -qc "CREATE DATABASE $DB"
ray start --head --port="$RAY_PORT" --num-cpus=2 --include-dashboard=false >/dev/null
sintonia serve --port 8081 --workers 0 >"$SINTONIA_HOME/api1.log" 2>&1 & pids+=($!)
sintonia serve --port 8082 --workers 0 >"$SINTONIA_HOME/api2.log" 2>&1 & pids+=($!)
sintonia worker --backend ray --ray-address "127.0.0.1:$RAY_PORT" >"$SINTONIA_HOME/worker.log" 2>&1 & pids+=($!)
KEY=$(sintonia keys create --name rehearsal --email me@example.com 2>/dev/null)

for port in 8081 8082; do
  until curl -sf -o /dev/null -H "x-goog-api-key: $KEY" "http://127.0.0.1:$port/v1beta/models"; do sleep 1; done
done

python - <<'PY' >"$SINTONIA_HOME/job.json"
import json
from sintonia.demo import next_number_pairs
examples = [{"textInput": x, "output": y} for x, y in next_number_pairs(40)]
print(json.dumps({
    "baseModel": "models/smollm2-135m-instruct",
    "displayName": "rehearsal",
    "tuningTask": {"hyperparameters": {"epochCount": 3, "batchSize": 4},
                   "trainingData": {"examples": {"examples": examples}}},
}))
PY
curl -sf -H "x-goog-api-key: $KEY" -H 'content-type: application/json' \
  'http://127.0.0.1:8081/v1beta/tunedModels?tunedModelId=rehearsal' -d @"$SINTONIA_HOME/job.json" >/dev/null
echo "job created through replica 1; watching it through replica 2"
state=CREATING
for _ in $(seq 600); do
  state=$(curl -sf -H "x-goog-api-key: $KEY" http://127.0.0.1:8082/v1beta/tunedModels/rehearsal |
    python -c 'import json,sys; m=json.load(sys.stdin); print(m["state"], len(m.get("tuningTask",{}).get("snapshots",[])))')
  echo "  $state"
  [[ $state == CREATING* ]] || break
  sleep 2
done
[[ $state == ACTIVE* ]] || { echo "job ended $state"; tail -30 "$SINTONIA_HOME/worker.log"; exit 1; }
grep -q "(_run_task pid=" "$SINTONIA_HOME/worker.log" || { echo "the worker log shows no Ray task"; exit 1; }
answer=$(curl -sf -H "x-goog-api-key: $KEY" -H 'content-type: application/json' \
  http://127.0.0.1:8082/v1beta/tunedModels/rehearsal:generateContent \
  -d '{"contents":[{"parts":[{"text":"41"}]}],"generationConfig":{"maxOutputTokens":8}}' |
  python -c 'import json,sys; print(json.load(sys.stdin)["candidates"][0]["content"]["parts"][0]["text"])')
echo "replica 2 answers 41 -> $answer (30 steps on 40 examples: the plumbing is the point, not the answer)"
echo "rehearsal passed"
