"""The clustering layer against PyTorch autograd, in float64.

  clustering_torch.py DIR

DIR holds the cases written by `tests/test_clustering --dump DIR`: inputs z
(N, L) and centroids (K, L) in float32 and the C layer's q, p, column sums,
loss, gradients and hard labels.  PyTorch recomputes, from the same float32
inputs promoted to float64:

  q = (1 + |z_i - c_j|^2 / alpha)^(-(alpha + 1) / 2), normalised over j   (eq. 3)
  p = (q^2 / f) normalised over j with f = sum_i q                        (eq. 4)
  loss = scale * sum p log(p / q), p detached                             (eq. 6)

and the gradients of the loss by autograd.  Prints one "PASS description" or
"FAIL description" line per comparison; exits 1 when any fails, when a case
is missing or on any error.  Tolerance: 1e-6 relative to the largest
reference value of each array (the C gradients are float32).
"""
import os
import sys

import numpy as np
import torch

RTOL = 1e-6


def load(d, c, name, dtype, shape):
    a = np.fromfile(os.path.join(d, f"case{c}.{name}.bin"), dtype=dtype)
    if a.size != int(np.prod(shape)):
        raise ValueError(f"case{c}.{name}.bin: {a.size} values, expected {shape}")
    return a.reshape(shape)


def compare(what, got, ref, failures):
    ref = np.asarray(ref, dtype=np.float64)
    got = np.asarray(got, dtype=np.float64)
    scale = max(np.abs(ref).max(), 1e-300)
    err = np.abs(got - ref).max() / scale
    ok = bool(err <= RTOL) and np.all(np.isfinite(got))
    print(f"{'PASS' if ok else 'FAIL'} {what}: max difference {err:.2e} of the largest value (<= {RTOL:g})")
    if not ok:
        failures.append(what)


def run_case(d, c, failures):
    with open(os.path.join(d, f"case{c}.meta")) as f:
        fields = f.read().split()
    n, k, L = int(fields[0]), int(fields[1]), int(fields[2])
    alpha, scale, loss_c = float(fields[3]), float(fields[4]), float(fields[5])
    z32 = load(d, c, "z", np.float32, (n, L))
    c32 = load(d, c, "centroids", np.float32, (k, L))
    z = torch.tensor(z32.astype(np.float64), requires_grad=True)
    cen = torch.tensor(c32.astype(np.float64), requires_grad=True)

    d2 = ((z[:, None, :] - cen[None, :, :]) ** 2).sum(dim=2)
    kernel = (1.0 + d2 / alpha) ** (-(alpha + 1.0) / 2.0)
    q = kernel / kernel.sum(dim=1, keepdim=True)
    f = q.sum(dim=0)
    p = (q ** 2 / f)
    p = (p / p.sum(dim=1, keepdim=True)).detach()
    loss = scale * (p * (p.log() - q.log())).sum()
    loss.backward()

    tag = f"case {c} (N={n} K={k} L={L} alpha={alpha:g} scale={scale:g})"
    compare(f"{tag}: q", load(d, c, "q", np.float64, (n, k)), q.detach().numpy(), failures)
    compare(f"{tag}: column sums", load(d, c, "f", np.float64, (k,)), f.detach().numpy(), failures)
    compare(f"{tag}: p", load(d, c, "p", np.float64, (n, k)), p.numpy(), failures)
    # The loss sums terms of size |p - q| that cancel to O((p - q)^2): the
    # reference is evaluated again in extended precision (numpy longdouble).
    zl, cl = z32.astype(np.longdouble), c32.astype(np.longdouble)
    kl = (1 + ((zl[:, None, :] - cl[None, :, :]) ** 2).sum(axis=2) / alpha) ** (-(alpha + 1) / 2)
    ql = kl / kl.sum(axis=1, keepdims=True)
    pl = ql ** 2 / ql.sum(axis=0)
    pl /= pl.sum(axis=1, keepdims=True)
    loss_l = float(scale * (pl * np.log(pl / ql)).sum())
    compare(f"{tag}: KL loss", np.array([loss_c]), np.array([loss_l]), failures)
    if loss_l > 1e-8 * scale * n:  # well conditioned: the float64 graph's own loss agrees too
        compare(f"{tag}: KL loss of the autograd graph", np.array([loss_c]), np.array([loss.item()]), failures)
    compare(f"{tag}: dKL/dz", load(d, c, "dz", np.float32, (n, L)), z.grad.numpy(), failures)
    compare(f"{tag}: dKL/dcentroids", load(d, c, "dc", np.float32, (k, L)), cen.grad.numpy(), failures)
    labels = load(d, c, "labels", np.int32, (n,))
    ref_labels = q.detach().numpy().argmax(axis=1)
    ok = np.array_equal(labels, ref_labels)
    print(f"{'PASS' if ok else 'FAIL'} {tag}: hard labels are argmax q ({np.sum(labels != ref_labels)} differ)")
    if not ok:
        failures.append("labels")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    d = sys.argv[1]
    cases = sorted(int(name[4:-5]) for name in os.listdir(d) if name.startswith("case") and name.endswith(".meta"))
    if not cases:
        print(f"FAIL no cases in {d}")
        sys.exit(1)
    failures = []
    for c in cases:
        run_case(d, c, failures)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
