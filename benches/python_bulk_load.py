#!/usr/bin/env python3
"""The Python package against mstrio-py and against the CLI: TPC-H lineitem pushed through
`pushdata` (the Python package) from a pyarrow Table, through mstrio-py (`SuperCube`)
from a pandas DataFrame, and through the `pushdata` CLI from the Parquet file, all into
the same reference server.

    python3 benches/python_bulk_load.py --sf 0.1

- The data is the Parquet file the Rust bench generated and cached
  (target/bench-data/lineitem-sf{SF}.parquet; run `cargo bench --bench bulk_load -- --sf SF`
  first), read into a pyarrow Table and a pandas DataFrame before any clock starts.
- The server is `pushdata serve --addr 127.0.0.1:0` in a child process (the binary given
  with --pushdata, else target/release/pushdata, else `cargo run --release -p pushdata-cli`).
  Every push makes a new dataset with the defaults (20 MiB chunks, 3 uploads in flight;
  mstrio-py: chunks of 100000 rows).
- Timed, login excluded: `client.push(table, dataset=...)` (the pyarrow Table) and
  `client.push(path)` (the same Parquet file the CLI reads) with perf_counter around the
  call; the CLI's push as it reports it (`pushdata push FILE --url URL --json`, its
  `seconds`: the push pipeline's wall time, without process start and login); mstrio-py's
  `SuperCube.create` as in benches/mstrio_bulk_load.py. The pushdata figures are the
  median of --repeat runs (default 5), made in rounds of one push of each kind whose order
  rotates from round to round; mstrio-py runs once.
- "Python overhead" compares the package pushing the Parquet path with the CLI pushing
  the same file: the same work (Parquet decode included) behind the two front ends; it is
  the median over the rounds of each round's ratio, so a drift of the machine's speed
  between rounds does not count as overhead.
- The package should be a release build (`pip install ./crates/pushdata-python`, not
  `maturin develop`), in the same environment as mstrio-py.

Skips (exit 0 with a message) where the pushdata package or pyarrow is missing; without
mstrio-py or pandas its columns say so.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time

from bench_common import ROOT, Bench

BENCH = Bench("python_bulk_load")


def timed(f) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result) of `f()`."""
    started, cpu_started = time.perf_counter(), time.process_time()
    result = f()
    return time.perf_counter() - started, time.process_time() - cpu_started, result


def cli_push(cli: list[str], url: str, parquet: str, name: str) -> float:
    """The CLI's own wall time for pushing `parquet` into a new dataset."""
    out = subprocess.run(cli + ["push", parquet, "--url", url, "--dataset", name, "--json"],
                         cwd=ROOT, check=True, capture_output=True, text=True)
    return float(json.loads(out.stdout)["seconds"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sf", type=float, default=0.1, help="TPC-H scale factor (default 0.1)")
    ap.add_argument("--pushdata", help="path of the pushdata CLI binary")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each pushdata push (median)")
    ap.add_argument("--chunksize", type=int, default=100000,
                    help="rows per chunk of mstrio-py (its default 100000)")
    args = ap.parse_args()

    try:
        import pyarrow.parquet as pq

        import pushdata
    except ImportError as e:
        BENCH.skip(f"{e.name} is not installed (pip install ./crates/pushdata-python)")
    try:
        import mstrio
        import pandas  # noqa: F401

        from mstrio_bulk_load import push_with_mstrio
    except ImportError as e:
        mstrio, why_no_mstrio = None, f"{e.name} is not installed"

    parquet = BENCH.lineitem(args.sf, "bulk_load")
    table = pq.read_table(parquet)
    df = table.to_pandas() if mstrio else None
    rows = table.num_rows
    cli = BENCH.pushdata_binary(args.pushdata)

    with BENCH.server(args.pushdata) as url:
        with pushdata.connect(url) as client:
            runs = {"table": [], "path": [], "cli": []}
            outside = []  # the package's wall time around push(path) minus its pipeline's

            def push_table(i):
                wall, cpu, report = timed(lambda: client.push(table, dataset=f"py_table_{i}"))
                assert report.rows == rows, report
                runs["table"].append((wall, cpu, report.chunks))

            def push_path(i):
                wall, cpu, report = timed(lambda: client.push(str(parquet), dataset=f"py_path_{i}"))
                assert report.rows == rows, report
                runs["path"].append((wall, cpu, report.chunks))
                outside.append(wall - report.seconds)

            def push_cli(i):
                runs["cli"].append((cli_push(cli, url, str(parquet), f"cli_{i}"), None, None))

            # The order rotates from round to round, so that no front end always runs
            # first (or right after the other) while the machine's speed drifts.
            order = [push_table, push_path, push_cli]
            for i in range(args.repeat):
                for push in order[i % 3:] + order[:i % 3]:
                    push(i)
            mstrio_wall = mstrio_cpu = None
            if mstrio:
                mstrio_wall, mstrio_cpu = push_with_mstrio(url, df, args.chunksize)

    med = {k: statistics.median(w for w, _, _ in v) for k, v in runs.items()}
    cpu = {k: statistics.median(c for _, c, _ in v) for k, v in runs.items() if k != "cli"}
    chunks = runs["table"][0][2]
    # Per round: the package's Parquet-path push against the CLI's push of the same file
    # in the same round; the median of those ratios.
    overhead = (statistics.median(p[0] / c[0] for p, c in zip(runs["path"], runs["cli"])) - 1) * 100
    speedup = mstrio_wall / med["table"] if mstrio_wall else None
    fmt = lambda v, f: f.format(v) if v is not None else "—"
    print()
    print("### The Python package (pyarrow Table, Parquet path) against the CLI and mstrio-py (pandas), same reference server")
    print()
    print("| SF | rows | chunks | package, pyarrow Table: wall (s) | CPU (s) | package, Parquet path: wall (s) | CPU (s) | CLI, same file: wall (s) | Python overhead vs CLI (target ≤ 10%) | mstrio-py from pandas: wall (s) | CPU (s) | speed-up vs mstrio-py, wall (target ≥ 10×) |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {args.sf:g} | {rows} | {chunks} | {med['table']:.2f} | {cpu['table']:.2f} | "
          f"{med['path']:.2f} | {cpu['path']:.2f} | {med['cli']:.2f} | {overhead:+.1f}%"
          f"{' (met)' if overhead <= 10 else ' (missed)'} | {fmt(mstrio_wall, '{:.2f}')} | "
          f"{fmt(mstrio_cpu, '{:.2f}')} | {fmt(speedup, '{:.1f}×')}"
          f"{(' (met)' if speedup >= 10 else ' (missed)') if speedup else ''} |")
    print()
    print(f"pushdata package and CLI: median of {args.repeat} runs each, in rounds of one push each "
          f"(the order rotating); the Python overhead is the median of the rounds' ratios "
          f"(package Parquet path ÷ CLI); the package's time outside its push pipeline "
          f"(wall around push(path) minus the pipeline time it reports, as the CLI reports): "
          f"median {statistics.median(outside) * 1000:.1f} ms; "
          f"CPU = time.process_time() of the Python process around the push (all its threads); "
          f"the CLI's wall time is the one it reports (--json seconds). "
          + (f"mstrio-py {mstrio.__version__}: one run." if mstrio else f"mstrio-py: not run ({why_no_mstrio})."))


if __name__ == "__main__":
    main()
