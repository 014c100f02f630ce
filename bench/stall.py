#!/usr/bin/env python3
"""Does a large GraphQL import stall other requests? (issue 13, goal 2)

Starts `sync-manager serve` over a fresh database, then, RUNS times: sends one
`importProperties` of ~64 MiB (LISTINGS generated listings of ~1.7 KB, all new, one request)
and, while it runs, a small query (`sources(first: 5) { totalCount }`) from PROBES threads one
after another; prints the small query's p50 / p99 / max latency during the import, the same
with no import running, and the import's wall time, per run and the median over the runs.

    bench/stall.py [BIN] [RUNS] [LISTINGS] [PROBES]
        BIN       default target/release/sync-manager
        RUNS      default 3
        LISTINGS  default 36000 (a 64 MiB body at most: the default SYNC_MAX_BODY_BYTES)
        PROBES    default 2
    BENCH_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres bench/stall.py
        the same on a fresh PostgreSQL database (dropped at the end)
"""
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PORT = int(os.environ.get("BENCH_PORT", "8197"))
URL = f"http://127.0.0.1:{PORT}/graphql"
SMALL = '{ sources(first: 5) { totalCount } }'


def generator():
    spec = importlib.util.spec_from_file_location("listings", os.path.join(HERE, "listings.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def encode(query, variables=None):
    return json.dumps({"query": query, "variables": variables or {}}).encode()


def post(key, query, variables=None, body=None):
    """Sends one GraphQL request; `body`, when given, is the request already encoded."""
    body = body or encode(query, variables)
    request = urllib.request.Request(URL, data=body, headers={
        "Content-Type": "application/json", "X-API-Key": key})
    with urllib.request.urlopen(request, timeout=600) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    return answer["data"]


def cli(binary, env, *args):
    out = subprocess.run([binary, *args, "--json"], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def probe(key, stop, latencies):
    while not stop.is_set():
        started = time.perf_counter()
        post(key, SMALL)
        latencies.append((time.perf_counter() - started) * 1000)


def measure(key, probes, work):
    """Runs `work()` while `probes` threads send the small query; returns (latencies, seconds)."""
    stop, latencies = threading.Event(), []
    threads = [threading.Thread(target=probe, args=(key, stop, latencies)) for _ in range(probes)]
    for thread in threads:
        thread.start()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    stop.set()
    for thread in threads:
        thread.join()
    return latencies, seconds


def figures(latencies):
    return (statistics.median(latencies), percentile(latencies, 99), max(latencies))


def main():
    binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/sync-manager"
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 36000
    probes = int(sys.argv[4]) if len(sys.argv) > 4 else 2
    work = tempfile.mkdtemp()
    env = dict(os.environ, RUST_LOG="warn", SYNC_RESPONSE_CACHE_MB="0", SYNC_REQUEST_TIMEOUT_MS="600000")
    admin, database = os.environ.get("BENCH_POSTGRES_URL"), None
    if admin:
        database = f"sm_stall_{os.getpid()}"
        subprocess.run(["psql", admin, "-qc", f"CREATE DATABASE {database}"], check=True)
        env["DATABASE_URL"] = f"{admin.rsplit('/', 1)[0]}/{database}?sslmode=disable"
    else:
        env["DATABASE_URL"] = f"sqlite://{work}/stall.db?mode=rwc"
    subprocess.run([binary, "init"], env=env, check=True, capture_output=True)
    key = cli(binary, env, "create-tenant", "Stall", "--slug", "stall")["key"]
    server = subprocess.Popen([binary, "serve", "--bind", f"127.0.0.1:{PORT}"], env=env,
                              stdout=subprocess.DEVNULL)
    try:
        time.sleep(2)
        rng_module = generator()
        rows = []
        for run in range(runs):
            source = cli(binary, env, "create-source", "stall", f"Feed {run}")["source"]["id"]
            rng = rng_module.random.Random(run)
            items = [rng_module.listing(rng, i, f"R{run}-") for i in range(count)]
            size = len(json.dumps(items)) / 2**20
            idle, _ = measure(key, probes, lambda: time.sleep(3))
            query = ("mutation($s: ID!, $items: JSON!) { importProperties(input: "
                     "{ sourceId: $s, items: $items }) { importRun { created } } }")
            # Encoded before the clock starts: `json.dumps` of ~56 MiB holds Python's GIL for
            # ~0.6 s, which would stall this client's own probe threads, not the server.
            body = encode(query, {"s": source, "items": items})
            busy, seconds = measure(key, probes, lambda: post(key, query, body=body))
            rows.append((figures(idle), figures(busy), seconds, len(busy)))
            print(f"run {run + 1}: {count} listings ({size:.1f} MiB) imported in {seconds:.2f} s; "
                  f"small query idle p50/p99/max {'/'.join(f'{v:.1f}' for v in figures(idle))} ms, "
                  f"during the import {'/'.join(f'{v:.1f}' for v in figures(busy))} ms "
                  f"({len(busy)} queries)", flush=True)
        median = lambda pick: statistics.median(pick(row) for row in rows)
        print(f"median of {runs}: import {median(lambda r: r[2]):.2f} s; small query during it "
              f"p50 {median(lambda r: r[1][0]):.1f} ms, p99 {median(lambda r: r[1][1]):.1f} ms, "
              f"max {median(lambda r: r[1][2]):.1f} ms; idle p99 {median(lambda r: r[0][1]):.1f} ms")
    finally:
        server.terminate()
        server.wait()
        if database:
            subprocess.run(["psql", admin, "-qc", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"])


if __name__ == "__main__":
    main()
