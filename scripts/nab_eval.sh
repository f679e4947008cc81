#!/usr/bin/env bash
# Scores the anomaly detector on the NAB development set: the dev score at the
# product's alert threshold (three profiles), the leave-one-category-out tables
# (threshold only; z_threshold and threshold both chosen on the other
# categories) and the number of configurations tried so far (rows of
# scripts/nab_trials.tsv).
#
#   scripts/nab_eval.sh                     # default detector, threshold 0.5
#   TRIAL="what changed" scripts/nab_eval.sh  # also log this run as a trial
#   NAB=path/to/nab OUT=dir THRESHOLD=0.5 scripts/nab_eval.sh
#
# NAB is the folder holding nab_score.py and data/ (default ../shared/nab,
# relative to the repo root; read only). THRESHOLD is the alert threshold on
# the score (0.5: the detector's own alert starts there). Z_GRID is the list
# of z_threshold values the held-out protocol chooses from (default
# 2.5,3,3.5,4,4.5,5,6; the dev score uses the detector default 4.5). EWMA_ALPHA
# overrides the detector parameter as in the CLI. The scorer is the
# tars-detector crate's own example (it builds without the rest of the
# workspace), at low priority with one job (shared machines);
# CARGO_TARGET_DIR is honoured.
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

z_grid="${Z_GRID:-2.5,3,3.5,4,4.5,5,6}"

nice -n 15 cargo build --quiet --release -j 1 -p tars-detector --example nab_scores
rm -rf "$out"
"${CARGO_TARGET_DIR:-target}/release/examples/nab_scores" "$nab/data/data" "$out" "$z_grid"
trial=()
if [ -n "${TRIAL:-}" ]; then
    trial=(--trial "$TRIAL")
fi
python3 "$root/scripts/nab_loo.py" --nab "$nab" --results "$out" \
    --threshold "$threshold" --z-grid "$z_grid" --z-default 4.5 --log "$root/scripts/nab_trials.tsv" "${trial[@]}"
