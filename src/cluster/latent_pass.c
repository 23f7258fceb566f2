/*
 * latent_pass.c - encoder inference over all time steps in batches aligned
 * to global positions, and the soft assignments of their latents (see
 * latent_pass.h).
 */
#include "latent_pass.h"
#include "blas_env.h"
#include "clustering.h"
#include "partition.h"
#include "sample_exchange.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

static int encode_all(MPI_Comm comm, model *m, const float *x, long long T, float *z)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    const int E = LATENT_PASS_BATCH, S = m->cfg.steps, L = m->cfg.latent;
    const size_t F = (size_t)m->cfg.vars * m->cfg.height * m->cfg.width;
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    if (m->max_batch < E) return dsc_agree(comm, dsc_fail("latent pass: the model takes batches of %d, %d needed", m->max_batch, E));

    /* aligned batches [a0, a1) covering [t0, t0 + n); frames from h0 */
    const long long a0 = n > 0 ? t0 / E * E : t0;
    const long long a1 = n > 0 ? ((t0 + n + E - 1) / E * E < T ? (t0 + n + E - 1) / E * E : T) : t0;
    const long long h0 = a0 - (S - 1) > 0 ? a0 - (S - 1) : 0;
    const long long nbefore = t0 - h0, nafter = a1 - (t0 + n);
    const long long nhalo = nbefore + nafter;
    long long *want = dsc_malloc((size_t)(nhalo + S + 1) * sizeof(long long), "latent pass indices");
    float *halo = dsc_malloc(((size_t)nhalo * F + 1) * sizeof(float), "latent pass frames");
    float *batch = dsc_malloc(((size_t)E * S * F + 1) * sizeof(float), "latent pass batch");
    int status = want && halo && batch ? DSC_OK : DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto done;
    for (long long i = 0; i < nbefore; i++) want[i] = h0 + i;
    for (long long i = 0; i < nafter; i++) want[nbefore + i] = t0 + n + i;
    status = sample_fetch(comm, x, T, F, want, nhalo, halo);
    if (status != DSC_OK) goto done;

    long long *frames = want; /* reused: S indices of one window */
    for (long long b = a0; b < a1 && status == DSC_OK; b += E) {
        const int bs = (int)(T - b < E ? T - b : E);
        for (int i = 0; i < bs; i++) {
            sample_window(b + i, S, frames);
            for (int s = 0; s < S; s++) {
                const long long g = frames[s];
                const float *src = g < t0 ? halo + (size_t)(g - h0) * F
                                   : g >= t0 + n ? halo + (size_t)(nbefore + g - t0 - n) * F
                                                 : x + (size_t)(g - t0) * F;
                memcpy(batch + ((size_t)i * S + s) * F, src, F * sizeof(float));
            }
        }
        status = model_encode(m, batch, bs);
        for (int i = 0; i < bs && status == DSC_OK; i++)
            if (b + i >= t0 && b + i < t0 + n)
                memcpy(z + (size_t)(b + i - t0) * L, m->latent + (size_t)i * L, (size_t)L * sizeof(float));
    }
    status = dsc_agree(comm, status);
done:
    free(want);
    free(halo);
    free(batch);
    return status;
}

int latent_pass(MPI_Comm comm, model *m, const float *x, long long T, float *z)
{
    blas_threads_saved blas = blas_threads_single(); /* the whole pass: gemm.h */
    int status = encode_all(comm, m, x, T, z);
    blas_threads_restore(blas);
    return status;
}

int latent_soft_assign(MPI_Comm comm, model *m, const float *x, long long T, double alpha, float *z, double *q)
{
    if (latent_pass(comm, m, x, T, z) != DSC_OK) return DSC_ERR;
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    clustering_soft_assign(q, z, m->centroids, n, m->cfg.clusters, m->cfg.latent, alpha);
    return DSC_OK;
}
