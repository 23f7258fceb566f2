#!/bin/sh
# cli.sh - the dsc front end: help for every command, clear errors for bad options.
. ./tests/testenv.sh

check "dsc --help lists the commands" sh -c "'$DSC' --help | grep -q '^  synth' && '$DSC' --help | grep -q '^  info'"
for c in synth info; do
  check "dsc $c --help lists options with defaults" sh -c "'$DSC' $c --help | grep -q 'default'"
done
expect_error "unknown command" "unknown command 'frobnicate'" "$DSC" frobnicate
expect_error "help for an unknown command" "dsc help: unknown command 'frobnicate'" "$DSC" help frobnicate
check "help for a command prints its options" sh -c "\"$DSC\" help train | grep -q -- --resume"
expect_error "unknown option names the option" "unknown option '--no-such-option'" "$DSC" synth --no-such-option
expect_error "unknown option on 2 ranks gives one line" "unknown option" run_np 2 "$DSC" info --no-such-option

# Spaces around a number are ignored alike before and after it (also in
# sizes such as --grid and in --years); a blank value or a trailing
# letter stays an error naming the option.
check "dsc synth reads --grid ' 8x8 ', --years '2001 ' and --regimes ' 4'" \
  "$DSC" synth -q -o "$WORK/d" --grid ' 8x8 ' --years '2001 ' --regimes ' 4'
check "-k ' 4' and -k '4 ' give the same labels" sh -c \
  "'$DSC' kmeans -q -k ' 4' -o '$WORK/k1' '$WORK/d/era5_2001.nc' && '$DSC' kmeans -q -k '4 ' -o '$WORK/k2' '$WORK/d/era5_2001.nc' \
   && cmp '$WORK/k1/labels.csv' '$WORK/k2/labels.csv'"
for v in '4x' '' ' ' '4 4'; do
  expect_error "-k '$v' is refused" "option --clusters: '$v' is not an integer" "$DSC" kmeans -q -k "$v" -o "$WORK/kb" "$WORK/d/era5_2001.nc"
done
expect_error "a blank floating-point value is refused" "option --noise: ' ' is not a number" "$DSC" synth -q -o "$WORK/d2" --noise ' '
check "a floating-point value with spaces after it is read" "$DSC" synth -q -o "$WORK/d3" --grid 8x8 --years 2001 --noise '1.5 '
tap_done
