#!/usr/bin/env bash
# Two or more builds of the server, alternated round by round on one PostgreSQL database, for
# differences smaller than the machine's drift (BENCHMARKS.md, "Goal 5 and goal 6 once more"):
# requests per second and the server's CPU time per request, for each build in each round.
#
# Data: 10 sources x BENCH_LISTINGS (default 10,000) listings of bench/listings.py in one
# tenant, VACUUM ANALYZEd, with the price path indexed unless BENCH_INDEXED=0. Query (as in
# bench/load.sh): BENCH_QUERY=nested (10 sources x their first 100 listings) or filtered (price
# < 500,000, ordered by price; the default). Each build serves with its response cache off and
# gets a 3 s warm-up, then BENCH_DURATION (default 8s) of wrk at BENCH_CONNECTIONS (default 16).
#
# BENCH_BUSY=1 runs every round while the first build's CLI imports 100,000 listings into
# another tenant over and over (alternating two scrapes, as bench/load.sh's busy phase does).
#
#   bench/alternate.sh OLD_BINARY NEW_BINARY              (4 rounds)
#   BENCH_ROUNDS=6 BENCH_QUERY=nested bench/alternate.sh A B C
#   BENCH_BUSY=1 BENCH_CONNECTIONS=2 bench/alternate.sh A B  (under a concurrent import)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/common.sh
[ $# -ge 2 ] || { echo "usage: $0 BINARY BINARY [BINARY...]" >&2; exit 2; }
PG_ADMIN="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="sm_alternate_$$"
PORT="${BENCH_PORT:-8095}"
LISTINGS="${BENCH_LISTINGS:-10000}"
ROUNDS="${BENCH_ROUNDS:-4}"
QUERY="${BENCH_QUERY:-filtered}"
CONNECTIONS="${BENCH_CONNECTIONS:-16}"
DURATION="${BENCH_DURATION:-8s}"

WORK=$(mktemp -d)
SERVER=
BUSY=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    [ -n "$BUSY" ] && { kill -STOP "$BUSY"; pkill -KILL -P "$BUSY"; kill -KILL "$BUSY"; } 2>/dev/null || true
    psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $DB WITH (FORCE)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
psql "$PG_ADMIN" -qc "CREATE DATABASE $DB"
export DATABASE_URL="${PG_ADMIN%/*}/$DB?sslmode=disable"
BIN="$1"
KEY=$($BIN create-tenant "Alternate" --slug alt --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
for s in $(seq 0 9); do
    $BIN create-source alt "Source $s" --json >/dev/null
    python3 bench/listings.py "$LISTINGS" "S${s}-" "$s" > "$WORK/s.ndjson"
    $BIN import alt "Source $s" "$WORK/s.ndjson" >/dev/null
done
[ "${BENCH_INDEXED:-1}" = 1 ] && $BIN index-path add price >/dev/null
if [ "${BENCH_BUSY:-0}" = 1 ]; then
    $BIN create-tenant "Busy Importer" --slug busy --json >/dev/null
    $BIN create-source busy "Scrape" --json >/dev/null
    python3 bench/listings.py 100000 "B-" 100 > "$WORK/busy-a.ndjson"
    python3 bench/listings.py 100000 "B-" 101 > "$WORK/busy-b.ndjson"
fi
psql "${PG_ADMIN%/*}/$DB" -qc "VACUUM ANALYZE"
if [ "${BENCH_BUSY:-0}" = 1 ]; then
    (while true; do
        for f in a b; do
            $BIN import busy Scrape "$WORK/busy-$f.ndjson" --mode full --allow-mass-removal >/dev/null
        done
    done) &
    BUSY=$!
    sleep 3
fi

case "$QUERY" in
    nested) ARGS='first: 100' ;;
    filtered) ARGS='first: 100, where: [{ path: \"price\", op: LT, value: 500000 }], orderBy: { path: \"price\" }' ;;
    *) echo "BENCH_QUERY is nested or filtered" >&2; exit 2 ;;
esac
lua "$WORK/query.lua" "{ sources(first: 10) { edges { node { id name properties($ARGS) { edges { node { id externalId contentHash updatedAt } } } } } } }" "$KEY"

# The server's user + system CPU time, in clock ticks.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
echo "# $QUERY, $CONNECTIONS connections, $DURATION a round, busy=${BENCH_BUSY:-0}, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| round | build | req/s | server CPU ms / request |"
echo "| ---: | --- | ---: | ---: |"
HZ=$(getconf CLK_TCK)
for round in $(seq "$ROUNDS"); do
    for bin in "$@"; do
        SYNC_RESPONSE_CACHE_MB=0 RUST_LOG=warn "$bin" serve --bind "127.0.0.1:$PORT" >/dev/null 2>&1 &
        SERVER=$!
        for _ in $(seq 50); do
            curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
            sleep 0.1
        done
        wrk -t2 -c"$CONNECTIONS" -d3s -s "$WORK/query.lua" "http://127.0.0.1:$PORT/graphql" >/dev/null
        before=$(ticks "$SERVER")
        out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -s "$WORK/query.lua" "http://127.0.0.1:$PORT/graphql")
        after=$(ticks "$SERVER")
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null || true
        SERVER=
        echo "$out" | grep -q "Non-2xx" && { echo "$bin: non-2xx answers" >&2; exit 1; }
        requests=$(echo "$out" | awk '/requests in/ { print $1 }')
        rps=$(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
        cpu=$(awk -v t=$((after - before)) -v n="$requests" -v hz="$HZ" 'BEGIN { printf "%.2f", t * 1000 / hz / n }')
        echo "| $round | $bin | $rps | $cpu |"
    done
done
