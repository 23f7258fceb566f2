#!/bin/sh
# overlap.sh - the gradient allreduce overlapped with the backward pass
# (grad_reducer.h) changes no bit: tests/test_grad_reducer on 2 and 3 ranks,
# then dsc train on 2 and 3 ranks with the overlap (the default) and without
# it (DSC_OVERLAP=0), in 4 MB chunks and in chunks of 500 floats (so that
# most of them start during the backward): model.ckpt, labels.csv and
# centroids.nc byte for byte the same, replicas checked at every step; a
# NaN put into one rank's gradient stops both runs with the same error.
. ./tests/testenv.sh

for np in 2 3; do
  launcher=$(echo "$TESTMPIRUN" | sed "s/NP/$np/")
  # shellcheck disable=SC2086
  check "test_grad_reducer on $np ranks" $launcher ./tests/test_grad_reducer
  sed -n 's/^\(ok\|not ok\) [0-9]* - /# /p' "$WORK/log"
done

D="$WORK/data"
check "dsc synth writes one year on a 16x16 grid" "$DSC" synth -q -o "$D" --years 2001-2001 --grid 16x16 --regimes 4
NET="-k 4 --conv 4,4,8,8,16 --lstm 16,16 --latent 8 --batch 12 --pretrain-epochs 1 --max-iter 30 --update-interval 10 --seed 3 -q --check-replicas"
# check runs its command under timeout(1), which cannot call a shell function
same='for f in model.ckpt labels.csv centroids.nc; do cmp "$0/$f" "$1/$f" || exit 1; done'
for np in 2 3; do
  for chunk in "" 500; do
    tag="${np}_${chunk:-4MB}"
    check "train on $np ranks, chunks ${chunk:-4 MB}: without the overlap" run_np "$np" \
      env DSC_OVERLAP=0 DSC_OVERLAP_CHUNK="$chunk" "$DSC" train $NET -o "$WORK/off_$tag" "$D/era5_2001.nc"
    check "train on $np ranks, chunks ${chunk:-4 MB}: with the overlap" run_np "$np" \
      env DSC_OVERLAP_CHUNK="$chunk" "$DSC" train $NET -o "$WORK/on_$tag" "$D/era5_2001.nc"
    check "... model.ckpt, labels.csv and centroids.nc byte for byte the same" sh -c "$same" "$WORK/off_$tag" "$WORK/on_$tag"
  done
done
for mode in 0 1; do
  expect_error "a NaN in rank 1's gradient at joint step 4 (overlap $mode) stops the run" "not finite at joint step 4 " \
    run_np 2 env DSC_OVERLAP=$mode DSC_OVERLAP_CHUNK=500 DSC_FAULT_NAN_STEP=35 DSC_FAULT_NAN_RANK=1 \
    "$DSC" train $NET -o "$WORK/nan$mode" "$D/era5_2001.nc"
  grep '^dsc: error:' "$WORK/err" > "$WORK/nan$mode.err"
done
check "... with the same message" cmp "$WORK/nan0.err" "$WORK/nan1.err"
tap_done
