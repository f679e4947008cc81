#!/usr/bin/env python3
"""Dev score and leave-one-category-out table for a folder of NAB results.

    scripts/nab_loo.py --nab ../shared/nab --results target/nab-results \
        [--z-grid 2.5,3,3.5,4,4.5,5,6 --z-default 4.5] [--threshold 0.5] \
        [--trial "label"] [--log scripts/nab_trials.tsv]

Uses the independent scorer (nab_score.py in --nab) as a library, so every
figure is the scorer's own.  Printed:
  * the dev score at the fixed threshold for the three profiles, and the
    best threshold on dev (standard profile) for reference;
  * leave-one-category-out: for each dev category, the standard-profile
    threshold that maximises the raw score on the other three, and the
    held-out category's normalised score at it.  artificialNoAnomaly has no
    labelled window, so NAB's normalised score is undefined there (null ==
    perfect == 0); its false positives and raw score are printed instead and
    it is left out of the mean.
  * with --z-grid (results in RESULTS/z<Z>/ for each Z): leave-one-category-
    out where the detector's z_threshold AND the score threshold are both
    chosen on the other three categories (the pair with the best raw score),
    which is the figure a change is judged by.  The dev score and the
    threshold-only table use --z-default.
With --trial, one row per run is appended to the trials log, so that the
number of configurations tried is on record.
"""

import argparse
import datetime
import math
import os
import subprocess
import sys

PROFILES = ["standard", "reward_low_FP_rate", "reward_low_FN_rate"]
HEADER = ("date\tcommit\ttrial\tdev_std\tdev_lowFP\tdev_lowFN\tdev_sweep\t"
          "sweep_thr\tloo_AWS\tloo_KnownCause\tloo_artNoAnom_fp\t"
          "loo_artWithAnom\tloo_mean\tlooz_AWS\tlooz_KnownCause\t"
          "looz_artNoAnom_fp\tlooz_artWithAnom\tlooz_mean\tlooz_chosen\n")
SHORT = {"realAWSCloudwatch": "AWS", "realKnownCause": "KC",
         "artificialNoAnomaly": "artNo", "artificialWithAnomaly": "artWith"}


def git_commit(root):
    try:
        out = subprocess.run(["git", "-C", root, "rev-parse", "--short",
                              "HEAD"], capture_output=True, text=True,
                             check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain",
                                "--untracked-files=no"], capture_output=True,
                               text=True, check=True).stdout.strip()
        return out + ("+" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "?"


def count_rows(log):
    try:
        with open(log) as fh:
            return sum(1 for _ in fh) - 1
    except OSError:
        return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nab", required=True, help="folder of nab_score.py")
    ap.add_argument("--results", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--z-grid", help="comma-separated z_threshold values "
                    "scored into RESULTS/z<Z>/")
    ap.add_argument("--z-default", default="4.5",
                    help="the detector's default z_threshold (in --z-grid)")
    ap.add_argument("--trial", help="append a row with this label to --log")
    ap.add_argument("--log", default="scripts/nab_trials.tsv")
    args = ap.parse_args()

    sys.path.insert(0, os.path.abspath(args.nab))
    import nab_score as ns  # the scorer, used as a library

    data = os.path.join(os.path.abspath(args.nab), "data")
    profiles = ns.load_profiles(data)
    std = profiles["standard"]
    cats = ns.resolve_categories("dev")
    corpora = {c: ns.load_corpus(data, [c]) for c in cats}
    grid = args.z_grid.split(",") if args.z_grid else [None]
    zdef = args.z_default if args.z_grid else None
    if zdef not in grid:
        raise SystemExit("--z-default %s is not in --z-grid" % zdef)
    folder = {z: args.results if z is None else
              os.path.join(args.results, "z" + z) for z in grid}
    results = {z: {c: ns.load_results(folder[z], corpora[c]) for c in cats}
               for z in grid}

    def joined(z, names):
        corpus, res = [], []
        for c in names:
            corpus += corpora[c]
            res += results[z][c]
        return corpus, res

    dev_corpus, dev_res = joined(zdef, cats)
    print("NAB dev (%d files), threshold %g%s:"
          % (len(dev_corpus), args.threshold,
             "" if zdef is None else ", z_threshold " + zdef))
    dev = {}
    for p in PROFILES:
        r = ns.score_corpus(dev_corpus, dev_res, profiles[p], args.threshold)
        dev[p] = r["score"]
        print("  %-19s %7.2f   windows %d/%d  FP rows %d"
              % (p, r["score"], r["windows_hit"], r["windows"], r["fp"]))
    thr, _ = ns.best_threshold(dev_corpus, dev_res, std)
    sweep = ns.score_corpus(dev_corpus, dev_res, std, thr)["score"]
    print("  (standard at the best threshold on dev, %s: %.2f)"
          % (ns.fmt_thr(thr), sweep))

    def loo_table(title, zs):
        print("\n" + title)
        print("  %-24s %-5s %-11s %8s %9s %5s" % (
            "held out", "z", "threshold", "SCORE", "raw", "FP"))
        table = {}
        for held in cats:
            others = [c for c in cats if c != held]
            best = None
            for z in zs:
                corpus, res = joined(z, others)
                t, raw = ns.best_threshold(corpus, res, std)
                if best is None or raw > best[2]:
                    best = (z, t, raw)
            z, t, _ = best
            r = ns.score_corpus(corpora[held], results[z][held], std, t)
            r["z"] = z if z is not None else "-"
            table[held] = r
            shown = "n/a" if math.isnan(r["score"]) else "%.2f" % r["score"]
            print("  %-24s %-5s %-11s %8s %9.3f %5d" % (
                held, r["z"], ns.fmt_thr(t), shown, r["raw"], r["fp"]))
        defined = [r["score"] for r in table.values()
                   if not math.isnan(r["score"])]
        mean = sum(defined) / len(defined)
        print("  mean of the %d labelled held-out categories: %.2f (min %.2f)"
              % (len(defined), mean, min(defined)))
        return table, mean

    loo, mean = loo_table("Leave-one-category-out (standard profile; "
                          "threshold tuned on the other three):", [zdef])
    looz, meanz = loo, mean
    if args.z_grid:
        looz, meanz = loo_table(
            "Leave-one-category-out, z_threshold in {%s} and threshold both "
            "tuned on the other three (the figure a change is judged by):"
            % args.z_grid, grid)

    if args.trial:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        new = not os.path.exists(args.log)

        def cols(table, m):
            return ["%.2f" % table["realAWSCloudwatch"]["score"],
                    "%.2f" % table["realKnownCause"]["score"],
                    "%d" % table["artificialNoAnomaly"]["fp"],
                    "%.2f" % table["artificialWithAnomaly"]["score"],
                    "%.2f" % m]
        chosen = " ".join("%s:%s" % (SHORT[c], looz[c]["z"]) for c in cats)
        with open(args.log, "a") as fh:
            if new:
                fh.write(HEADER)
            fh.write("\t".join([
                datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%MZ"),
                git_commit(root), args.trial,
                "%.2f" % dev["standard"], "%.2f" % dev["reward_low_FP_rate"],
                "%.2f" % dev["reward_low_FN_rate"], "%.2f" % sweep,
                ns.fmt_thr(thr)] + cols(loo, mean)
                + (cols(looz, meanz) + [chosen] if args.z_grid
                   else [""] * 6)) + "\n")
    rows = count_rows(args.log)
    if rows is not None:
        print("\nconfigurations tried (rows of %s): %d" % (args.log, rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
