#!/usr/bin/env bash
# The COPY limit of a first import on PostgreSQL (issue 13 goal 1), beside `sync-manager import`.
#
#   bench/copy_limit.sh [N]      (default 100000 listings; 3 runs of each, medians printed)
#
# Ours: `sync-manager import TENANT SOURCE listings.ndjson` into a fresh database, timed as a
# whole command (process start, reading, parsing, canonical JSON, hashing, writing).
# The limit: `psql` streaming the same rows with `COPY` into a temporary table, then one
# `INSERT … SELECT … ON CONFLICT` into source_properties, with hashes precomputed (not timed).
# Environment: PG (server URL without a database, default postgres://postgres@127.0.0.1:5432),
# BIN (default target/release/sync-manager; build it with `cargo build --release`), RUNS (3).
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-100000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
BIN=${BIN:-target/release/sync-manager}
RUNS=${RUNS:-3}
export PGOPTIONS=--client-min-messages=warning
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

python3 bench/listings.py "$N" > "$WORK/listings.ndjson"
# The rows the limit copies: external id, the listing, its SHA-256 (COPY text format).
python3 - "$WORK/listings.ndjson" > "$WORK/listings.tsv" <<'PY'
import hashlib, json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    item = json.loads(line)
    canonical = json.dumps(item, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    text = json.dumps(item, ensure_ascii=False).replace("\\", "\\\\")
    print(f"{item['id']}\t{text}\t{hashlib.sha256(canonical.encode()).hexdigest()}")
PY

# A fresh, migrated database with one tenant and one source; prints the database's URL.
fresh() {
    local db="copy_limit_$$_$1"
    psql -q "$PG/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db" >/dev/null
    DATABASE_URL="$PG/$db" "$BIN" init >/dev/null
    DATABASE_URL="$PG/$db" "$BIN" create-tenant "Bench" --slug bench --json >/dev/null
    DATABASE_URL="$PG/$db" "$BIN" create-source bench listings --json >/dev/null
    echo "$PG/$db"
}
drop() { psql -q "$PG/postgres" -c "DROP DATABASE ${1##*/}" >/dev/null; }
now() { date +%s.%N; }

ours=() limit=()
for run in $(seq "$RUNS"); do
    url=$(fresh "ours_$run")
    start=$(now)
    DATABASE_URL="$url" "$BIN" import bench listings "$WORK/listings.ndjson" --json >/dev/null
    ours+=("$(echo "$(now) - $start" | bc)")
    rows=$(psql -qtA "$url" -c "SELECT count(*) FROM source_properties")
    [ "$rows" = "$N" ] || { echo "the import wrote $rows rows, not $N" >&2; exit 1; }
    drop "$url"

    url=$(fresh "limit_$run")
    read -r tenant source < <(psql -qtA -F ' ' "$url" -c "SELECT tenant_id, id FROM sources")
    start=$(now)
    psql -q -v ON_ERROR_STOP=1 "$url" >/dev/null <<SQL
BEGIN;
CREATE TEMPORARY TABLE staging (external_id text, data jsonb, content_hash text) ON COMMIT DROP;
\copy staging FROM '$WORK/listings.tsv'
INSERT INTO source_properties (tenant_id, source_id, external_id, data, content_hash, created_at, updated_at)
SELECT $tenant, $source, external_id, data, content_hash, now(), now() FROM staging
ON CONFLICT (tenant_id, source_id, external_id) DO UPDATE
  SET data = excluded.data, content_hash = excluded.content_hash, updated_at = excluded.updated_at;
COMMIT;
SQL
    limit+=("$(echo "$(now) - $start" | bc)")
    rows=$(psql -qtA "$url" -c "SELECT count(*) FROM source_properties")
    [ "$rows" = "$N" ] || { echo "the limit wrote $rows rows, not $N" >&2; exit 1; }
    drop "$url"
    echo "run $run: ours ${ours[-1]} s, limit ${limit[-1]} s"
done

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m_ours=$(median "${ours[@]}")
m_limit=$(median "${limit[@]}")
echo "listings: $N; $BIN; load: $(uptime | sed 's/.*load average: //')"
printf 'median of %d: sync-manager import %.2f s, COPY limit %.2f s, ratio %.2f\n' \
    "$RUNS" "$m_ours" "$m_limit" "$(echo "$m_ours / $m_limit" | bc -l)"
