#!/usr/bin/python3
"""torch_twin_dtc.py - the DTC baseline network (include/model_dtc.h) in PyTorch.

The same network as src/nn/model_dtc.c, layer for layer, for tests/model_torch.py
(torch_twin.from_checkpoint returns it for variant 5):

  x (B, 1, V, H, W) flattened to (B, 1, d)       d = V*H*W, read as a sequence
  Conv1d(1, F, K) after zero padding (K-1)//2 before, K//2 after ('same')
  leaky_relu(0.3) -> MaxPool1d(P, P, ceil_mode=True)   (B, F, Lp)
  LSTM(F, H1, bidirectional), the two directions summed -> leaky_relu
  LSTM(H1, H2, bidirectional), summed -> leaky_relu = latent (B, Lp*H2)
  Upsample by P (nearest), cut to d -> Conv1d(H2, 1, K) 'same', linear

LSTM gate blocks i, f, g, o, one bias (ours in bias_ih, bias_hh = 0).  The
latent is flattened position-major, (Lp, H2), as the C code's (B, Lp, H2).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

LEAKY_ALPHA = 0.3


class DTCTwin(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.has_lstm = False  # no dropout masks to replay
        self.has_decoder = True
        self.d = cfg["vars"] * cfg["height"] * cfg["width"]
        f, self.k, self.p = cfg["conv"][0], cfg["kernel"], cfg["pool"]
        h1, h2 = cfg["lstm"]
        self.conv = nn.Conv1d(1, f, self.k)
        self.lstm1 = nn.LSTM(f, h1, batch_first=True, bidirectional=True)
        self.lstm2 = nn.LSTM(h1, h2, batch_first=True, bidirectional=True)
        self.dec_out = nn.Conv1d(h2, 1, self.k)
        if cfg.get("clusters", 0) > 0:
            self.centroids = nn.Parameter(torch.zeros(cfg["clusters"], cfg["latent"]))
        for l in (self.lstm1, self.lstm2):
            for sfx in ("", "_reverse"):
                b = getattr(l, "bias_hh_l0" + sfx)
                nn.init.zeros_(b)
                b.requires_grad_(False)

    def same(self, x):
        return F.pad(x, ((self.k - 1) // 2, self.k // 2))

    @staticmethod
    def bilstm_sum(lstm, x):
        h, _ = lstm(x)
        n = lstm.hidden_size
        return h[:, :, :n] + h[:, :, n:]

    def encode(self, x):
        B = x.shape[0]
        h = F.leaky_relu(self.conv(self.same(x.reshape(B, 1, self.d))), LEAKY_ALPHA)
        h = F.max_pool1d(h, self.p, self.p, ceil_mode=True).permute(0, 2, 1)  # (B, Lp, F)
        h = F.leaky_relu(self.bilstm_sum(self.lstm1, h), LEAKY_ALPHA)
        return F.leaky_relu(self.bilstm_sum(self.lstm2, h), LEAKY_ALPHA)  # (B, Lp, H2)

    def forward(self, x, masks=None):
        """Returns (reconstruction (B, V, H, W), latent (B, Lp*H2))."""
        z = self.encode(x)
        B = x.shape[0]
        up = F.interpolate(z.permute(0, 2, 1), scale_factor=self.p, mode="nearest")[:, :, :self.d]
        rec = self.dec_out(self.same(up))
        c = self.cfg
        return rec.reshape(B, c["vars"], c["height"], c["width"]), z.reshape(B, -1)

    def parameter_map(self):
        m = {"enc.conv1.weight": self.conv.weight, "enc.conv1.bias": self.conv.bias,
             "dec.out.weight": self.dec_out.weight, "dec.out.bias": self.dec_out.bias}
        for j, l in enumerate((self.lstm1, self.lstm2)):
            for sfx, name in (("", "fwd"), ("_reverse", "bwd")):
                m["enc.lstm%d.%s.weight_ih" % (j + 1, name)] = getattr(l, "weight_ih_l0" + sfx)
                m["enc.lstm%d.%s.weight_hh" % (j + 1, name)] = getattr(l, "weight_hh_l0" + sfx)
                m["enc.lstm%d.%s.bias" % (j + 1, name)] = getattr(l, "bias_ih_l0" + sfx)
        if self.cfg.get("clusters", 0) > 0:
            m["cluster.centroids"] = self.centroids
        return m
