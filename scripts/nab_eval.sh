#!/usr/bin/env bash
# Scores the anomaly detector on the NAB development set: the dev score at the
# product's alert threshold (three profiles), the leave-one-category-out table
# and the number of configurations tried so far (rows of scripts/nab_trials.tsv).
#
#   scripts/nab_eval.sh                     # default detector, threshold 0.5
#   TRIAL="what changed" scripts/nab_eval.sh  # also log this run as a trial
#   NAB=path/to/nab OUT=dir THRESHOLD=0.5 scripts/nab_eval.sh
#
# NAB is the folder holding nab_score.py and data/ (default ../shared/nab,
# relative to the repo root; read only). THRESHOLD is the alert threshold on
# the score (0.5: the detector's own alert starts there). Z_THRESHOLD /
# EWMA_ALPHA override the detector parameters as in the CLI. The build runs at
# low priority with one job (shared machines); CARGO_TARGET_DIR is honoured.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

nab="${NAB:-../shared/nab}"
out="${OUT:-${CARGO_TARGET_DIR:-target}/nab-results}"
threshold="${THRESHOLD:-0.5}"

if [ ! -f "$nab/nab_score.py" ] || [ ! -d "$nab/data/data" ]; then
    echo "nab_eval: no nab_score.py and data/data under '$nab' (set NAB)" >&2
    exit 2
fi

nice -n 15 cargo build --quiet --release -j 1 --example nab
rm -rf "$out"
"${CARGO_TARGET_DIR:-target}/release/examples/nab" "$nab/data/data" "$out"
trial=()
if [ -n "${TRIAL:-}" ]; then
    trial=(--trial "$TRIAL")
fi
python3 "$root/scripts/nab_loo.py" --nab "$nab" --results "$out" \
    --threshold "$threshold" --log "$root/scripts/nab_trials.tsv" "${trial[@]}"
