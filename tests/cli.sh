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
tap_done
