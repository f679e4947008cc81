#!/usr/bin/env bash
# Scores the anomaly detector on the NAB development set.
#
#   scripts/nab_eval.sh            # default detector, default alert threshold
#   NAB_DIR=path/to/nab/data/data OUT=dir THRESHOLD=0.5 scripts/nab_eval.sh
#
# NAB_DIR is the folder of category sub-folders (default ../shared/nab/data/data,
# relative to the repo root); its parent must hold labels/ and config/. The scorer
# defaults to nab_score.py two levels above NAB_DIR (override with NAB_SCORER).
# THRESHOLD is the product's default alert threshold on the score (0.5: the score
# is 0.5 exactly where the detector's own alert starts). Z_THRESHOLD / EWMA_ALPHA
# override the detector parameters as in the CLI.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

nab_dir="${NAB_DIR:-../shared/nab/data/data}"
nab_root="$(cd "$nab_dir/.." && pwd)"
scorer="${NAB_SCORER:-$nab_root/../nab_score.py}"
out="${OUT:-target/nab-results}"
threshold="${THRESHOLD:-0.5}"

if [ ! -d "$nab_dir" ]; then
    echo "nab_eval: NAB data folder '$nab_dir' not found (set NAB_DIR)" >&2
    exit 2
fi

cargo build --release --example nab
rm -rf "$out"
"${CARGO_TARGET_DIR:-target}/release/examples/nab" "$nab_dir" "$out"
python3 "$scorer" --data "$nab_root" --results "$out" --categories dev \
    --threshold "$threshold" --sweep
