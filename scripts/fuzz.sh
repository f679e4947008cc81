#!/usr/bin/env bash
# Runs each cargo-fuzz target for N executions, one target at a time, keeping
# the corpus in fuzz/corpus/<target>/ (seeded, when empty, from a `tars demo`
# week for `artifacts` and from fuzz/seeds/<target>/ for the others), then
# minimises it with `cargo fuzz cmin`. Prints one line a target: executions,
# seconds, crashes, corpus files and bytes. Exits 1 when a target crashed
# (the input is in fuzz/artifacts/<target>/).
#
#   scripts/fuzz.sh 10000000                  # every target, 10 M executions
#   scripts/fuzz.sh 1000000 artifacts csv     # some targets
#
# Builds without a sanitizer (-s none): the code is safe Rust, what the
# targets look for is a panic or an error of more than one line, and
# AddressSanitizer would cost about a third of the speed. Release with debug
# assertions and overflow checks (cargo-fuzz's default). The build goes to
# target/fuzz, next to the workspace's own.
set -euo pipefail
n=${1:-1000000}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(artifacts query_range csv config)
tars=${TARS:-$root/target/debug/tars}
[ -x "$tars" ] || { echo "no tars at $tars: cargo build --bin tars, or set TARS" >&2; exit 2; }
cd "$root/fuzz"
fuzz=(cargo +nightly fuzz)
opts=(-s none --target-dir "$root/target/fuzz")

# FUZZ_NO_BUILD=1: the targets are built already (say, by a build queued
# behind others), and run/cmin only find them up to date.
[ -n "${FUZZ_NO_BUILD:-}" ] || "${fuzz[@]}" build "${opts[@]}" >&2

seed() {
    local t=$1 dir=$root/fuzz/corpus/$1
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || return 0
    if [ "$t" = artifacts ]; then
        local week
        week=$(mktemp -d)
        "$tars" demo -q --data-dir "$week/w"
        # Every array cut to two items: a day's summary is 130 KB whole, and
        # libFuzzer mutates (and runs) small inputs far faster; the shapes and
        # field names are what the seeds are for.
        local f
        for f in "$week"/w/*/*.json; do
            jq -c 'walk(if type == "array" then .[:2] else . end)' "$f" >"$dir/$(basename "$f")"
        done
        rm -rf "$week"
    else
        cp "$root/fuzz/seeds/$t"/* "$dir/"
    fi
}

# Inputs up to 16 KB: above every seed, and a reader's edge cases need no
# more (the size limit itself is tested in tests/bad_inputs.rs).
max_len=${FUZZ_MAX_LEN:-16384}
failed=0
for t in "${targets[@]}"; do
    seed "$t"
    log=$(mktemp)
    start=$(date +%s)
    rc=0
    nice -n 10 "${fuzz[@]}" run "${opts[@]}" "$t" -- -runs="$n" -max_len="$max_len" \
        -print_final_stats=1 \
        >"$log" 2>&1 || rc=$?
    secs=$(( $(date +%s) - start ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    crashes=$(find "$root/fuzz/artifacts/$t" -type f 2>/dev/null | wc -l)
    if [ "$rc" -ne 0 ]; then
        tail -30 "$log" >&2
        failed=1
    fi
    nice -n 10 "${fuzz[@]}" cmin "${opts[@]}" "$t" >/dev/null 2>&1 || true
    files=$(find "$root/fuzz/corpus/$t" -type f | wc -l)
    bytes=$(du -sb "$root/fuzz/corpus/$t" | cut -f1)
    echo "$t: ${execs:-?} executions in ${secs} s, exit $rc, $crashes crash inputs, corpus $files files, $bytes bytes"
    rm -f "$log"
done
exit "$failed"
