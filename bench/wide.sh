#!/usr/bin/env bash
# The wide-query attack of issue 12 against normal clients (BENCHMARKS.md): the data of
# bench/load.sh (10 sources x 1,000 listings in PostgreSQL), 8 normal clients under wrk running
# the load benchmark's query, first alone, then while 2 attackers post, in a loop, one request
# of 50,000 aliases of `sources(first: 1) { totalCount }` (about 1.9 MB) with a read-only key.
# Prints the normal clients' figures both times, what the attackers got, and the server's peak
# resident memory (VmHWM).
#   bench/wide.sh            (needs wrk, curl, python3, a release build, PostgreSQL on 127.0.0.1)
# Settings: BENCH_DURATION (default 15s), BENCH_ALIASES (default 50000), BENCH_PORT (8091);
# server settings (SYNC_*) pass through the environment.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
PG_ADMIN="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="sm_wide_$$"
BIN=target/release/sync-manager
PORT="${BENCH_PORT:-8091}"
DURATION="${BENCH_DURATION:-15s}"
ALIASES="${BENCH_ALIASES:-50000}"
[ -x "$BIN" ] || cargo build --release --bin sync-manager
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
export DATABASE_URL="${PG_ADMIN%/*}/$DB?sslmode=disable"
SERVER=
ATTACKERS=()
WORK=$(mktemp -d)
cleanup() {
    for pid in "${ATTACKERS[@]}"; do kill "$pid" 2>/dev/null || true; done
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    sleep 1
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
    rm -rf "$WORK"
}
trap cleanup EXIT
KEY=$($BIN create-tenant "Wide Test" --slug wide --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
ATTACK_KEY=$($BIN create-api-key wide --name attacker --read-only --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
for s in $(seq 0 9); do
    $BIN create-source wide "Source $s" --json >/dev/null
    python3 bench/listings.py 1000 "S${s}-" "$s" > "$WORK/s$s.ndjson"
    $BIN import wide "Source $s" "$WORK/s$s.ndjson" >/dev/null
done
psql "${PG_ADMIN%/*}/$DB" -qc "VACUUM ANALYZE"
QUERY='{ sources(first: 10) { edges { node { id name properties(first: 100) { edges { node { id externalId contentHash updatedAt } } } } } } }'
lua "$WORK/post.lua" "$QUERY" "$KEY"
python3 - "$ALIASES" > "$WORK/attack.json" <<'PY'
import json, sys
n = int(sys.argv[1])
query = "{" + "".join(f" a{i}: sources(first: 1) {{ totalCount }}" for i in range(n)) + " }"
print(json.dumps({"query": query}))
PY
echo "attack body: $(wc -c < "$WORK/attack.json") bytes, $ALIASES aliases"

RUST_LOG=warn $BIN serve --bind "127.0.0.1:$PORT" >/dev/null &
SERVER=$!
sleep 2
echo "server RSS at start: $(grep VmRSS /proc/$SERVER/status | awk '{print $2, $3}')"
URL="http://127.0.0.1:$PORT/graphql"
wrk -t2 -c8 -d5s -s "$WORK/post.lua" "$URL" >/dev/null   # warm-up

echo "== 8 normal clients, no attack, $DURATION"
wrk -t2 -c8 -d"$DURATION" --latency -s "$WORK/post.lua" "$URL" | tee "$WORK/quiet.txt"

attack() {
    local n=0
    while true; do
        curl -s -o "$WORK/attack-answer-$1.json" -w '%{http_code} %{time_total}\n' "$URL" \
            -H 'Content-Type: application/json' -H "X-API-Key: $ATTACK_KEY" \
            --data-binary "@$WORK/attack.json" >> "$WORK/attack-$1.log" || true
        n=$((n + 1))
    done
}
attack 1 & ATTACKERS+=($!)
attack 2 & ATTACKERS+=($!)
sleep 1
echo "== 8 normal clients while 2 attackers loop, $DURATION"
wrk -t2 -c8 -d"$DURATION" --latency -s "$WORK/post.lua" "$URL" | tee "$WORK/attacked.txt"
for pid in "${ATTACKERS[@]}"; do kill "$pid" 2>/dev/null || true; done
wait "${ATTACKERS[@]}" 2>/dev/null || true
ATTACKERS=()

echo "== what the attackers got"
cat "$WORK"/attack-*.log | python3 -c '
import sys, statistics
rows = [l.split() for l in sys.stdin if l.strip()]
codes = {}
for code, _ in rows:
    codes[code] = codes.get(code, 0) + 1
times = sorted(float(t) * 1000 for _, t in rows)
print(f"requests: {len(rows)}, HTTP status: {codes}")
if times:
    print(f"answer time: median {statistics.median(times):.1f} ms, max {times[-1]:.1f} ms")
'
python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["errors"][0]; print("answer:", e["extensions"]["code"], "-", e["message"])' "$WORK/attack-answer-1.json"
p99() { grep -E '^ +99%' "$1" | awk '{print $2}'; }
rps() { grep 'Requests/sec' "$1" | awk '{print $2}'; }
echo "== summary"
echo "normal p99: $(p99 "$WORK/quiet.txt") alone, $(p99 "$WORK/attacked.txt") under attack"
echo "normal req/s: $(rps "$WORK/quiet.txt") alone, $(rps "$WORK/attacked.txt") under attack"
echo "server peak RSS (VmHWM): $(grep VmHWM /proc/$SERVER/status | awk '{print $2, $3}'), now $(grep VmRSS /proc/$SERVER/status | awk '{print $2, $3}')"
