#!/usr/bin/env python3
"""Side-by-side figure for the pull_load bench: the same dataset read back whole through
the official Python client, mstrio-py (`SuperCube(...).to_dataframe()`), against the same
reference server.

    python3 benches/mstrio_pull.py --sf 0.1

- The data is the Parquet file the Rust benches generated and cached
  (target/bench-data/lineitem-sf{SF}.parquet; run `cargo bench --bench pull_load -- --sf SF`
  first). It is published once, not timed, with `pushdata push FILE --url URL --json` (the
  binary given with --pushdata, else target/release/pushdata, else `cargo run --release -p
  pushdata-cli`), as the Rust bench publishes it.
- The server is started here with `pushdata serve --addr 127.0.0.1:0`.
- Timed: `SuperCube(connection, id=...)` (the cube's definition) and `to_dataframe()` with
  mstrio-py's defaults (every attribute and metric; pages fetched by its own thread pool),
  login excluded, as the Rust bench's wall time runs from the instance's creation to the
  last page decoded.
- If target/bench-data/pull_load-results.json holds a pushdata run of the same SF, the ratio
  is printed too.

Skips (exit 0 with a message) where mstrio-py or pandas are missing.
"""

import argparse
import json
import subprocess
import sys
import time

from bench_common import PROJECT_ID, ROOT, Bench

BENCH = Bench("mstrio_pull")


def publish(cli: list[str], url: str, parquet) -> str:
    """Push `parquet` as a new dataset with the CLI; its id."""
    out = subprocess.run(cli + ["push", str(parquet), "--url", url, "--dataset",
                                f"pull_lineitem_{int(time.time())}", "--json"],
                         cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        BENCH.fail(f"publishing {parquet} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)["datasetId"]


def pull_with_mstrio(url: str, cube_id: str):
    """Read the cube whole with mstrio-py: (DataFrame, wall seconds, CPU seconds of this
    process), login excluded."""
    from mstrio import config
    from mstrio.connection import Connection
    from mstrio.project_objects.datasets import SuperCube

    config.verbose = False
    # By id, as benches/mstrio_bulk_load.py (project_name= needs an endpoint the
    # reference server does not have).
    conn = Connection(url, "administrator", "", project_id=PROJECT_ID, login_mode=1)
    started = time.perf_counter()
    cpu_started = time.process_time()
    cube = SuperCube(connection=conn, id=cube_id, progress_bar=False)
    df = cube.to_dataframe()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    conn.close()
    return df, wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sf", type=float, default=0.1, help="TPC-H scale factor (default 0.1)")
    ap.add_argument("--pushdata", help="path of the pushdata CLI binary")
    args = ap.parse_args()

    try:
        import pandas as pd
        import mstrio
    except ImportError as e:
        BENCH.skip(f"{e.name} is not installed (pip install mstrio-py pandas)")

    parquet = BENCH.lineitem(args.sf, "pull_load")
    cli = BENCH.pushdata_binary(args.pushdata)
    with BENCH.server(args.pushdata) as url:
        cube_id = publish(cli, url, parquet)
        df, wall, cpu = pull_with_mstrio(url, cube_id)

    rows = len(df)
    print(f"mstrio_pull: {rows} rows, {len(df.columns)} columns in {wall:.2f} s "
          f"(mstrio-py {mstrio.__version__}, pandas {pd.__version__})", file=sys.stderr)
    ours = BENCH.pushdata_result("pull_load", args.sf)
    if ours and int(ours.get("rows", -1)) != rows:
        BENCH.fail(f"mstrio-py read {rows} rows, pull_load {ours.get('rows')}")
    ours_wall = ours["wall_s"] if ours else None
    ours_cpu = ours["cpu_s"] if ours else None
    fmt = lambda v, f: f.format(v) if v else "—"
    print()
    print("### Pull: mstrio-py (SuperCube.to_dataframe) against pushdata, same reference server")
    print()
    print("| SF | client | rows | wall (s) | rows/s | client CPU (s) | pushdata wall (s) | "
          "pushdata client CPU (s) | pushdata speed-up, wall (target ≥ 10×) | client CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.sf:g} | mstrio-py {mstrio.__version__} | {rows} | {wall:.2f} | "
          f"{rows / wall:.0f} | {cpu:.2f} | {fmt(ours_wall, '{:.2f}')} | {fmt(ours_cpu, '{:.2f}')} | "
          f"{fmt(ours_wall and wall / ours_wall, '{:.1f}×')}"
          f"{(' (met)' if wall / ours_wall >= 10 else ' (missed)') if ours_wall else ''} | "
          f"{fmt(ours_cpu and cpu / ours_cpu, '{:.1f}×')} |")
    print()
    print("pushdata figures: the pull_load run of the same SF (client CPU = the client "
          "process's user + system time); mstrio-py client CPU = time.process_time() of the "
          "Python process around SuperCube(id=...) and to_dataframe() (its page threads "
          "included).")


if __name__ == "__main__":
    main()
