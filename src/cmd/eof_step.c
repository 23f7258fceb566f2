/*
 * eof_step.c - the EOF truncation of dsc kmeans and dsc ward (see
 * eof_step.h).
 */
#include "eof_step.h"
#include "run_output.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

int eof_alloc(eof_step *e, const run_state *r, long components)
{
    memset(e, 0, sizeof *e);
    e->components = components;
    if (components > 0) e->scores = dsc_malloc(((size_t)r->n * components + 1) * sizeof(float), "principal components");
    return e->scores || components == 0 ? DSC_OK : DSC_ERR;
}

int eof_fit(eof_step *e, const run_state *r, long seed, const float **x, int *d)
{
    *x = r->in.x;
    *d = r->d;
    if (e->components == 0) return DSC_OK;
    double t = MPI_Wtime();
    pca_options pco = pca_defaults((int)e->components);
    pco.seed = (uint64_t)seed;
    int status = pca_fit(r->comm, r->in.x, r->n, r->d, &pco, &e->pr, e->scores);
    if (status != DSC_OK) return status;
    e->have_pr = 1;
    *x = e->scores;
    *d = (int)e->components;
    e->seconds = MPI_Wtime() - t;
    return DSC_OK;
}

int eof_write(const eof_step *e, const run_state *r, const char *dir)
{
    const int c = (int)e->components;
    if (c == 0) return DSC_OK;
    int status = run_output_eofs(r->comm, dir, &r->in.cat, e->pr.patterns, e->pr.variance, e->pr.ratio, c);
    if (status == DSC_OK) status = run_output_pcs(r->comm, dir, &r->in.cat, e->scores, r->t0, r->n, e->pr.variance, e->pr.ratio, c);
    return status;
}

void eof_json(const eof_step *e, FILE *f)
{
    if (e->components > 0) pca_write_json(f, &e->pr, "  ");
}

void eof_free(eof_step *e)
{
    if (e->have_pr) pca_result_destroy(&e->pr);
    free(e->scores);
    memset(e, 0, sizeof *e);
}
