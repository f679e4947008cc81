#!/usr/bin/env bash
# Daily stability + health run. Yesterday's release day is derived from
# GA_TIMESTAMP so the timer needs no per-day edits; outside days 1-7 it exits 0.
set -euo pipefail

: "${GA_TIMESTAMP:?GA_TIMESTAMP must be set (RFC 3339)}"
: "${TARS_DATA_DIR:=/data}"
export TARS_DATA_DIR

ga_epoch=$(date -u -d "$GA_TIMESTAMP" +%s)
now_epoch=$(date -u +%s)
# Day N covers GA+N days .. GA+N+1 days; the timer fires just after midnight,
# so the last complete day is one less than the days elapsed.
day=$(( (now_epoch - ga_epoch) / 86400 - 1 ))
if [ -n "${DAY_NUMBER:-}" ]; then
  day=$DAY_NUMBER
fi
if [ "$day" -lt 1 ] || [ "$day" -gt 7 ]; then
  echo "tars-daily: day $day is outside 1-7, nothing to do"
  exit 0
fi
export DAY_NUMBER=$day

tars stability-monitor --day-number "$day"
# Exit code 3 when the day recommends a rollback, so the unit fails visibly
# (OnFailure=, alerting on failed units) and a script can act on it.
tars health-report --day-number "$day" --fail-on-rollback
