#!/usr/bin/env bash
# The read-API load benchmark of BENCHMARKS.md: 10 sources x 1,000 listings in PostgreSQL,
# one query returning 10 x 100 listing nodes, under wrk at 2 and 16 connections; first with
# the response cache (the default), then without it (SYNC_RESPONSE_CACHE_MB=0).
#   bench/load.sh            (needs wrk, python3, a release build, PostgreSQL on 127.0.0.1)
#   BENCH_BIN=/path/to/other/sync-manager BENCH_CACHE_MB=0 bench/load.sh
#                            (another build, e.g. of an older commit, and only the uncached run)
# The server reaches PostgreSQL over loopback without TLS (sslmode=disable), as a server next
# to its database would.
set -euo pipefail
cd "$(dirname "$0")/.."
PG_ADMIN="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="sm_load_$$"
BIN="${BENCH_BIN:-target/release/sync-manager}"   # BENCH_BIN: another build to compare
PORT="${BENCH_PORT:-8090}"
DURATION="${BENCH_DURATION:-10s}"
[ -x "$BIN" ] || cargo build --release --bin sync-manager
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
export DATABASE_URL="${PG_ADMIN%/*}/$DB?sslmode=disable"
SERVER=
trap 'kill $SERVER 2>/dev/null || true; sleep 1; psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)"' EXIT
WORK=$(mktemp -d)
KEY=$($BIN create-tenant "Load Test" --slug load --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["key"] if isinstance(d.get("key"), str) else d["apiKey"])')
for s in $(seq 0 9); do
    $BIN create-source load "Source $s" --json >/dev/null
    python3 bench/listings.py 1000 "S${s}-" "$s" > "$WORK/s$s.ndjson"
    $BIN import load "Source $s" "$WORK/s$s.ndjson" >/dev/null
done
# What autovacuum does within a minute of the import: it marks the pages all-visible, which
# lets listing pages be index-only scans (migration 000007).
psql "${PG_ADMIN%/*}/$DB" -qc "VACUUM ANALYZE"
QUERY='{ sources(first: 10) { edges { node { id name properties(first: 100) { edges { node { id externalId contentHash updatedAt } } } } } } }'
cat > "$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = "$KEY"
wrk.body = [[{"query": "$QUERY"}]]
LUA
for cache_mb in ${BENCH_CACHE_MB:-64 0}; do
    SYNC_RESPONSE_CACHE_MB=$cache_mb RUST_LOG=warn $BIN serve --bind "127.0.0.1:$PORT" >/dev/null &
    SERVER=$!
    sleep 2
    NODES=$(curl -s "http://127.0.0.1:$PORT/graphql" -H 'Content-Type: application/json' -H "X-API-Key: $KEY" \
        -d "{\"query\": \"$QUERY\"}" | python3 -c 'import json,sys; d=json.load(sys.stdin)["data"]; print(sum(len(e["node"]["properties"]["edges"]) for e in d["sources"]["edges"]))')
    echo "#### SYNC_RESPONSE_CACHE_MB=$cache_mb; listing nodes per response: $NODES"
    for c in 2 16; do
        wrk -t2 -c$c -d5s -s "$WORK/post.lua" "http://127.0.0.1:$PORT/graphql" >/dev/null   # warm-up
        echo "== $c connections, $DURATION"
        wrk -t2 -c$c -d"$DURATION" --latency -s "$WORK/post.lua" "http://127.0.0.1:$PORT/graphql"
    done
    kill $SERVER
    wait $SERVER 2>/dev/null || true
done
rm -rf "$WORK"
