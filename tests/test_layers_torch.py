"""Recomputes every layer dumped by layers_torch_dump with PyTorch and compares.

Usage: test_layers_torch.py DIR
For each DIR/<case>.bin: the same inputs and weights go through the PyTorch
layer, the loss sum(out * r) is back-propagated, and the output and every
gradient are compared with the C result:
    max |c - torch| <= TOL * max(max |torch|, 1e-3),  TOL = 1e-4
(float32 on both sides; only the summation order differs).
Prints one line per comparison, "PASS description" or "FAIL description".

The PyTorch twins:
  conv2d      nn.functional.conv2d, padding K//2 (= Keras 'same' for odd K)
  maxpool2d   nn.functional.max_pool2d(2, 2, ceil_mode=True): windows that hang
              over the bottom/right edge take the max of the existing cells,
              which is Keras 'same' pooling
  upsample2d  nn.functional.interpolate(scale_factor=2, mode='nearest')
  dense       nn.functional.linear
  lstm        nn.LSTM (gate order i, f, g, o), bias in bias_ih, bias_hh = 0;
              with dropout masks, the Keras cell written out with torch ops
              (nn.LSTM has no per-sequence input/recurrent dropout)
  mse         nn.functional.mse_loss (mean)
The 1-D layers of the DTC baseline, dumped channels last (B, L, C) and
permuted here to PyTorch's (B, C, L):
  conv1d      nn.functional.conv1d after nn.functional.pad by (K-1)//2 before
              and K//2 after (TensorFlow's and PyTorch's 'same' for even K)
  maxpool1d   nn.functional.max_pool1d(P, P, ceil_mode=True)
  upsample1d  nn.functional.interpolate(scale_factor=P, mode='nearest'), cut
  bilstm      nn.LSTM(bidirectional=True), the two halves of the output summed
              (Keras merge_mode='sum')
  leaky_relu  nn.functional.leaky_relu
"""
import os
import sys

import numpy as np
import torch

TOL = 1e-4
torch.set_default_dtype(torch.float32)
failures = 0


def load(path):
    out = {}
    with open(path, "rb") as f:
        while True:
            line = f.readline()
            if not line:
                break
            parts = line.decode().split()
            name, ndim = parts[0], int(parts[1])
            shape = tuple(int(x) for x in parts[2:2 + ndim])
            n = int(np.prod(shape))
            data = np.frombuffer(f.read(4 * n), dtype="<f4").reshape(shape)
            out[name] = torch.tensor(data.copy())
    return out


def compare(case, what, c, t):
    global failures
    c = c.detach().double()
    t = t.detach().double()
    if c.shape != t.shape:
        print(f"FAIL {case}: {what} shape {tuple(c.shape)} != torch {tuple(t.shape)}")
        failures += 1
        return
    err = (c - t).abs().max().item() / max(t.abs().max().item(), 1e-3)
    ok = err <= TOL
    failures += not ok
    print(f"{'PASS' if ok else 'FAIL'} {case}: {what} matches PyTorch (rel err {err:.2e} <= {TOL:g})")


def leaf(x):
    return x.clone().requires_grad_(True)


def backprop(out, r, *leaves):
    (out * r).sum().backward()
    return [x.grad for x in leaves]


def run_conv(case, d):
    x, w, b = leaf(d["inp"]), leaf(d["weight"]), leaf(d["bias"])
    out = torch.nn.functional.conv2d(x, w, b, padding=w.shape[-1] // 2)
    gx, gw, gb = backprop(out, d["r"], x, w, b)
    for what, c, t in (("out", d["out"], out), ("dinp", d["dinp"], gx),
                       ("dweight", d["dweight"], gw), ("dbias", d["dbias"], gb)):
        compare(case, what, c, t)


def run_pool(case, d):
    x = leaf(d["inp"])
    out = torch.nn.functional.max_pool2d(x, 2, 2, ceil_mode=True)
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)


def run_upsample(case, d):
    x = leaf(d["inp"])
    out = torch.nn.functional.interpolate(x, scale_factor=2, mode="nearest")
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)


def run_dense(case, d):
    x, w, b = leaf(d["inp"]), leaf(d["weight"]), leaf(d["bias"])
    out = torch.nn.functional.linear(x, w, b)
    gx, gw, gb = backprop(out, d["r"], x, w, b)
    for what, c, t in (("out", d["out"], out), ("dinp", d["dinp"], gx),
                       ("dweight", d["dweight"], gw), ("dbias", d["dbias"], gb)):
        compare(case, what, c, t)


def keras_lstm(x, wih, whh, b, mx, mh, gates):
    """Keras LSTM cell with per-sequence dropout masks, gate order i, f, g, o."""
    B, S, _ = x.shape
    H = whh.shape[1]
    h = x.new_zeros(B, H)
    c = x.new_zeros(B, H)
    hs = []
    for t in range(S):
        zs = []
        for k in range(4):
            g = k if gates == 4 else 0
            rows = slice(k * H, (k + 1) * H)
            zs.append((x[:, t] * mx[g]) @ wih[rows].T + (h * mh[g]) @ whh[rows].T + b[rows])
        i, f, g, o = torch.sigmoid(zs[0]), torch.sigmoid(zs[1]), torch.tanh(zs[2]), torch.sigmoid(zs[3])
        c = f * c + i * g
        h = o * torch.tanh(c)
        hs.append(h)
    return torch.stack(hs, dim=1)


def run_lstm(case, d):
    seq = int(d["return_sequences"].item())
    gates = int(d["mask_gates"].item())
    x, wih, whh, b = leaf(d["inp"]), leaf(d["weight_ih"]), leaf(d["weight_hh"]), leaf(d["bias"])
    H = whh.shape[1]
    if gates == 0:
        lstm = torch.nn.LSTM(x.shape[2], H, batch_first=True)
        with torch.no_grad():
            lstm.weight_ih_l0.copy_(d["weight_ih"])
            lstm.weight_hh_l0.copy_(d["weight_hh"])
            lstm.bias_ih_l0.copy_(d["bias"])  # Keras has one bias
            lstm.bias_hh_l0.zero_()
        hs, _ = lstm(x)
        out = hs if seq else hs[:, -1]
        (gx,) = backprop(out, d["r"], x)
        gwi, gwh, gb = lstm.weight_ih_l0.grad, lstm.weight_hh_l0.grad, lstm.bias_ih_l0.grad
    else:
        hs = keras_lstm(x, wih, whh, b, d["mask_x"], d["mask_h"], gates)
        out = hs if seq else hs[:, -1]
        gx, gwi, gwh, gb = backprop(out, d["r"], x, wih, whh, b)
    for what, c, t in (("out", d["out"], out), ("dinp", d["dinp"], gx), ("dweight_ih", d["dweight_ih"], gwi),
                       ("dweight_hh", d["dweight_hh"], gwh), ("dbias", d["dbias"], gb)):
        compare(case, what, c, t)


def run_activation(case, d):
    x = leaf(d["inp"])
    f = {"activation_tanh": torch.tanh, "activation_sigmoid": torch.sigmoid,
         "activation_identity": lambda v: v * 1.0}[case]
    out = f(x)
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)


def run_mse(case, d):
    yhat = leaf(d["yhat"])
    loss = torch.nn.functional.mse_loss(yhat, d["y"])
    loss.backward()
    compare(case, "loss", d["loss"], loss.reshape(1))
    compare(case, "dyhat", d["dyhat"], yhat.grad)


def run_conv1d(case, d):
    x, w, b = leaf(d["inp"]), leaf(d["weight"]), leaf(d["bias"])
    K = w.shape[-1]
    xp = torch.nn.functional.pad(x.permute(0, 2, 1), ((K - 1) // 2, K // 2))
    out = torch.nn.functional.conv1d(xp, w, b).permute(0, 2, 1)
    gx, gw, gb = backprop(out, d["r"], x, w, b)
    for what, c, t in (("out", d["out"], out), ("dinp", d["dinp"], gx),
                       ("dweight", d["dweight"], gw), ("dbias", d["dbias"], gb)):
        compare(case, what, c, t)


def run_maxpool1d(case, d):
    x = leaf(d["inp"])
    P = int(d["pool"].item())
    out = torch.nn.functional.max_pool1d(x.permute(0, 2, 1), P, P, ceil_mode=True).permute(0, 2, 1)
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)


def run_upsample1d(case, d):
    x = leaf(d["inp"])
    P, OL = int(d["factor"].item()), d["out"].shape[1]
    up = torch.nn.functional.interpolate(x.permute(0, 2, 1), scale_factor=P, mode="nearest")
    out = up[:, :, :OL].permute(0, 2, 1)
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)


def run_bilstm(case, d):
    x = leaf(d["inp"])
    H = d["weight_hh"].shape[1]
    lstm = torch.nn.LSTM(x.shape[2], H, batch_first=True, bidirectional=True)
    with torch.no_grad():
        for sfx in ("", "_reverse"):
            getattr(lstm, "weight_ih_l0" + sfx).copy_(d["weight_ih" + sfx])
            getattr(lstm, "weight_hh_l0" + sfx).copy_(d["weight_hh" + sfx])
            getattr(lstm, "bias_ih_l0" + sfx).copy_(d["bias" + sfx])
            getattr(lstm, "bias_hh_l0" + sfx).zero_()
    hs, _ = lstm(x)
    out = hs[:, :, :H] + hs[:, :, H:]
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)
    for sfx in ("", "_reverse"):
        compare(case, "dweight_ih" + sfx, d["dweight_ih" + sfx], getattr(lstm, "weight_ih_l0" + sfx).grad)
        compare(case, "dweight_hh" + sfx, d["dweight_hh" + sfx], getattr(lstm, "weight_hh_l0" + sfx).grad)
        compare(case, "dbias" + sfx, d["dbias" + sfx], getattr(lstm, "bias_ih_l0" + sfx).grad)


def run_leaky_relu(case, d):
    x = leaf(d["inp"])
    out = torch.nn.functional.leaky_relu(x, float(d["alpha"].item()))
    (gx,) = backprop(out, d["r"], x)
    compare(case, "out", d["out"], out)
    compare(case, "dinp", d["dinp"], gx)


DTC_RUNNERS = [("conv1d", run_conv1d), ("maxpool1d", run_maxpool1d), ("upsample1d", run_upsample1d),
               ("bilstm", run_bilstm), ("leaky_relu", run_leaky_relu)]


def main():
    global failures
    directory = sys.argv[1]
    runners = [("conv2d", run_conv), ("maxpool2d", run_pool), ("upsample2d", run_upsample),
               ("dense", run_dense), ("lstm", run_lstm), ("activation", run_activation), ("mse", run_mse)]
    runners += DTC_RUNNERS
    cases = sorted(f[:-4] for f in os.listdir(directory) if f.endswith(".bin"))
    if not cases:
        print("FAIL no dumped layers found in " + directory)
        return 1
    for case in cases:
        d = load(os.path.join(directory, case + ".bin"))
        for prefix, run in runners:
            if case.startswith(prefix):
                run(case, d)
                break
        else:
            print(f"FAIL {case}: no PyTorch twin for this case")
            failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
