/*
 * train_signals.h - stopping a training run from outside: SIGTERM (what
 * Slurm sends before the time limit) or SIGUSR1 asks the loop to stop at
 * the next step, all ranks together, after writing a checkpoint.
 */
#ifndef DSC_TRAIN_SIGNALS_H
#define DSC_TRAIN_SIGNALS_H

/* Installs the handler of SIGTERM and SIGUSR1. */
void train_catch_signals(void);

/* Local: 1 once one of them arrived on this rank. */
int train_stop_requested(void);

#endif
