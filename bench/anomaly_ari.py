"""anomaly_ari.py - how well k-means on pre-processed data finds the planted
regimes of `dsc synth`: the adjusted Rand index of scikit-learn's KMeans
(K clusters, several seeds) against truth.csv.

  anomaly_ari.py --matrix x.bin --times t.bin --truth truth.csv [--k 7] [--seeds 5]

x.bin and t.bin are matrices written by tests/test_read (16-byte header
int64 T, int64 D, then T*D values): -o (the normalised, padded input of
the network) or --prepared (the anomalies before scaling, each variable
then divided by its standard deviation here so that no unit dominates),
and --times (hours since 1900-01-01, float64).  Prints one line with the
ARI of every seed, their mean and their spread.
"""
import argparse
import datetime
import sys

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

EPOCH = datetime.datetime(1900, 1, 1)


def load(path, dtype):
    with open(path, "rb") as f:
        t, d = np.frombuffer(f.read(16), dtype=np.int64)
        x = np.frombuffer(f.read(), dtype=dtype)
    return x.reshape(t, d)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--matrix", required=True)
    p.add_argument("--times", required=True)
    p.add_argument("--truth", required=True)
    p.add_argument("--k", type=int, default=7)
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--vars", type=int, default=0,
                   help="with a --prepared matrix: number of variables, each divided by its standard deviation")
    args = p.parse_args()
    x = load(args.matrix, np.float32).astype(np.float64)
    hours = load(args.times, np.float64)[:, 0]
    if args.vars:
        t = x.shape[0]
        x = x.reshape(t, args.vars, -1)
        x = (x / np.maximum(x.std(axis=(0, 2), keepdims=True), 1e-30)).reshape(t, -1)
    truth = {}
    with open(args.truth) as f:
        next(f)
        for line in f:
            when, regime = line.strip().split(",")
            truth[when[:10]] = int(regime)
    days = [(EPOCH + datetime.timedelta(hours=float(h))).strftime("%Y-%m-%d") for h in hours]
    y = np.array([truth[d] for d in days])
    scores = [adjusted_rand_score(y, KMeans(n_clusters=args.k, n_init=10, random_state=s).fit_predict(x))
              for s in range(args.seeds)]
    print(f"ARI {' '.join(f'{a:.3f}' for a in scores)} mean {np.mean(scores):.3f} "
          f"range {min(scores):.3f}..{max(scores):.3f} (T={x.shape[0]}, D={x.shape[1]}, K={args.k})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
