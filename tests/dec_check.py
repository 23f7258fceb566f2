"""dec_check.py - checks on DEC checkpoints (dsc train --variant dec) for tests/dec.sh.

  dec_check.py arch CKPT V H W D1 D2 D3 L      the architecture record: variant dec, the real
                                               (unpadded) grid, the dense widths and the latent size,
                                               and enc.dense1.weight of shape (D1, V*H*W)
  dec_check.py frozen A.ckpt B.ckpt            the decoder (dec.*) of B is bitwise that of A and the
                                               encoder (enc.*) and centroids differ: joint training
                                               left the dropped decoder alone
Exits non-zero with a message on any failure.
"""
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_check import read_params  # noqa: E402

DEC = 4  # model_variant MODEL_DEC


def arch(path, V, H, W, D1, D2, D3, L):
    b = open(path, "rb").read()
    (version,) = struct.unpack_from("<I", b, 8)
    (narch,) = struct.unpack_from("<I", b, 24)
    if version < 3 or narch != 21:
        raise SystemExit(f"{path}: format version {version} with {narch} architecture fields, expected >= 3 and 21")
    a = struct.unpack_from("<21i", b, 28)
    got = dict(variant=a[0], vars=a[1], height=a[2], width=a[3], steps=a[4], activation=a[6],
               latent_activation=a[7], latent=a[15], dense=list(a[18:21]))
    want = dict(variant=DEC, vars=V, height=H, width=W, steps=1, activation=3, latent_activation=0,
                latent=L, dense=[D1, D2, D3])
    if got != want:
        raise SystemExit(f"{path}: architecture {got}, expected {want}")
    p = read_params(path)
    if len(p["enc.dense1.weight"]) != D1 * V * H * W or len(p["dec.out.bias"]) != V * H * W:
        raise SystemExit(f"{path}: enc.dense1.weight has {len(p['enc.dense1.weight'])} values, expected {D1} x {V * H * W}")
    print(f"dec V={V} H={H} W={W} dense={D1},{D2},{D3} latent={L}")


def frozen(a, b):
    pa, pb = read_params(a), read_params(b)
    if pa.keys() != pb.keys():
        raise SystemExit("the checkpoints hold different tensors")
    dec = [n for n in pa if n.startswith("dec.")]
    enc = [n for n in pa if not n.startswith("dec.")]
    if len(dec) != 8:
        raise SystemExit(f"{len(dec)} decoder tensors, expected 8")
    moved = [n for n in dec if pa[n] != pb[n]]
    if moved:
        raise SystemExit(f"joint training changed the dropped decoder: {moved}")
    still = [n for n in enc if pa[n] == pb[n]]
    if still:
        raise SystemExit(f"joint training left these unchanged: {still}")
    print(f"decoder unchanged ({len(dec)} tensors), encoder and centroids trained ({len(enc)} tensors)")


if __name__ == "__main__":
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "arch" and len(sys.argv) == 10:
        arch(sys.argv[2], *map(int, sys.argv[3:]))
    elif mode == "frozen" and len(sys.argv) == 4:
        frozen(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(__doc__)
