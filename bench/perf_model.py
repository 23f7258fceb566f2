#!/usr/bin/env python3
"""perf_model.py - a performance model of `dsc train` and `dsc eval` on a cluster.

    python3 bench/perf_model.py [--png FILE] [--markdown]

Projects time per epoch, time to solution and parallel efficiency of dsc on 1..256 nodes for
(a) 40 years of daily ERA5 on the paper's 41x41 grid and (b) 40 years of hourly ERA5 on the
0.25-degree global grid (721 x 1440), from

  compute   FLOPs per sample from the layer shapes (the count `dsc bench` prints) divided by
            the training rate of a core, measured with `dsc bench` (doc/scaling.md);
  allreduce the gradient buffer (4 bytes per parameter) summed once per step: a reduction
            inside the node over shared memory, then a ring between nodes,
            2 (N-1)/N * G / B_net + 2 (N-1) * alpha;
  metrics   the exact silhouette's T^2 d pair-feature products over all cores, at the rate
            measured for `dsc eval`;
  read      the packed input bytes over min(N * per-node read rate, file system rate).

Every figure the model assumes is a named constant below with its source; change them for
another machine.  No term is fitted to a projection: the per-core rates, the node efficiency and
the intra-node reduction bandwidth are measured (`--validate` checks the step model against
2-rank training on the development machine), the network and file-system figures are the
vendor's.

    python3 bench/perf_model.py --validate
"""
import argparse
import math
import sys

# ---- measured (doc/scaling.md; ../tools figures in the bench README of the 16-core node) ----
TRAIN_GFLOPS_PER_CORE = 97.6   # dsc bench, 1 thread, SKYLAKEX kernels: 19.5 samples/s x 5.005 GFLOP
ENCODE_GFLOPS_PER_CORE = 97.6  # encoder passes (target updates, k-means init) at the same rate
PAIR_FEATURE_RATE = 1.0 / 2.48e-11  # dsc eval pairwise pass: 14,610^2 x 11,767 in 3.9 s on 16 cores
THREAD_EFFICIENCY = 0.7        # assumed for many threads on one rank with large GEMMs (not measured)
# ---- assumed: a CPU node of a Slingshot-11 system (e.g. NERSC Perlmutter CPU partition) -------
NODE = dict(
    name="Slingshot-11 CPU node (2 x 64-core AMD EPYC 7763, 512 GB)",
    cores=128,
    core_speed=0.6,            # Zen 3 AVX2 core against the measured AVX-512 core (sgemm 60 vs 98)
    node_efficiency=0.8,       # all cores busy: shared memory bandwidth and clocks (0.83 measured
                               # with both cores of the development machine busy; --validate)
    mem_gb=512,
    shm_gbs=10.6,              # intra-node reduction bandwidth: 2 x 78 MB in 14.6 ms, measured on
                               # the development machine (bench/allreduce.c, 2 ranks, 4 MB pieces)
    net_gbs=25.0,              # one 200 Gb/s Slingshot-11 NIC per node
    alpha_s=2.5e-6,            # network latency per message
    read_node_gbs=5.0,         # per-node Lustre read rate
    read_fs_gbs=5000.0,        # file system aggregate (all-flash Lustre scratch)
)

# ---- measured on this project's 2-core machine (AMD EPYC VM, AVX2 kernels; doc/scaling.md) -----
# bench/scaling_local.sh with LAYOUTS="1x1 2x1" (2 repeats; the 2 x 1 strong and weak runs are the
# same configuration, 8 samples per rank, so all four count) and bench/allreduce.c.  The model's
# step, per_rank x FLOPs / (rate x node efficiency) + 2 G / B_shm, is checked against the 2-rank
# training rate with `--validate`.
HERE = dict(
    name="2-core AMD EPYC VM (the development machine)",
    samples_per_s_b8=19.87,        # 1 x 1, batch 8: median of 19.18, 20.56
    compute_1x1_s=7.80,            # joint compute of 20 steps, 1 x 1 batch 8: median of 8.07, 7.52
    compute_2x1_s=9.39,            # the same with both cores busy, 2 x 1: median of 9.05 9.72 9.78 9.02
    allreduce_s=0.0146,            # 78 MB in 4 MB pieces, 2 ranks: best of 10 (one call: 188 ms)
    allreduce_wait_s=0.048,        # what the ranks waited in it during training, per step (median)
    measured_2x1=30.87,            # samples/s at 2 x 1: median of 31.92, 29.34, 29.82, 32.62
)

# the paper's network (dsc's defaults)
CONV = [64, 64, 128, 256, 512]
LSTM = [512, 512]
LATENT = 256
VARS = 7


def network(h, w, vars_=VARS):
    """parameters, forward FLOPs, training FLOPs and encoder FLOPs of one sample (S = 1)."""
    hp, wp = 16 * math.ceil(h / 16), 16 * math.ceil(w / 16)   # padded grid
    params = 0
    fwd = 0.0
    first = 0.0
    ch, hh, ww = vars_, hp, wp
    for i, oc in enumerate(CONV):
        params += 9 * ch * oc + oc
        f = 2.0 * oc * ch * 9 * hh * ww
        fwd += f
        if i == 0:
            first = f
        ch = oc
        if i >= 1:
            hh //= 2
            ww //= 2
    feat = ch * hh * ww
    enc = fwd
    inp = feat
    for hid in LSTM:
        params += 4 * hid * (inp + hid + 1)
        enc += 2.0 * inp * 4 * hid
        inp = hid
    params += inp * LATENT + LATENT
    enc += 2.0 * inp * LATENT
    fwd = enc
    # decoder: dense to the features, 4 convolutions up, output convolution
    params += LATENT * feat + feat
    fwd += 2.0 * LATENT * feat
    cin = CONV[-1]
    for j in range(4):
        hh *= 2
        ww *= 2
        cout = CONV[-1 - j]
        params += 9 * cin * cout + cout
        fwd += 2.0 * cout * cin * 9 * hh * ww
        cin = cout
    params += 9 * cin * vars_ + vars_
    fwd += 2.0 * vars_ * cin * 9 * hh * ww
    return dict(params=params, fwd=fwd, train=3 * fwd - first, enc=enc, grid=(hp, wp), feat=feat)


def layout(case, node=NODE):
    """ranks per node and threads per rank: one rank per core while the model state fits,
    else as many ranks as fit in memory, threads filling the node."""
    net = network(case["h"], case["w"])
    state = 16.0 * net["params"] / 1e9          # parameters, gradients, two Adam moments (GB)
    fit = max(1, int(0.5 * node["mem_gb"] // state))  # half of the node for the model states
    r = min(node["cores"], fit)
    while node["cores"] % r:
        r -= 1
    return r, node["cores"] // r, state


def project(case, nodes, node=NODE, batch_per_rank=8, global_batch=None, pretrain_epochs=20,
            joint_steps=1000, update_interval=50, metric_sample=None):
    """time per epoch, time to solution and its parts for one case on `nodes` nodes."""
    net = network(case["h"], case["w"])
    T = case["T"]
    rpn, threads, state_gb = layout(case, node)
    ranks = nodes * rpn
    teff = 1.0 if threads == 1 else THREAD_EFFICIENCY
    rank_rate = TRAIN_GFLOPS_PER_CORE * 1e9 * node["core_speed"] * node["node_efficiency"] * threads * teff
    enc_rate = ENCODE_GFLOPS_PER_CORE * 1e9 * node["core_speed"] * node["node_efficiency"] * threads * teff
    gb = global_batch or batch_per_rank * ranks
    per_rank = math.ceil(gb / ranks)          # samples of the busiest rank in a step
    steps_per_epoch = T / gb
    G = 4.0 * net["params"]
    t_intra = 0.0 if rpn == 1 else 2.0 * G / (node["shm_gbs"] * 1e9)
    t_ring = 0.0 if nodes == 1 else (2.0 * (nodes - 1) / nodes * G / (node["net_gbs"] * 1e9)
                                     + 2 * (nodes - 1) * node["alpha_s"])
    t_ar = t_intra + t_ring
    t_step = per_rank * net["train"] / rank_rate + t_ar
    epoch = max(1.0, steps_per_epoch) * t_step
    encode_pass = math.ceil(T / ranks) * net["enc"] / enc_rate
    d = case["h"] * case["w"] * VARS
    Tm = min(metric_sample, T) if metric_sample else T
    metrics = Tm * Tm * d / (PAIR_FEATURE_RATE * nodes * node["cores"] * node["core_speed"])
    read = T * d * 2.0 / (min(nodes * node["read_node_gbs"], node["read_fs_gbs"]) * 1e9)
    # resident data: raw values and padded normalised frames, float32 (doc/training.md: 2.4x the raw floats)
    pad = network(case["h"], case["w"])["grid"]
    data_gb = T * (d + pad[0] * pad[1] * VARS) * 4.0 / 1e9 / nodes
    mem = data_gb + rpn * state_gb
    total = (read + pretrain_epochs * epoch + (1 + joint_steps / update_interval) * encode_pass
             + joint_steps * t_step + metrics)
    return dict(epoch=epoch, total=total, allreduce_share=t_ar / t_step, step=t_step, steps_per_epoch=steps_per_epoch,
                read=read, metrics=metrics, encode_pass=encode_pass, global_batch=gb, params=net["params"],
                gflop=net["train"] / 1e9, mem_gb_per_node=mem, fits=mem <= node["mem_gb"], ranks_per_node=rpn,
                threads=threads)


CASES = {
    "a": dict(name="(a) 40 years daily, 41x41 (paper)", T=14610, h=41, w=41),
    "b": dict(name="(b) 40 years hourly, 721x1440 (0.25 deg global)", T=350640, h=721, w=1440),
}
NODES = [1, 2, 4, 8, 16, 32, 64, 128, 256]


def table(key, **kw):
    rows = []
    base = None
    for n in NODES:
        p = project(CASES[key], n, **kw)
        if base is None and p["fits"]:
            base = (n, p)
        eff = base[1]["total"] * base[0] / (n * p["total"]) if base else None
        rows.append((n, p, eff))
    return rows


def fmt_time(s):
    if s < 120:
        return "%.1f s" % s
    if s < 7200:
        return "%.1f min" % (s / 60)
    if s < 172800:
        return "%.1f h" % (s / 3600)
    return "%.1f d" % (s / 86400)


def markdown(key, **kw):
    out = ["| nodes | ranks x threads | global batch | steps/epoch | time/epoch | allreduce share | metrics | memory/node | time to solution | efficiency |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for n, p, eff in table(key, **kw):
        out.append("| %d | %d x %d | %d | %.2f | %s | %.0f%% | %s | %.0f GB%s | %s | %s |" % (
            n, n * p["ranks_per_node"], p["threads"], p["global_batch"], p["steps_per_epoch"], fmt_time(p["epoch"]),
            100 * p["allreduce_share"], fmt_time(p["metrics"]), p["mem_gb_per_node"], "" if p["fits"] else " (does not fit)",
            fmt_time(p["total"]), "%.2f" % eff if eff is not None else "-"))
    return "\n".join(out)


def validate():
    """the step model on the development machine against its measured 2-rank training rate."""
    net = network(41, 41)
    G = 4.0 * net["params"]
    rate = HERE["samples_per_s_b8"] * net["train"]            # FLOP/s of one core at batch 8
    node_eff = HERE["compute_1x1_s"] / HERE["compute_2x1_s"]   # both cores busy
    b_shm = 2.0 * G / HERE["allreduce_s"]                      # the B_shm this machine shows
    rows = []
    for label, eff, t_ar in (("compute alone (node efficiency 1, no allreduce)", 1.0, 0.0),
                             ("+ allreduce at the measured B_shm", 1.0, HERE["allreduce_s"]),
                             ("+ the measured node efficiency %.2f" % node_eff, node_eff, HERE["allreduce_s"]),
                             ("+ the allreduce wait measured in training", node_eff, HERE["allreduce_wait_s"])):
        t_step = 8 * net["train"] / (rate * eff) + t_ar
        pred = 16 / t_step
        rows.append("| %s | %.2f | %+.0f%% | %.2f |" % (label, pred, 100 * (pred / HERE["measured_2x1"] - 1),
                                                       pred / (2 * HERE["samples_per_s_b8"])))
    out = ["| 2 x 1, 8 samples per rank | samples/s | against measured | weak-scaling efficiency |",
           "|---|---|---|---|",
           "| measured (median of 4) | %.2f | | %.2f |" % (HERE["measured_2x1"],
                                                          HERE["measured_2x1"] / (2 * HERE["samples_per_s_b8"]))] + rows
    return "\n".join(out), b_shm / 1e9, node_eff


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--png", help="write the projection plot to this PNG file")
    ap.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    ap.add_argument("--validate", action="store_true",
                    help="the step model against 2-rank training measured on the development machine")
    a = ap.parse_args()
    if a.validate:
        text, b_shm, node_eff = validate()
        print("%s: B_shm from the measured allreduce = %.1f GB/s, node efficiency %.2f\n\n%s\n"
              % (HERE["name"], b_shm, node_eff, text))
        fast = dict(NODE, shm_gbs=20.0)
        print("%s, per-rank batch 8, if the node reduces at B_shm = %.0f GB/s instead of the %.1f measured here:\n\n%s\n"
              % (CASES["b"]["name"], fast["shm_gbs"], NODE["shm_gbs"], markdown("b", node=fast)))
        return 0
    for key in "ab":
        c = CASES[key]
        net = network(c["h"], c["w"])
        print("%s: T = %d, padded grid %dx%d, %.3g parameters (gradient %.3g GB), %.1f GFLOP per training sample"
              % (c["name"], c["T"], net["grid"][0], net["grid"][1], net["params"], 4e-9 * net["params"], net["train"] / 1e9))
        for label, kw in (("per-rank batch 8", {}), ("global batch 1024", {"global_batch": 1024}),
                          ("global batch 1024, metrics on a 20,000-step sample", {"global_batch": 1024, "metric_sample": 20000})):
            if a.markdown and kw.get("metric_sample", 0) < c["T"]:  # a metric subset only if smaller than T
                print("\n%s, %s:\n\n%s\n" % (c["name"], label, markdown(key, **kw)))
    if a.png:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(13, 4), dpi=100)
        for key, style in (("a", "-o"), ("b", "-s")):
            for label, kw, ls in (("batch 8/rank", {}, style), ("global batch 1024", {"global_batch": 1024}, style.replace("-", "--"))):
                rows = table(key, **kw)
                n = [r[0] for r in rows]
                axes[0].loglog(n, [r[1]["total"] / 3600 if r[1]["fits"] else math.nan for r in rows], ls, label="%s, %s" % (key, label))
                axes[1].semilogx(n, [r[2] if r[2] is not None else math.nan for r in rows], ls, label="%s, %s" % (key, label))
                axes[2].semilogx(n, [100 * r[1]["allreduce_share"] for r in rows], ls, label="%s, %s" % (key, label))
        axes[0].set_ylabel("time to solution (h)")
        axes[1].set_ylabel("parallel efficiency")
        axes[2].set_ylabel("allreduce share of a step (%)")
        for ax in axes:
            ax.set_xlabel("nodes (%d cores each)" % NODE["cores"])
            ax.grid(True, which="both", alpha=0.3)
        axes[1].legend(fontsize=7)
        fig.suptitle("dsc train projected on a %s" % NODE["name"], fontsize=10)
        fig.tight_layout()
        fig.savefig(a.png)
        print("wrote", a.png)
    return 0


if __name__ == "__main__":
    sys.exit(main())
