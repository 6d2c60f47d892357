#!/usr/bin/env bash
# Run the bad-input table (crates/pushdata-server/tests/bad_input.rs) and write its figures
# (rows tried, the result) into RELIABILITY.md between the `bad-input:begin` /
# `bad-input:end` markers. Nothing there is typed by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=$(mktemp)
started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
cargo test -q -p pushdata-server --test bad_input -- --nocapture --test-threads 1 > "$out" 2>&1 || status=$?
rows=$(grep -oE 'bad_input rows tried: [0-9]+' "$out" | grep -oE '[0-9]+$' || echo "?")
result=$(grep -E '^test result:' "$out" | tail -1 || true)
section=$(mktemp)
{
  echo "Last run: $started, \`tests/reliability/bad-input.sh\` ($(uname -sm), $(nproc) CPUs): **$rows rows tried**; exit $status; \`$result\`"
} > "$section"
python3 tests/reliability/write_section.py bad-input "$section"
rm -f "$section"
cat "$out" | grep -E 'rows tried|test result|FAILED|panicked' || true
rm -f "$out"
exit "$status"
