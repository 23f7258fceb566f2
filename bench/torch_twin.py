#!/usr/bin/python3
"""torch_twin.py - the DSC CNN-LSTM autoencoder (include/model.h) in PyTorch.

The same network as src/nn/model.c, layer for layer, so that
  * tests/model_torch.py can compare the C forward/backward against it, and
  * the speed benchmark can time PyTorch on the same model.

Conventions (as in the C code): float32, NCHW, input (B, S, V, H, W);
Conv2d 3x3 padding 1 ('same'); MaxPool2d(2, 2, ceil_mode=True) (Keras 'same'
pooling: sizes are multiples of 16, so even); Upsample(scale 2, nearest);
LSTM gate blocks i, f, g, o with one bias (ours in bias_ih, bias_hh = 0);
Dense = Linear.  Keras LSTM dropout (input and recurrent masks per
sequence and gate, entries 0 or 1/(1-rate)) is replayed when masks are
given to forward(); without masks the fast nn.LSTM runs (inference).

Weights are read from a dsc checkpoint by its tensor table (names, shapes,
offsets), see include/checkpoint.h.

Benchmark use:
  /usr/bin/python3 bench/torch_twin.py [--checkpoint FILE] [--batch 8]
      [--grid 48x48] [--vars 7] [--seq 1] [--warmup 2] [--iterations 10] [--threads 2]
times training steps (forward, backward, SGD momentum) and inference on
random data and prints the medians as the key value lines of `dsc bench`
(train_samples_per_s, infer_samples_per_s, ...); bench/torch_vs_dsc.sh runs
both side by side.
"""
import argparse
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn

MAGIC = b"DSCCKPT\0"
# version 2 adds a training-state section after the parameters, version 3 the
# dense widths of variant dec (21 architecture fields instead of 18)
VERSIONS = (1, 2, 3)
VARIANTS = ["cnn-encoder", "cnn-autoencoder", "cnn-lstm-encoder", "cnn-lstm-autoencoder", "dec", "dtc"]
ACTIVATIONS = {0: None, 1: torch.tanh, 2: torch.sigmoid, 3: torch.relu}  # activation_kind of layers.h


def default_config():
    """The authors' model (model_config_default in src/nn/model.c)."""
    return dict(variant=3, vars=7, height=48, width=48, steps=1, kernel=3, activation=1,
                latent_activation=2, conv=[64, 64, 128, 256, 512], lstm=[512, 512], latent=256,
                dropout=0.1, recurrent_dropout=0.1)


def read_checkpoint(path):
    """Returns (config dict, [(name, shape, offset, size)], params float32 array)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != MAGIC:
        raise ValueError("%s: not a dsc checkpoint" % path)
    version, bom, total = struct.unpack_from("<IIQ", data, 8)
    if version not in VERSIONS or bom != 0x01020304 or total != len(data):
        raise ValueError("%s: unsupported or truncated checkpoint" % path)
    pos = 24
    (narch,) = struct.unpack_from("<I", data, pos)
    pos += 4
    a = struct.unpack_from("<%di" % narch, data, pos)
    pos += 4 * narch
    dropout, rdropout = struct.unpack_from("<ff", data, pos)
    pos += 8
    cfg = dict(variant=a[0], vars=a[1], height=a[2], width=a[3], steps=a[4], kernel=a[5],
               activation=a[6], latent_activation=a[7], conv=list(a[8:13]), lstm=[a[13], a[14]],
               latent=a[15], clusters=a[16], dropout=dropout, recurrent_dropout=rdropout,
               pool=a[17] if narch > 17 else 0,
               dense=list(a[18:21]) if narch >= 21 else [0, 0, 0])
    (nt,) = struct.unpack_from("<I", data, pos)
    pos += 4
    table = []
    for _ in range(nt):
        (ln,) = struct.unpack_from("<I", data, pos)
        pos += 4
        name = data[pos:pos + ln].decode()
        pos += ln
        (ndim,) = struct.unpack_from("<I", data, pos)
        pos += 4
        shape = struct.unpack_from("<%dI" % ndim, data, pos)
        pos += 4 * ndim
        off, size = struct.unpack_from("<QQ", data, pos)
        pos += 16
        table.append((name, tuple(shape), off, size))
    (nparams,) = struct.unpack_from("<Q", data, pos)
    pos += 8
    params = np.frombuffer(data, dtype="<f4", count=nparams, offset=pos).copy()
    return cfg, table, params


class Twin(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        v = cfg["variant"]
        self.has_lstm = v in (2, 3)
        self.has_decoder = v in (1, 3)
        k, c = cfg["kernel"], cfg["conv"]
        self.act = ACTIVATIONS[cfg["activation"]]
        self.latent_act = ACTIVATIONS[cfg["latent_activation"]]
        chans = [cfg["vars"]] + c
        self.enc = nn.ModuleList(nn.Conv2d(chans[i], chans[i + 1], k, padding=k // 2) for i in range(5))
        self.pool = nn.MaxPool2d(2, 2, ceil_mode=True)
        self.h16, self.w16 = cfg["height"] // 16, cfg["width"] // 16
        self.features = c[4] * self.h16 * self.w16
        if self.has_lstm:
            self.lstm1 = nn.LSTM(self.features, cfg["lstm"][0], batch_first=True)
            self.lstm2 = nn.LSTM(cfg["lstm"][0], cfg["lstm"][1], batch_first=True)
            lat_in = cfg["lstm"][1]
        else:
            lat_in = self.features * cfg["steps"]
        self.to_latent = nn.Linear(lat_in, cfg["latent"])
        if cfg.get("clusters", 0) > 0:  # the clustering layer's centroid matrix (K, L)
            self.centroids = nn.Parameter(torch.zeros(cfg["clusters"], cfg["latent"]))
        if self.has_decoder:
            self.dec_dense = nn.Linear(cfg["latent"], self.features)
            self.up = nn.Upsample(scale_factor=2, mode="nearest")
            dchans = [c[4], c[4], c[3], c[2], c[1]]  # C5 -> C5 -> C4 -> C3 -> C2
            self.dec = nn.ModuleList(nn.Conv2d(dchans[j], dchans[j + 1], k, padding=k // 2) for j in range(4))
            self.dec_out = nn.Conv2d(c[1], cfg["vars"], k, padding=k // 2)
        if self.has_lstm:  # one bias, as Keras: bias_hh stays zero
            for l in (self.lstm1, self.lstm2):
                nn.init.zeros_(l.bias_hh_l0)
                l.bias_hh_l0.requires_grad_(False)

    def _a(self, x, f):
        return x if f is None else f(x)

    @staticmethod
    def keras_lstm(lstm, x, mask_x, mask_h):
        """Keras LSTM with dropout masks, x (B, S, IN) -> all hidden states
        (B, S, HID).  Masks (4, B, IN) and (4, B, HID), one per gate i, f, g,
        o (tf.keras LSTMCell implementation 1, which Keras uses whenever
        recurrent dropout is set), or (B, IN) and (B, HID) shared by the
        gates (implementation 2)."""
        B, S = x.shape[0], x.shape[1]
        H = lstm.hidden_size
        if mask_x.dim() == 2:
            mask_x = mask_x.expand(4, *mask_x.shape)
        if mask_h.dim() == 2:
            mask_h = mask_h.expand(4, *mask_h.shape)
        w_ih = lstm.weight_ih_l0.split(H, dim=0)
        w_hh = lstm.weight_hh_l0.split(H, dim=0)
        b = (lstm.bias_ih_l0 + lstm.bias_hh_l0).split(H)
        xs = [(x * mask_x[k][:, None, :]) @ w_ih[k].t() + b[k] for k in range(4)]  # 4 x (B, S, H)
        h = x.new_zeros(B, H)
        c = x.new_zeros(B, H)
        out = []
        for t in range(S):
            i, f, g, o = (xs[k][:, t] + (h * mask_h[k]) @ w_hh[k].t() for k in range(4))
            c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
            h = torch.sigmoid(o) * torch.tanh(c)
            out.append(h)
        return torch.stack(out, dim=1)

    def encode(self, x, masks=None):
        """x (B, S, V, H, W) -> latent (B, L).  masks: None or
        ((mask_x1, mask_h1), (mask_x2, mask_h2)) Keras dropout masks."""
        B, S = x.shape[0], x.shape[1]
        h = x.reshape(B * S, *x.shape[2:])
        for i, conv in enumerate(self.enc):
            h = self._a(conv(h), self.act)
            if i >= 1:
                h = self.pool(h)
        h = h.reshape(B, S, self.features)  # NCHW flatten per frame
        if self.has_lstm and masks is not None:
            h = self.keras_lstm(self.lstm1, h, *masks[0])
            h = self.keras_lstm(self.lstm2, h, *masks[1])[:, -1]
        elif self.has_lstm:
            h, _ = self.lstm1(h)
            h, _ = self.lstm2(h)
            h = h[:, -1]
        else:
            h = h.reshape(B, S * self.features)
        return self._a(self.to_latent(h), self.latent_act)

    def forward(self, x, masks=None):
        """Returns (reconstruction of the last frame or None, latent)."""
        z = self.encode(x, masks)
        if not self.has_decoder:
            return None, z
        d = self.dec_dense(z).reshape(z.shape[0], self.cfg["conv"][4], self.h16, self.w16)
        for conv in self.dec:
            d = self._a(conv(self.up(d)), self.act)
        return self._a(self.dec_out(d), self.act), z

    def parameter_map(self):
        """Our tensor names -> torch parameters."""
        m = {}
        for i, conv in enumerate(self.enc):
            m["enc.conv%d.weight" % (i + 1)] = conv.weight
            m["enc.conv%d.bias" % (i + 1)] = conv.bias
        if self.has_lstm:
            for j, l in enumerate((self.lstm1, self.lstm2)):
                m["enc.lstm%d.weight_ih" % (j + 1)] = l.weight_ih_l0
                m["enc.lstm%d.weight_hh" % (j + 1)] = l.weight_hh_l0
                m["enc.lstm%d.bias" % (j + 1)] = l.bias_ih_l0
        m["enc.latent.weight"] = self.to_latent.weight
        m["enc.latent.bias"] = self.to_latent.bias
        if self.has_decoder:
            m["dec.dense.weight"] = self.dec_dense.weight
            m["dec.dense.bias"] = self.dec_dense.bias
            for j, conv in enumerate(self.dec):
                m["dec.conv%d.weight" % (j + 1)] = conv.weight
                m["dec.conv%d.bias" % (j + 1)] = conv.bias
            m["dec.out.weight"] = self.dec_out.weight
            m["dec.out.bias"] = self.dec_out.bias
        if self.cfg.get("clusters", 0) > 0:
            m["cluster.centroids"] = self.centroids
        return m

    def load_flat(self, table, params):
        pm = self.parameter_map()
        names = [t[0] for t in table]
        if sorted(names) != sorted(pm):
            raise ValueError("tensor table %s does not match the twin %s" % (names, sorted(pm)))
        with torch.no_grad():
            for name, shape, off, size in table:
                p = pm[name]
                if tuple(p.shape) != shape:
                    raise ValueError("%s: shape %s, twin %s" % (name, shape, tuple(p.shape)))
                p.copy_(torch.from_numpy(params[off:off + size].reshape(shape)))

    def flat_grads(self, table, nparams):
        """Gradients in our flat layout (zeros where a gradient is None)."""
        out = np.zeros(nparams, dtype=np.float32)
        pm = self.parameter_map()
        for name, shape, off, size in table:
            g = pm[name].grad
            if g is not None:
                out[off:off + size] = g.detach().numpy().reshape(-1)
        return out


class DecTwin(nn.Module):
    """DEC (src/nn/model_dec.c): dense autoencoder d -> D1 -> D2 -> D3 -> L ->
    D3 -> D2 -> D1 -> d on the flattened frame (NCHW order), the hidden
    layers with cfg activation (relu), the embedding with the latent
    activation (identity), the output linear."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.has_lstm, self.has_decoder = False, True
        self.act = ACTIVATIONS[cfg["activation"]]
        self.latent_act = ACTIVATIONS[cfg["latent_activation"]]
        self.features = cfg["vars"] * cfg["height"] * cfg["width"]
        w = [self.features] + list(cfg["dense"]) + [cfg["latent"]]
        self.enc = nn.ModuleList(nn.Linear(w[i], w[i + 1]) for i in range(4))
        self.dec = nn.ModuleList(nn.Linear(w[4 - j], w[3 - j]) for j in range(4))
        if cfg.get("clusters", 0) > 0:
            self.centroids = nn.Parameter(torch.zeros(cfg["clusters"], cfg["latent"]))

    _a = Twin._a

    def encode(self, x, masks=None):
        h = x[:, -1].reshape(x.shape[0], self.features)
        for i, lin in enumerate(self.enc):
            h = self._a(lin(h), self.act if i < 3 else self.latent_act)
        return h

    def forward(self, x, masks=None):
        z = self.encode(x)
        d = z
        for j, lin in enumerate(self.dec):
            d = lin(d)
            if j < 3:
                d = self._a(d, self.act)
        return d.reshape(x.shape[0], *x.shape[2:]), z

    def parameter_map(self):
        m = {}
        enc = ["enc.dense1", "enc.dense2", "enc.dense3", "enc.latent"]
        dec = ["dec.dense1", "dec.dense2", "dec.dense3", "dec.out"]
        for names, layers in ((enc, self.enc), (dec, self.dec)):
            for name, lin in zip(names, layers):
                m[name + ".weight"] = lin.weight
                m[name + ".bias"] = lin.bias
        if self.cfg.get("clusters", 0) > 0:
            m["cluster.centroids"] = self.centroids
        return m

    load_flat = Twin.load_flat
    flat_grads = Twin.flat_grads


def from_checkpoint(path):
    cfg, table, params = read_checkpoint(path)
    if cfg["variant"] == 5:  # the DTC baseline (include/model_dtc.h)
        import torch_twin_dtc
        twin = torch_twin_dtc.DTCTwin(cfg)
        for name in ("load_flat", "flat_grads"):
            setattr(twin, name, getattr(Twin, name).__get__(twin))
        twin.load_flat(table, params)
        return twin, table, params
    twin = DecTwin(cfg) if VARIANTS[cfg["variant"]] == "dec" else Twin(cfg)
    twin.load_flat(table, params)
    return twin, table, params


def benchmark(args):
    """Times the training step (zero_grad, forward, MSE backward, SGD
    momentum step, as `dsc bench` does) and inference (forward without
    gradients) and prints the medians over the iterations as key value
    lines, the keys of `dsc bench`."""
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    if args.checkpoint:
        twin, _, _ = from_checkpoint(args.checkpoint)
    else:
        cfg = default_config()
        h, w = (int(v) for v in args.grid.split("x"))
        cfg.update(height=h, width=w, vars=args.vars, steps=args.seq)
        twin = Twin(cfg)
    cfg = twin.cfg
    B = args.batch
    x = torch.rand(B, cfg["steps"], cfg["vars"], cfg["height"], cfg["width"]) * 2 - 1
    opt = torch.optim.SGD([p for p in twin.parameters() if p.requires_grad], lr=1e-7, momentum=0.9)
    last = x[:, -1]

    def step():
        opt.zero_grad()
        rec, z = twin(x)
        loss = ((rec - last) ** 2).mean() if rec is not None else z.sum()
        loss.backward()
        opt.step()

    def timed(f):
        for _ in range(args.warmup):
            f()
        t = []
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            f()
            t.append(time.perf_counter() - t0)
        return float(np.median(t))

    train = timed(step)
    with torch.no_grad():
        infer = timed(lambda: twin(x))
        encode = timed(lambda: twin.encode(x))
    nparams = sum(p.numel() for p in twin.parameters() if p.requires_grad)
    print("model torch %s" % torch.__version__)
    print("batch %d\nthreads %d\niterations %d\nparams %d" % (B, torch.get_num_threads(), args.iterations, nparams))
    print("train_s %.6f\ninfer_s %.6f\nencode_s %.6f" % (train, infer, encode))
    print("train_samples_per_s %.3f\ninfer_samples_per_s %.3f\nencode_samples_per_s %.3f"
          % (B / train, B / infer, B / encode))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", help="dsc checkpoint to take the architecture and weights from")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--grid", default="48x48", help="HxW of a frame (without --checkpoint)")
    ap.add_argument("--vars", type=int, default=7, help="variables (without --checkpoint)")
    ap.add_argument("--seq", type=int, default=1, help="time steps per sample (without --checkpoint)")
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--iterations", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    benchmark(ap.parse_args())
    sys.exit(0)
