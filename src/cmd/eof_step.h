/*
 * eof_step.h - the EOF truncation of dsc kmeans --pca and dsc ward --pca:
 * the N leading principal components of the real cells of a run's input
 * (pca.h), what the clustering then works on, and eofs.nc and pcs.nc.
 */
#ifndef DSC_EOF_STEP_H
#define DSC_EOF_STEP_H

#include <stdio.h>
#include "pca.h"
#include "run_skeleton.h"

typedef struct {
    long components;               /* N; 0: no truncation */
    float *scores;                 /* (N time steps here, components) */
    pca_result pr;
    int have_pr;
    double seconds;
} eof_step;

/* Collective: the buffer of the scores (agreed with the command's own
 * allocations by the caller: returns the local status). */
int eof_alloc(eof_step *e, const run_state *r, long components);
/* Collective: the PCA of r->in.x (real cells) seeded with seed; the
 * matrix to cluster in *x, *d (r->in.x, r->d without truncation). */
int eof_fit(eof_step *e, const run_state *r, long seed, const float **x, int *d);
/* Collective: eofs.nc and pcs.nc into dir (nothing without truncation). */
int eof_write(const eof_step *e, const run_state *r, const char *dir);
/* Rank 0: the PCA's keys of metrics.json (nothing without truncation). */
void eof_json(const eof_step *e, FILE *f);
void eof_free(eof_step *e);

#endif
