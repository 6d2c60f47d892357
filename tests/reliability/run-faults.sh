#!/usr/bin/env bash
# Run the fault, quota, expiry and concurrency tests of issue 16 several rounds and write
# how many runs of each test passed, as cargo printed them (`test NAME ... ok`), into
# RELIABILITY.md between the `faults:begin` / `faults:end` markers. Nothing in the table
# is typed by hand.
#
#   tests/reliability/run-faults.sh             # 5 rounds
#   ROUNDS=20 tests/reliability/run-faults.sh   # more
#
# CI runs the same tests once (cargo test).
set -euo pipefail
cd "$(dirname "$0")/../.."

ROUNDS=${ROUNDS:-5}
# crate:test-file pairs.
SUITES="pushdata-arrow:faults pushdata-arrow:veracity_faults pushdata-arrow:veracity_tcp_faults pushdata-cli:concurrency"
out=$(mktemp)
run=$(mktemp)
trap 'rm -f "$out" "$run"' EXIT

for suite in $SUITES; do
  cargo test -q -p "${suite%%:*}" --test "${suite#*:}" --no-run
done
started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
for round in $(seq "$ROUNDS"); do
  for suite in $SUITES; do
    cargo test -p "${suite%%:*}" --test "${suite#*:}" > "$run" 2>&1 || status=$?
    # Each result line is tagged with its file: `SUITE file NAME ok`.
    sed -n "s/^test \(.*\) \.\.\. \(ok\|FAILED\)$/SUITE ${suite#*:} \1 \2/p" "$run" >> "$out"
  done
  echo "round $round of $ROUNDS done" >&2
done

section=$(mktemp)
{
  echo "Last run: $started, \`ROUNDS=$ROUNDS tests/reliability/run-faults.sh\` ($(uname -sm), $(nproc) CPUs)."
  if [ "$status" -ne 0 ]; then
    echo
    echo "**The run had FAILURES (exit $status)**: see the passed column."
  fi
  echo
  echo "| test file | test | runs | passed |"
  echo "|---|---|---|---|"
  awk '{ key = $2 " | `" $3 "`"; runs[key]++; if ($4 == "ok") ok[key]++ }
       END { for (k in runs) printf "| %s | %d | %d |\n", k, runs[k], ok[k] + 0 }' "$out" | sort
  echo
  awk '{ runs++; if ($4 == "ok") ok++ } END { printf "In all: %d test runs, %d passed.\n", runs, ok + 0 }' "$out"
} > "$section"

python3 tests/reliability/write_section.py faults "$section"
rm -f "$section"
exit "$status"
