#!/usr/bin/env bash
# Run the kill scenarios of crates/pushdata-cli/tests/kills.rs many times and write the
# figures, as the tests printed them (their `KILLS |` lines), into RELIABILITY.md between
# the `kills:begin` / `kills:end` markers. Nothing in the table is typed by hand.
#
#   tests/reliability/run-kills.sh                  # 50 kills per scenario
#   ITERATIONS=200 tests/reliability/run-kills.sh   # more
#   PUSHDATA_KILL_SEED=N tests/reliability/run-kills.sh   # replay a seed
#
# CI runs the same tests with the default of 3 kills per scenario (cargo test).
set -euo pipefail
cd "$(dirname "$0")/../.."

ITERATIONS=${ITERATIONS:-50}
out=$(mktemp)
trap 'rm -f "$out"' EXIT

cargo test -q -p pushdata-cli --test kills --no-run
started=$(date -u '+%Y-%m-%d %H:%M UTC')
status=0
PUSHDATA_KILL_ITERATIONS=$ITERATIONS cargo test -q -p pushdata-cli --test kills -- --nocapture \
  > "$out" 2>&1 || status=$?

section=$(mktemp)
{
  echo "Last run: $started, \`ITERATIONS=$ITERATIONS tests/reliability/run-kills.sh\` ($(uname -sm), $(nproc) CPUs)."
  if [ "$status" -ne 0 ]; then
    echo
    echo "**The run FAILED (exit $status)**; the lines below are what the scenarios printed before it stopped."
  fi
  echo
  echo "| scenario | kills | survived | rows lost | killed at | read back |"
  echo "|---|---|---|---|---|---|"
  grep '^KILLS |' "$out" | sed -E 's/^KILLS \| ([^|]*)\| kills ([0-9]+) \| survived ([0-9]+) \| rows lost ([0-9]+) \| killed at: ([^|]*)\| read back: (.*)$/| \1| \2 | \3 | \4 | \5| \6 |/'
  echo
  echo "Seeds (\`PUSHDATA_KILL_SEED=N\` replays one):"
  echo
  grep -E ': seed [0-9]+' "$out" | sed -E 's/^[^A-Za-z]*//; s/^(.*): seed ([0-9]+).*/- \1: `\2`/'
} > "$section"

python3 tests/reliability/write_section.py kills "$section"
rm -f "$section"
grep '^KILLS |' "$out" || true
if [ "$status" -ne 0 ]; then
  tail -50 "$out" >&2
fi
exit "$status"
