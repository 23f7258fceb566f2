/*
 * grad_reducer.c - the gradient allreduce overlapped with the backward pass
 * (see grad_reducer.h).
 */
#include "grad_reducer.h"
#include "rng.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

static size_t chunk_size(const grad_reducer *r, int c)
{
    size_t off = (size_t)c * r->chunk;
    return r->n - off < r->chunk ? r->n - off : r->chunk;
}

/* 1 when MPI_Iallreduce gives the bits of MPI_Allreduce for count floats:
 * random numbers of many magnitudes, different on every rank, so that
 * another order of the additions shows in a good share of the elements. */
static int same_sums(MPI_Comm comm, int rank, size_t count, int *same)
{
    float *a = dsc_malloc(2 * count * sizeof(float), "allreduce probe");
    if (!a) return DSC_ERR;
    float *b = a + count;
    rng_state g;
    rng_seed(&g, 0x0ce7a11edULL, (uint64_t)rank);
    for (size_t i = 0; i < count; i++) {
        double u = rng_uniform(&g) - 0.5;
        a[i] = (float)(u * (double)(1u << (rng_next(&g) % 24)));
    }
    memcpy(b, a, count * sizeof(float));
    MPI_Request q;
    MPI_Allreduce(MPI_IN_PLACE, a, (int)count, MPI_FLOAT, MPI_SUM, comm);
    MPI_Iallreduce(MPI_IN_PLACE, b, (int)count, MPI_FLOAT, MPI_SUM, comm, &q);
    MPI_Wait(&q, MPI_STATUS_IGNORE);
    *same = memcmp(a, b, count * sizeof(float)) == 0;
    free(a);
    return DSC_OK;
}

/* Collective: whether the non-blocking sums of the full chunks and of the
 * last one (shorter) are the blocking ones; 2 ranks need no probe (one
 * addition, commutative). */
static int probe_exact(grad_reducer *r)
{
    int rank, status = DSC_OK;
    MPI_Comm_rank(r->comm, &rank);
    r->exact[0] = r->exact[1] = 1;
    if (r->ranks > 2) {
        size_t full = chunk_size(r, 0), last = chunk_size(r, r->nchunks - 1);
        status = same_sums(r->comm, rank, full, &r->exact[0]);
        if (status == DSC_OK && last != full) status = same_sums(r->comm, rank, last, &r->exact[1]);
        else r->exact[1] = r->exact[0];
    }
    if (status != DSC_OK) r->exact[0] = r->exact[1] = 0;
    MPI_Allreduce(MPI_IN_PLACE, r->exact, 2, MPI_INT, MPI_MIN, r->comm);
    r->overlap = r->exact[0] || r->exact[1];
    return dsc_agree(r->comm, status);
}

int grad_reducer_create(grad_reducer *r, float *buf, size_t n, size_t chunk, int overlap, MPI_Comm comm)
{
    memset(r, 0, sizeof *r);
    r->comm = comm;
    r->buf = buf;
    r->n = n;
    r->chunk = chunk ? chunk : GRAD_REDUCER_CHUNK;
    if (r->chunk > (size_t)1 << 30) r->chunk = (size_t)1 << 30; /* counts are ints */
    r->nchunks = (int)((n + r->chunk - 1) / r->chunk);
    r->next = -1;
    MPI_Comm_size(comm, &r->ranks);
    int status = DSC_OK;
    if (r->nchunks > 0) {
        r->req = dsc_malloc((size_t)r->nchunks * sizeof(MPI_Request), "allreduce requests");
        if (!r->req) status = DSC_ERR;
        for (int c = 0; r->req && c < r->nchunks; c++) r->req[c] = MPI_REQUEST_NULL;
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) return status;
    int want = overlap && r->ranks > 1 && r->nchunks > 0;
    MPI_Allreduce(MPI_IN_PLACE, &want, 1, MPI_INT, MPI_MIN, comm); /* one path on every rank */
    return want ? probe_exact(r) : DSC_OK;
}

void grad_reducer_destroy(grad_reducer *r)
{
    grad_reducer_abandon(r);
    free(r->req);
    memset(r, 0, sizeof *r);
}

void grad_reducer_begin(grad_reducer *r, int hold)
{
    r->active = 1;
    r->hold = hold;
    r->next = r->nchunks - 1;
}

/* A chunk whose size the probe found other sums for is reduced at once,
 * blocking, in its place in the order. */
static int start_chunk(grad_reducer *r, int c)
{
    size_t off = (size_t)c * r->chunk;
    if (!r->exact[c == r->nchunks - 1]) {
        if (MPI_Allreduce(MPI_IN_PLACE, r->buf + off, (int)chunk_size(r, c), MPI_FLOAT, MPI_SUM, r->comm) != MPI_SUCCESS)
            return dsc_fail("model: MPI_Allreduce of the gradients failed");
        return DSC_OK;
    }
    if (MPI_Iallreduce(MPI_IN_PLACE, r->buf + off, (int)chunk_size(r, c), MPI_FLOAT, MPI_SUM, r->comm, &r->req[c]) !=
        MPI_SUCCESS)
        return dsc_fail("model: MPI_Iallreduce of the gradients failed");
    return DSC_OK;
}

int grad_reducer_final_from(grad_reducer *r, size_t offset)
{
    if (!r->active || !r->overlap || r->hold) return DSC_OK;
    while (r->next >= 0 && (size_t)r->next * r->chunk >= offset) {
        if (start_chunk(r, r->next) != DSC_OK) return DSC_ERR;
        r->next--;
        r->early++;
    }
    /* Open MPI moves a non-blocking collective on only inside MPI calls */
    int done, first = r->next + 1;
    if (first < r->nchunks) MPI_Testall(r->nchunks - first, r->req + first, &done, MPI_STATUSES_IGNORE);
    return DSC_OK;
}

/* The reduction as it was before the overlap: chunk by chunk, blocking. */
static int reduce_blocking(grad_reducer *r)
{
    for (int c = 0; c < r->nchunks; c++)
        if (MPI_Allreduce(MPI_IN_PLACE, r->buf + (size_t)c * r->chunk, (int)chunk_size(r, c), MPI_FLOAT, MPI_SUM,
                          r->comm) != MPI_SUCCESS)
            return dsc_fail("model: MPI_Allreduce of the gradients failed");
    return DSC_OK;
}

int grad_reducer_finish(grad_reducer *r)
{
    if (r->ranks < 2) return DSC_OK;
    if (!r->overlap) return reduce_blocking(r);
    if (!r->active) grad_reducer_begin(r, 1);
    int status = DSC_OK;
    for (; status == DSC_OK && r->next >= 0; r->next--) status = start_chunk(r, r->next);
    if (MPI_Waitall(r->nchunks, r->req, MPI_STATUSES_IGNORE) != MPI_SUCCESS && status == DSC_OK)
        status = dsc_fail("model: waiting for the gradient allreduce failed");
    r->active = 0;
    return status;
}

void grad_reducer_abandon(grad_reducer *r)
{
    if (r->req && r->nchunks > 0) MPI_Waitall(r->nchunks, r->req, MPI_STATUSES_IGNORE);
    r->active = 0;
    r->next = -1;
}
