#!/usr/bin/env python3
"""Side-by-side figure for the bulk_load bench: the same push through the official Python
client, mstrio-py (`SuperCube`), against the same reference server.

    python3 benches/mstrio_bulk_load.py --sf 0.1

- The data is the Parquet file the Rust bench generated and cached
  (target/bench-data/lineitem-sf{SF}.parquet; run `cargo bench --bench bulk_load -- --sf SF`
  first), read into a pandas DataFrame before the clock starts.
- The server is started here with `pushdata serve --addr 127.0.0.1:0` (the binary given with
  --pushdata, else target/release/pushdata, else `cargo run --release -p pushdata-cli`), or
  an already running one is used with --url.
- Timed: `SuperCube(...).add_table(...)` + `create()` with mstrio-py's defaults
  (chunks of 100000 rows, auto upload and publish), i.e. model, upload session, chunks,
  publish and the publish-status polling, as the Rust bench's wall time (which also
  excludes login).
- If target/bench-data/bulk_load-results.json holds a pushdata run of the same SF (server in
  a child process), the ratio is printed too.

Skips (exit 0 with a message) where mstrio-py, pandas or pyarrow are missing.
"""

import argparse
import sys
import time

from bench_common import PROJECT_ID, Bench

BENCH = Bench("mstrio_bulk_load")
# Issue 17: pushdata end to end at least this many times faster than mstrio-py (wall).
TARGET_SPEEDUP = 15


def push_with_mstrio(url: str, df, chunksize: int) -> tuple[float, float]:
    """Push `df` as a new one-table dataset with `SuperCube.create` (mstrio-py's defaults):
    (wall seconds, CPU seconds of this process), login excluded."""
    from mstrio import config
    from mstrio.connection import Connection
    from mstrio.project_objects.datasets import SuperCube

    config.verbose = False
    # By id: with project_name=, mstrio-py's Connection also builds a Project object,
    # whose is_loaded() calls GET /api/monitors/iServer/nodes, which the reference
    # server does not implement (404 ERR004).
    conn = Connection(url, "administrator", "", project_id=PROJECT_ID, login_mode=1)
    started = time.perf_counter()
    cpu_started = time.process_time()
    cube = SuperCube(connection=conn, name=f"mstrio_lineitem_{int(time.time())}",
                     progress_bar=False)
    cube.add_table(name="lineitem", data_frame=df, update_policy="replace")
    cube.create(chunksize=chunksize)
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    status = cube.publish_status()
    if int(status.get("status", 0)) != 1:
        BENCH.fail(f"the publish status is {status}, not 1 (ready)")
    conn.close()
    return wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sf", type=float, default=0.1, help="TPC-H scale factor (default 0.1)")
    ap.add_argument("--url", help="base URL of a running server (default: start one)")
    ap.add_argument("--pushdata", help="path of the pushdata CLI binary")
    ap.add_argument("--chunksize", type=int, default=100000,
                    help="rows per chunk (mstrio-py's default 100000)")
    args = ap.parse_args()

    try:
        import pandas as pd
        import pyarrow  # noqa: F401  (pandas' Parquet engine)
        import mstrio
    except ImportError as e:
        BENCH.skip(f"{e.name} is not installed (pip install mstrio-py pandas pyarrow)")

    parquet = BENCH.lineitem(args.sf, "bulk_load")

    t0 = time.perf_counter()
    df = pd.read_parquet(parquet)
    print(f"mstrio_bulk_load: read {len(df)} rows into pandas in {time.perf_counter() - t0:.1f} s "
          f"(mstrio-py {mstrio.__version__}, pandas {pd.__version__})", file=sys.stderr)

    with BENCH.server(args.pushdata, args.url) as url:
        wall, cpu = push_with_mstrio(url, df, args.chunksize)

    rows = len(df)
    print()
    print("### mstrio-py (SuperCube.create) against the same reference server")
    print()
    print(f"| SF | client | rows | chunks | wall (s) | rows/s | client CPU (s) | pushdata wall (s) | pushdata client CPU (s) | pushdata speed-up, wall (target ≥ {TARGET_SPEEDUP:g}×) | client CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours = BENCH.pushdata_result("bulk_load", args.sf)
    ours_wall = ours["wall_s"] if ours else None
    ours_cpu = ours["cpu_s"] if ours else None
    chunks = -(-rows // args.chunksize)
    fmt = lambda v, f: f.format(v) if v else "—"
    print(f"| {args.sf:g} | mstrio-py {mstrio.__version__} | {rows} | {chunks} | {wall:.2f} | "
          f"{rows / wall:.0f} | {cpu:.2f} | {fmt(ours_wall, '{:.2f}')} | {fmt(ours_cpu, '{:.2f}')} | "
          f"{fmt(ours_wall and wall / ours_wall, '{:.1f}×')}"
          f"{(' (met)' if wall / ours_wall >= TARGET_SPEEDUP else ' (missed)') if ours_wall else ''} | "
          f"{fmt(ours_cpu and cpu / ours_cpu, '{:.1f}×')} |")
    print()
    print("pushdata figures: the bulk_load run of the same SF with the server in a child process "
          "(client CPU = the client process's user + system time); mstrio-py client CPU = "
          "time.process_time() of the Python process around create().")


if __name__ == "__main__":
    main()
