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
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The reference server's default project ("MicroStrategy Tutorial").
PROJECT_ID = "B19DEDCC11D4E0EFC000EB9495D0F44F"


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


def skip(message: str) -> None:
    print(f"mstrio_bulk_load: skipped: {message}")
    sys.exit(0)


def start_server(binary: str | None, data_dir: str):
    if binary:
        cmd = [binary]
    elif (target_dir() / "release" / "pushdata").exists():
        cmd = [str(target_dir() / "release" / "pushdata")]
    elif shutil.which("cargo"):
        cmd = ["cargo", "run", "--quiet", "--release", "-p", "pushdata-cli", "--"]
    else:
        skip("no pushdata binary and no cargo to build one")
    cmd += ["serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("http://127.0.0.1:"):
        proc.terminate()
        sys.exit(f"mstrio_bulk_load: `{' '.join(cmd)}` printed {line!r} instead of its URL")
    return proc, line


def pushdata_result(sf: float):
    path = target_dir() / "bench-data" / "bulk_load-results.json"
    try:
        results = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    for r in results:
        if r.get("mode") == "child" and float(r.get("sf", -1)) == sf:
            return r
    return None


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
        from mstrio import config
        from mstrio.connection import Connection
        from mstrio.project_objects.datasets import SuperCube
        import mstrio
    except ImportError as e:
        skip(f"{e.name} is not installed (pip install mstrio-py pandas pyarrow)")

    parquet = target_dir() / "bench-data" / f"lineitem-sf{args.sf:g}.parquet"
    if not parquet.exists():
        skip(f"{parquet} is missing: run `cargo bench --bench bulk_load -- --sf {args.sf:g}` first")

    config.verbose = False
    t0 = time.perf_counter()
    df = pd.read_parquet(parquet)
    print(f"mstrio_bulk_load: read {len(df)} rows into pandas in {time.perf_counter() - t0:.1f} s "
          f"(mstrio-py {mstrio.__version__}, pandas {pd.__version__})", file=sys.stderr)

    proc = None
    tmp = tempfile.mkdtemp(prefix="pushdata-mstrio-")
    try:
        if args.url:
            url = args.url
        else:
            proc, url = start_server(args.pushdata, tmp)
        # By id: with project_name=, mstrio-py's Connection also builds a Project object,
        # whose is_loaded() calls GET /api/monitors/iServer/nodes, which the reference
        # server does not implement (404 ERR004).
        conn = Connection(url, "administrator", "", project_id=PROJECT_ID, login_mode=1)
        started = time.perf_counter()
        cpu_started = time.process_time()
        cube = SuperCube(connection=conn, name=f"mstrio_lineitem_{int(time.time())}",
                         progress_bar=False)
        cube.add_table(name="lineitem", data_frame=df, update_policy="replace")
        cube.create(chunksize=args.chunksize)
        wall = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
        status = cube.publish_status()
        if int(status.get("status", 0)) != 1:
            sys.exit(f"mstrio_bulk_load: the publish status is {status}, not 1 (ready)")
        conn.close()
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        shutil.rmtree(tmp, ignore_errors=True)

    rows = len(df)
    print()
    print("### mstrio-py (SuperCube.create) against the same reference server")
    print()
    print("| SF | client | rows | chunks | wall (s) | rows/s | client CPU (s) | pushdata wall (s) | pushdata client CPU (s) | pushdata speed-up, wall (target ≥ 10×) | client CPU ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    ours = pushdata_result(args.sf)
    ours_wall = ours["wall_s"] if ours else None
    ours_cpu = ours["cpu_s"] if ours else None
    chunks = -(-rows // args.chunksize)
    fmt = lambda v, f: f.format(v) if v else "—"
    print(f"| {args.sf:g} | mstrio-py {mstrio.__version__} | {rows} | {chunks} | {wall:.2f} | "
          f"{rows / wall:.0f} | {cpu:.2f} | {fmt(ours_wall, '{:.2f}')} | {fmt(ours_cpu, '{:.2f}')} | "
          f"{fmt(ours_wall and wall / ours_wall, '{:.1f}×')}"
          f"{(' (met)' if wall / ours_wall >= 10 else ' (missed)') if ours_wall else ''} | "
          f"{fmt(ours_cpu and cpu / ours_cpu, '{:.1f}×')} |")
    print()
    print("pushdata figures: the bulk_load run of the same SF with the server in a child process "
          "(client CPU = the client process's user + system time); mstrio-py client CPU = "
          "time.process_time() of the Python process around create().")


if __name__ == "__main__":
    main()
