#!/usr/bin/env python3
"""Dev score and leave-one-category-out table for a folder of NAB results.

    scripts/nab_loo.py --nab ../shared/nab --results target/nab-results \
        [--threshold 0.5] [--trial "label"] [--log scripts/nab_trials.tsv]

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
          "loo_artWithAnom\tloo_mean\n")


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--nab", required=True, help="folder of nab_score.py")
    ap.add_argument("--results", required=True)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--trial", help="append a row with this label to --log")
    ap.add_argument("--log", default="scripts/nab_trials.tsv")
    args = ap.parse_args()

    sys.path.insert(0, os.path.abspath(args.nab))
    import nab_score as ns  # the scorer, used as a library

    data = os.path.join(os.path.abspath(args.nab), "data")
    profiles = ns.load_profiles(data)
    cats = ns.resolve_categories("dev")
    corpora = {c: ns.load_corpus(data, [c]) for c in cats}
    results = {c: ns.load_results(args.results, corpora[c]) for c in cats}

    def joined(names):
        corpus, res = [], []
        for c in names:
            corpus += corpora[c]
            res += results[c]
        return corpus, res

    dev_corpus, dev_res = joined(cats)
    print("NAB dev (%d files), threshold %g:" % (len(dev_corpus),
                                                 args.threshold))
    dev = {}
    for p in PROFILES:
        r = ns.score_corpus(dev_corpus, dev_res, profiles[p], args.threshold)
        dev[p] = r["score"]
        print("  %-19s %7.2f   windows %d/%d  FP rows %d"
              % (p, r["score"], r["windows_hit"], r["windows"], r["fp"]))
    std = profiles["standard"]
    thr, _ = ns.best_threshold(dev_corpus, dev_res, std)
    sweep = ns.score_corpus(dev_corpus, dev_res, std, thr)["score"]
    print("  (standard at the best threshold on dev, %s: %.2f)"
          % (ns.fmt_thr(thr), sweep))

    print("\nLeave-one-category-out (standard profile; threshold tuned on "
          "the other three):")
    print("  %-24s %-11s %8s %9s %5s" % ("held out", "threshold", "SCORE",
                                         "raw", "FP"))
    loo = {}
    for held in cats:
        corpus, res = joined([c for c in cats if c != held])
        t, _ = ns.best_threshold(corpus, res, std)
        r = ns.score_corpus(corpora[held], results[held], std, t)
        loo[held] = r
        shown = "n/a" if math.isnan(r["score"]) else "%.2f" % r["score"]
        print("  %-24s %-11s %8s %9.3f %5d" % (held, ns.fmt_thr(t), shown,
                                               r["raw"], r["fp"]))
    defined = [r["score"] for r in loo.values() if not math.isnan(r["score"])]
    mean = sum(defined) / len(defined)
    print("  mean of the %d labelled held-out categories: %.2f (min %.2f)"
          % (len(defined), mean, min(defined)))

    if args.trial:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        new = not os.path.exists(args.log)
        with open(args.log, "a") as fh:
            if new:
                fh.write(HEADER)
            fh.write("\t".join([
                datetime.datetime.now(datetime.timezone.utc)
                .strftime("%Y-%m-%dT%H:%MZ"),
                git_commit(root), args.trial,
                "%.2f" % dev["standard"], "%.2f" % dev["reward_low_FP_rate"],
                "%.2f" % dev["reward_low_FN_rate"], "%.2f" % sweep,
                ns.fmt_thr(thr),
                "%.2f" % loo["realAWSCloudwatch"]["score"],
                "%.2f" % loo["realKnownCause"]["score"],
                "%d" % loo["artificialNoAnomaly"]["fp"],
                "%.2f" % loo["artificialWithAnomaly"]["score"],
                "%.2f" % mean]) + "\n")
        with open(args.log) as fh:
            rows = sum(1 for _ in fh) - 1
        print("\nconfigurations tried (rows of %s): %d" % (args.log, rows))
    else:
        try:
            with open(args.log) as fh:
                rows = sum(1 for _ in fh) - 1
            print("\nconfigurations tried (rows of %s): %d" % (args.log, rows))
        except OSError:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
