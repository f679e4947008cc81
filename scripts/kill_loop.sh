#!/usr/bin/env bash
# The long kill -9 loop (tests/kill_loop.rs runs 200): N runs of `tars demo`
# into one data directory, each killed with SIGKILL at a random moment, then
# one whole run. Fails when an artifact is torn after any kill, when a temp
# file is left after the whole run, or when `tars doctor` finds a problem.
#
#   scripts/kill_loop.sh 1000            # TARS=path/to/tars to pick the binary
set -euo pipefail
n=${1:-200}
tars=${TARS:-$(dirname "$0")/../target/debug/tars}
[ -x "$tars" ] || { echo "no tars at $tars: cargo build --bin tars, or set TARS" >&2; exit 2; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
data=$dir/data

# torn [NEWER]: every artifact, or only those changed since file NEWER (its
# time set a second back: timestamps are coarse, and checking a file twice
# is harmless).
torn() {
    local bad=0 f
    while IFS= read -r -d '' f; do
        case $f in *.tmp.*|*.lock) continue ;; esac
        case $f in
            *.json) jq -e . "$f" >/dev/null 2>&1 || { echo "torn: $f" >&2; bad=$((bad + 1)); } ;;
            *) [ -s "$f" ] || { echo "empty: $f" >&2; bad=$((bad + 1)); } ;;
        esac
    done < <(find "$data" -type f ${1:+-newer "$1"} -print0)
    return "$bad"
}

start=$(date +%s%N)
"$tars" demo -q --data-dir "$data"
whole_ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "a whole run takes ${whole_ms} ms; $n kills"
killed=0 finished=0
for i in $(seq 1 "$n"); do
    touch -d '-1 second' "$dir/mark"
    "$tars" demo -q --data-dir "$data" >/dev/null 2>&1 &
    pid=$!
    ms=$(( RANDOM * whole_ms * 95 / 100 / 32768 ))
    sleep "$(printf '%d.%03d' $((ms / 1000)) $((ms % 1000)))"
    if kill -9 "$pid" 2>/dev/null; then killed=$((killed + 1)); else finished=$((finished + 1)); fi
    wait "$pid" 2>/dev/null || true
    torn "$dir/mark" || { echo "after kill $i: torn artifacts" >&2; exit 1; }
done
left=$(find "$data" -name '*.tmp.*' | wc -l)
"$tars" demo -q --data-dir "$data"
after=$(find "$data" -name '*.tmp.*' | wc -l)
end=$(date +%s)
echo "$killed killed, $finished finished first; $left temp files after the kills, $after after the next run; $(( end - start / 1000000000 )) s"
torn
[ "$after" -eq 0 ] || { find "$data" -name '*.tmp.*' >&2; exit 1; }
"$tars" doctor "$data" >/dev/null || { "$tars" doctor "$data"; exit 1; }
echo "ok: 0 torn artifacts, 0 orphan temp files, doctor healthy"
