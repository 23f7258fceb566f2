/*
 * train_faults.h - faults put into a training run on purpose, to test how
 * it handles them (tests/faults.sh, doc/robustness.md):
 *
 *   DSC_FAULT_NAN_STEP=N  one gradient value becomes NaN at global step N,
 *                         before the allreduce, so the run must detect that
 *                         it diverged;
 *   DSC_FAULT_NAN_RANK=R  ... on rank R alone (default: every rank).
 */
#ifndef DSC_TRAIN_FAULTS_H
#define DSC_TRAIN_FAULTS_H

#include <mpi.h>
#include "model.h"

typedef struct {
    long nan_step; /* global step of the NaN on this rank, -1 none */
} train_faults;

/* Local: the faults the environment asks for on this rank; DSC_ERR with a
 * message when a variable is not a step number. */
int train_faults_read(MPI_Comm comm, train_faults *f);

/* Local: the NaN into the gradient, if step it is the one asked for. */
void train_faults_poison_gradient(const train_faults *f, model *m, long it);

#endif
