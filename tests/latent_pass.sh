#!/bin/sh
# latent_pass.sh - tests/test_latent_pass at 1, 2 and 3 ranks: the sample
# exchange moves the right rows, and the latent of every time step is
# bitwise the same whatever the number of ranks (batches aligned to global
# positions).
. ./tests/testenv.sh

for np in 1 2 3; do
  launcher=$(echo "$TESTMPIRUN" | sed "s/NP/$np/")
  # shellcheck disable=SC2086
  check "sample exchange and latent pass on $np rank(s)" $launcher ./tests/test_latent_pass "$WORK/z$np.bin"
  if grep -q '^not ok' "$WORK/log" || ! grep -q '^1\.\.[1-9]' "$WORK/log"; then
    fail "latent pass checks on $np rank(s): $(grep -c '^not ok' "$WORK/log") failed"
    sed 's/^/# /' "$WORK/log" | head -20
  else
    pass "latent pass checks on $np rank(s): $(grep -c '^ok' "$WORK/log") passed"
  fi
done
check "latents at 1 and 2 ranks are bitwise identical" cmp "$WORK/z1.bin" "$WORK/z2.bin"
check "latents at 1 and 3 ranks are bitwise identical" cmp "$WORK/z1.bin" "$WORK/z3.bin"
tap_done
