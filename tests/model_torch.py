#!/usr/bin/python3
"""model_torch.py DIR - compares the C network's dumps (tests/test_model_torch.c)
with the PyTorch twin (bench/torch_twin.py).

For every case in DIR/cases.txt: loads the checkpoint into the twin, runs
forward and backward of  MSE(recon, last frame) + <dlatent, E>  in float32 and
compares reconstruction, latent, loss and every gradient tensor.  Error per
tensor = max|c - torch| / max(max|torch|, 1e-30); each must be <= 1e-4.
Prints one TAP line per comparison ("ok - ..." / "not ok - ...", numbered by
the calling script); exits 1 if any comparison failed.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "bench"))
import torch  # noqa: E402
import torch_twin  # noqa: E402

TOL = 1e-4
failures = 0
checks = 0


def report(ok, desc):
    global failures, checks
    checks += 1
    if not ok:
        failures += 1
    print("%s - %s" % ("ok" if ok else "not ok", desc), flush=True)


def rel_err(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))


def compare(case_dir, name):
    twin, table, params = torch_twin.from_checkpoint(os.path.join(case_dir, "model.ckpt"))
    cfg = twin.cfg
    with open(os.path.join(case_dir, "meta.txt")) as f:
        fields = f.read().split()
    B, c_loss, training = int(fields[0]), float(fields[1]), int(fields[2])
    S, V, H, W, L = cfg["steps"], cfg["vars"], cfg["height"], cfg["width"], cfg["latent"]
    x = np.fromfile(os.path.join(case_dir, "x.f32"), dtype="<f4").reshape(B, S, V, H, W)
    dlatent = np.fromfile(os.path.join(case_dir, "dlatent.f32"), dtype="<f4").reshape(B, L)
    c_latent = np.fromfile(os.path.join(case_dir, "latent.f32"), dtype="<f4").reshape(B, L)
    c_grads = np.fromfile(os.path.join(case_dir, "grads.f32"), dtype="<f4")

    xt = torch.from_numpy(x)
    masks = None
    if training and twin.has_lstm:
        def mask(f, n):  # (4, B, n): one mask per gate
            return torch.from_numpy(np.fromfile(os.path.join(case_dir, f), dtype="<f4").reshape(4, B, n))
        lstm = cfg["lstm"]
        masks = ((mask("mask_x1.f32", twin.features), mask("mask_h1.f32", lstm[0])),
                 (mask("mask_x2.f32", lstm[0]), mask("mask_h2.f32", lstm[1])))
        zeros = sum(float((m[0] == 0).sum() + (m[1] == 0).sum()) for m in masks)
        report(zeros > 0, "%s dropout masks contain dropped units (%d)" % (name, zeros))
        keep_x, keep_h = 1 / (1 - cfg["dropout"]), 1 / (1 - cfg["recurrent_dropout"])
        ok = all(bool(((m[0] == 0) | ((m[0] - keep_x).abs() < 1e-6)).all()) and
                 bool(((m[1] == 0) | ((m[1] - keep_h).abs() < 1e-6)).all()) for m in masks)
        report(ok, "%s dropout masks are 0 or 1/(1-rate) (Keras inverted dropout)" % name)
        differ = all(not torch.equal(m[j][0], m[j][1]) for m in masks for j in range(2))
        report(differ, "%s dropout masks differ between gates (Keras implementation 1)" % name)
    rec, z = twin(xt, masks)
    objective = (z * torch.from_numpy(dlatent)).sum()
    if rec is not None:
        loss = ((rec - xt[:, -1]) ** 2).mean()
        objective = objective + loss
        c_rec = np.fromfile(os.path.join(case_dir, "recon.f32"), dtype="<f4").reshape(B, V, H, W)
        e = rel_err(c_rec, rec.detach().numpy())
        report(e <= TOL, "%s reconstruction rel err %.2e" % (name, e))
        e = abs(c_loss - float(loss)) / max(abs(float(loss)), 1e-30)
        report(e <= TOL, "%s loss C %.8g torch %.8g rel err %.2e" % (name, c_loss, float(loss), e))
    e = rel_err(c_latent, z.detach().numpy())
    report(e <= TOL, "%s latent rel err %.2e" % (name, e))
    # A fresh sigmoid latent sits near 0.5: compare the deviations too.
    e = rel_err(c_latent - 0.5, z.detach().numpy() - 0.5)
    report(e <= TOL, "%s latent - 0.5 rel err %.2e" % (name, e))
    twin.zero_grad()
    objective.backward()
    t_grads = twin.flat_grads(table, params.size)
    if c_grads.size != params.size:
        report(False, "%s gradient dump has %d floats, the model %d" % (name, c_grads.size, params.size))
        return
    for tname, shape, off, size in table:
        a, b = c_grads[off:off + size], t_grads[off:off + size]
        e = rel_err(a, b)
        # A gradient that is zero in both would hide a broken path, so it
        # fails -- except the recurrent kernels at S = 1, which multiply
        # h_{-1} = 0 and must have an exactly zero gradient.
        expect_zero = S == 1 and tname.endswith("weight_hh") and cfg["variant"] != 5  # DTC: over d/P positions
        if expect_zero:
            ok = float(np.max(np.abs(a))) == 0 and float(np.max(np.abs(b))) == 0
        else:
            ok = e <= TOL and float(np.max(np.abs(b))) > 0
        report(ok, "%s grad %s %s rel err %.2e (max |g| %.2e)%s"
               % (name, tname, "x".join(map(str, shape)), e, float(np.max(np.abs(b))),
                  " (zero at S = 1)" if expect_zero else ""))


def main():
    root = sys.argv[1]
    torch.set_num_threads(1)
    torch.manual_seed(0)
    with open(os.path.join(root, "cases.txt")) as f:
        cases = [line.strip() for line in f if line.strip()]
    if not cases:
        report(False, "no cases in %s/cases.txt" % root)
    for name in cases:
        compare(os.path.join(root, name), name)
    print("# %d comparisons, %d failed" % (checks, failures))
    sys.exit(1 if failures or not checks else 0)


if __name__ == "__main__":
    main()
