#!/usr/bin/env bash
# A large NDJSON file imported by the CLI and uploaded to the server's streamed import
# (POST /sources/{id}/import), on SQLite and PostgreSQL (issue 13, goal 4): listings/s of each
# and the server's peak RSS (VmHWM) during the upload, RUNS times each, into a fresh database
# every time (every listing new).
#   bench/upload.sh                 (1 GB of listings, 3 runs, both databases; release build)
#   BENCH_LISTINGS=60000 BENCH_RUNS=1 BENCH_DATABASES=sqlite bench/upload.sh
# The file is kept as $BENCH_FILE (default /tmp/sm-upload-LISTINGS.ndjson) for the next run.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN="${BENCH_BIN:-target/release/sync-manager}"
LISTINGS="${BENCH_LISTINGS:-625000}"   # 1.0 GB
RUNS="${BENCH_RUNS:-3}"
PG_ADMIN="${BENCH_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
PORT="${BENCH_PORT:-8094}"
FILE="${BENCH_FILE:-/tmp/sm-upload-$LISTINGS.ndjson}"
[ -x "$BIN" ] || cargo build --release --bin sync-manager
# bench/listings.py is slow (minutes per 100,000 listings): the file repeats 50,000 of them
# under other ids (`C0-L7`, `C1-L7`, …), every listing still distinct (its id is in its hash).
if [ ! -s "$FILE" ]; then
    BASE=$(( LISTINGS < 50000 ? LISTINGS : 50000 ))
    python3 bench/listings.py "$BASE" > "$FILE.base"
    # `head` stops reading before the last copy ends: that copy's broken pipe is not a failure.
    (set +o pipefail
    for k in $(seq 0 $(( (LISTINGS - 1) / BASE ))); do
        sed "s/^{\"id\": \"L/{\"id\": \"C$k-L/" "$FILE.base"
    done | head -n "$LISTINGS" > "$FILE")
    rm "$FILE.base"
fi
WORK=$(mktemp -d)
SERVER=
PG_DB=
cleanup() {
    [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
    [ -n "$PG_DB" ] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" || true
    rm -rf "$WORK"
}
trap cleanup EXIT
export RUST_LOG=warn

# A fresh database with tenant `bench` and source `Feed`; prints the API key.
fresh() {
    if [ "$1" = postgres ]; then
        [ -n "$PG_DB" ] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)"
        PG_DB="sm_upload_$$"
        export DATABASE_URL="${PG_ADMIN%/*}/$PG_DB?sslmode=disable"
    else
        rm -f "$WORK"/u.db*
        export DATABASE_URL="sqlite://$WORK/u.db?mode=rwc"
    fi
    $BIN init >/dev/null
    local key
    key=$($BIN create-tenant Bench --slug bench --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')
    $BIN create-source bench Feed --json >/dev/null
    echo "$key"
}

now() { date +%s.%N; }
rate() { python3 -c "print(f'{$LISTINGS / ($2 - $1):,.0f}')"; }

echo "file: $FILE ($(stat -c %s "$FILE") bytes, $LISTINGS listings); load: $(uptime | sed 's/.*load/load/')"
for db in ${BENCH_DATABASES:-sqlite postgres}; do
    for run in $(seq "$RUNS"); do
        fresh "$db" >/dev/null
        start=$(now)
        /usr/bin/time -f '%M' -o "$WORK/cli.rss" $BIN import bench Feed "$FILE" >/dev/null
        end=$(now)
        echo "$db run $run: CLI import:  $(python3 -c "print(f'{$end - $start:.1f}')") s, $(rate "$start" "$end") listings/s, peak RSS $(( $(cat "$WORK/cli.rss") / 1024 )) MiB"

        key=$(fresh "$db")
        $BIN serve --bind "127.0.0.1:$PORT" >/dev/null &
        SERVER=$!
        sleep 2
        start=$(now)
        curl -sS --fail-with-body -X POST -T "$FILE" -H 'Content-Type: application/x-ndjson' \
            -H "X-API-Key: $key" "http://127.0.0.1:$PORT/sources/1/import" > "$WORK/answer.json"
        end=$(now)
        hwm=$(awk '/VmHWM/ { print int($2 / 1024) }' "/proc/$SERVER/status")
        created=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["importRun"]["created"])' "$WORK/answer.json")
        kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=
        echo "$db run $run: HTTP upload: $(python3 -c "print(f'{$end - $start:.1f}')") s, $(rate "$start" "$end") listings/s, server peak RSS $hwm MiB, created $created"
    done
done
