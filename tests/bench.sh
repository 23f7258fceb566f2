#!/bin/sh
# bench.sh - `dsc bench` runs on a tiny model and prints every key, in text
# and JSON, for each variant; bad options give one clear error.  No speed is
# asserted (the machine is shared).
. ./tests/testenv.sh

keys="train_samples_per_s infer_samples_per_s encode_samples_per_s train_gflops infer_gflops sgemm_gflops
train_peak_fraction infer_peak_fraction train_gflop_per_sample"
small="--iterations 1 --warmup 0 --batch 1 --grid 16x16 --vars 2"

# every key once, with a positive number
has_keys() {
  for k in $keys; do
    awk -v k="$k" '$1 == k && $2 + 0 > 0 { n++ } END { exit n == 1 ? 0 : 1 }' "$1" || { echo "key $k missing or not positive"; return 1; }
  done
}

check "dsc bench runs (S=1)" "$DSC" bench $small --threads 1
cp "$WORK/log" "$WORK/s1"
if has_keys "$WORK/s1" > "$WORK/log" 2>&1; then pass "dsc bench prints every key with a positive value"; else fail "dsc bench prints every key with a positive value"; fi

# FLOPs per sample follow the shapes: one 16x16x2 sample of the reference widths
awk '$1 == "infer_gflop_per_sample" { exit ($2 > 0.15 && $2 < 0.25) ? 0 : 1 }' "$WORK/s1"
if [ $? -eq 0 ]; then pass "forward FLOPs of a 16x16x2 sample are about 0.19 GFLOP"; else fail "forward FLOPs of a 16x16x2 sample ($(grep infer_gflop "$WORK/s1"))"; fi

for v in cnn-encoder cnn-autoencoder cnn-lstm-encoder dsc; do
  check "dsc bench --variant $v --seq 2 --threads 2" "$DSC" bench $small --variant $v --seq 2 --threads 2
  cp "$WORK/log" "$WORK/v"
  if has_keys "$WORK/v" > "$WORK/log" 2>&1; then pass "$v: every key"; else fail "$v: every key"; fi
done

# the baselines, each with its own FLOP model (dec was once refused):
# positive figures, and per-sample FLOPs that follow the shapes.  Their
# first step touches every page of the optimizer state, so a warm-up and a
# few samples keep the rates clear of 0.00 on a busy machine.
base="--iterations 2 --warmup 1 --batch 4 --grid 16x16 --vars 2"
for v in dec dtc; do
  check "dsc bench --variant $v" "$DSC" bench $base --variant $v --threads 1
  cp "$WORK/log" "$WORK/$v"
  if has_keys "$WORK/$v" > "$WORK/log" 2>&1; then pass "$v: every key"; else fail "$v: every key"; fi
  if grep -q "^model $v " "$WORK/$v"; then pass "$v: the model line names $v"; else fail "$v: the model line names $v"; fi
done
# dec on 16x16x2: d = 512, dense 512-500-500-2000-10 and back, 2*IN*OUT per
# layer = 6.11 MFLOP forward, training 3x less the first layer's backward
awk '$1 == "infer_gflop_per_sample" { f = $2 } $1 == "train_gflop_per_sample" { t = $2 }
     END { exit (f > 0.0060 && f < 0.0063 && t > 0.0175 && t < 0.0181) ? 0 : 1 }' "$WORK/dec"
if [ $? -eq 0 ]; then pass "dec: forward FLOPs of a 16x16x2 sample are about 0.0061 GFLOP"; else fail "dec: FLOPs ($(grep gflop_per "$WORK/dec" | tr '\n' ' '))"; fi
# dtc on 16x16x2: conv 50 x kernel 10 over 512 positions, two BiLSTMs over 52, conv back: about 4.7 MFLOP
awk '$1 == "infer_gflop_per_sample" { exit ($2 > 0.0040 && $2 < 0.0055) ? 0 : 1 }' "$WORK/dtc"
if [ $? -eq 0 ]; then pass "dtc: forward FLOPs of a 16x16x2 sample are about 0.0047 GFLOP"; else fail "dtc: FLOPs ($(grep gflop_per "$WORK/dtc" | tr '\n' ' '))"; fi
# the dec refusal must not come back
check "dsc bench --variant dec --json" sh -c "'$DSC' bench $base --variant dec --json > '$WORK/decjson'"
if "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["model"].startswith("dec ") and d["infer_gflop_per_sample"] > 0 else "not a dec benchmark: %s" % d["model"])
' "$WORK/decjson" > "$WORK/log" 2>&1; then
  pass "--variant dec --json benchmarks the dec network"
else
  fail "--variant dec --json benchmarks the dec network"
fi

# stdout alone: a warning about the BLAS kernels (tests/blas.sh) goes to stderr
check "dsc bench --json" sh -c "'$DSC' bench $small --json > '$WORK/json'"
if "$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
keys = sys.argv[2].split()
missing = [k for k in keys if not (isinstance(d.get(k), (int, float)) and d[k] > 0)]
sys.exit("missing or not positive: %s" % missing if missing else 0)
' "$WORK/json" "$keys" > "$WORK/log" 2>&1; then
  pass "--json is one JSON object with every key"
else
  fail "--json is one JSON object with every key"
fi

expect_error "grid not a multiple of 16" "option --grid: '20x16'.*multiple of 16" "$DSC" bench --grid 20x16
expect_error "zero iterations" "option --iterations" "$DSC" bench --iterations 0
expect_error "unknown variant" "unknown variant 'lenet'" "$DSC" bench --variant lenet
expect_error "more than one rank" "started on 2 ranks" run_np 2 "$DSC" bench $small
tap_done
