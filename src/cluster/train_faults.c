/*
 * train_faults.c - faults put into a training run for its tests (see
 * train_faults.h).
 */
#include "train_faults.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>

int train_faults_read(MPI_Comm comm, train_faults *f)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    f->nan_step = -1;
    const char *s = getenv("DSC_FAULT_NAN_STEP"), *r = getenv("DSC_FAULT_NAN_RANK");
    if (!s) return DSC_OK;
    char *end;
    long v = strtol(s, &end, 10), who = r ? strtol(r, NULL, 10) : rank;
    if (end == s || *end != '\0' || v < 0)
        return dsc_fail("environment variable DSC_FAULT_NAN_STEP: '%s' is not a step number; unset it", s);
    if (who == rank) f->nan_step = v;
    return DSC_OK;
}

void train_faults_poison_gradient(const train_faults *f, model *m, long it)
{
    if (it == f->nan_step && m->nparams > 0) m->grads[m->nparams - 1] = NAN;
}
