"""What the Python benchmarks share: where the Rust benches keep their data and results,
how a benchmark skips, and the reference server started as a child process.

    from bench_common import Bench
    bench = Bench("mstrio_bulk_load")
    parquet = bench.lineitem(0.1, "bulk_load")      # skips when the Rust bench has not made it
    with bench.server(None) as url:                 # `pushdata serve --addr 127.0.0.1:0`
        ...                                         # (stopped, its data removed, on exit)
    ours = bench.pushdata_result("bulk_load", 0.1)  # the Rust bench's run of that SF, or None
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The reference server's default project ("MicroStrategy Tutorial").
PROJECT_ID = "B19DEDCC11D4E0EFC000EB9495D0F44F"


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


class Bench:
    """One benchmark script: its name prefixes what it prints."""

    def __init__(self, name: str) -> None:
        self.name = name

    def skip(self, message: str) -> None:
        """Exit 0 with the reason (a missing optional client is not a failure)."""
        print(f"{self.name}: skipped: {message}")
        sys.exit(0)

    def fail(self, message: str) -> None:
        sys.exit(f"{self.name}: {message}")

    def lineitem(self, sf: float, rust_bench: str) -> Path:
        """The TPC-H lineitem Parquet file of `sf` the Rust benches generate and cache."""
        parquet = target_dir() / "bench-data" / f"lineitem-sf{sf:g}.parquet"
        if not parquet.exists():
            self.skip(f"{parquet} is missing: run `cargo bench --bench {rust_bench} -- --sf {sf:g}` first")
        return parquet

    def pushdata_binary(self, binary: str | None) -> list[str]:
        """The CLI: `binary`, else target/release/pushdata, else `cargo run --release`."""
        if binary:
            return [binary]
        if (target_dir() / "release" / "pushdata").exists():
            return [str(target_dir() / "release" / "pushdata")]
        if shutil.which("cargo"):
            return ["cargo", "run", "--quiet", "--release", "-p", "pushdata-cli", "--"]
        self.skip("no pushdata binary and no cargo to build one")
        return []

    def start_server(self, binary: str | None, data_dir: str):
        """`pushdata serve` on a free loopback port, in a child process: (process, base URL)."""
        cmd = self.pushdata_binary(binary) + ["serve", "--addr", "127.0.0.1:0", "--data-dir", data_dir]
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline().strip()
        if not line.startswith("http://127.0.0.1:"):
            proc.terminate()
            self.fail(f"`{' '.join(cmd)}` printed {line!r} instead of its URL")
        return proc, line

    @contextlib.contextmanager
    def server(self, binary: str | None, url: str | None = None):
        """The base URL of a reference server for the benchmark: `url` when given, else
        `pushdata serve` started on a temporary data directory, stopped and removed when
        the `with` block ends."""
        if url:
            yield url
            return
        data_dir = tempfile.mkdtemp(prefix=f"pushdata-{self.name}-")
        proc = None
        try:
            proc, started = self.start_server(binary, data_dir)
            yield started
        finally:
            if proc is not None:
                proc.terminate()
                proc.wait(timeout=30)
            shutil.rmtree(data_dir, ignore_errors=True)

    def pushdata_result(self, rust_bench: str, sf: float):
        """The Rust bench's run of `sf` with the server in a child process, if recorded."""
        path = target_dir() / "bench-data" / f"{rust_bench}-results.json"
        try:
            results = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        for r in results:
            if r.get("mode") == "child" and float(r.get("sf", -1)) == sf:
                return r
        return None
