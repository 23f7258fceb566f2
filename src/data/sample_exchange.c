/*
 * sample_exchange.c - fetch rows of a matrix distributed in contiguous
 * blocks from their owners (see sample_exchange.h).
 */
#include "sample_exchange.h"
#include "partition.h"
#include "status.h"

#include <stdlib.h>
#include <string.h>

int sample_owner(long long T, int P, long long g)
{
    long long base = T / P, extra = T % P;
    if (g < extra * (base + 1)) return (int)(g / (base + 1));
    return (int)(extra + (g - extra * (base + 1)) / base);
}

/* First time step of every segment but the first, ascending (the table of
 * the last sample_set_segments); none: the record is one segment. */
static long long *segment_starts;
static long long nsegment_starts;

int sample_set_segments(const long long *starts, long long n)
{
    free(segment_starts);
    segment_starts = NULL;
    nsegment_starts = 0;
    if (n <= 0) return DSC_OK;
    segment_starts = dsc_malloc((size_t)n * sizeof(long long), "record segments");
    if (!segment_starts) return DSC_ERR;
    memcpy(segment_starts, starts, (size_t)n * sizeof(long long));
    nsegment_starts = n;
    return DSC_OK;
}

long long sample_segment_count(void) { return nsegment_starts + 1; }

void sample_segment_starts(long long *starts)
{
    starts[0] = 0;
    if (nsegment_starts > 0) memcpy(starts + 1, segment_starts, (size_t)nsegment_starts * sizeof(long long));
}

long long sample_segment_start(long long g)
{
    long long lo = 0, hi = nsegment_starts; /* lo: the number of starts <= g */
    while (lo < hi) {
        const long long mid = lo + (hi - lo) / 2;
        if (segment_starts[mid] <= g) lo = mid + 1;
        else hi = mid;
    }
    return lo > 0 ? segment_starts[lo - 1] : 0;
}

void sample_window(long long g, int S, long long *frames)
{
    const long long first = S > 1 ? sample_segment_start(g) : 0;
    for (int s = 0; s < S; s++) {
        long long f = g - (S - 1) + s;
        frames[s] = f < first ? first : f;
    }
}

int sample_fetch(MPI_Comm comm, const float *x, long long T, size_t F, const long long *want, long long n_want, float *out)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    int *scount = dsc_calloc((size_t)4 * P, sizeof(int), "sample exchange counts");
    long long *order = dsc_malloc((size_t)(n_want + 1) * sizeof(long long), "sample exchange order");
    long long *sidx = dsc_malloc((size_t)(n_want + 1) * sizeof(long long), "sample exchange indices");
    int status = scount && order && sidx ? DSC_OK : DSC_ERR;
    if (status == DSC_OK)
        for (long long i = 0; i < n_want; i++)
            if (want[i] < 0 || want[i] >= T) status = dsc_fail("sample exchange: row %lld outside [0, %lld)", want[i], T);
    if (dsc_agree(comm, status) != DSC_OK) {
        free(scount);
        free(order);
        free(sidx);
        return DSC_ERR;
    }
    int *sdispl = scount + P, *rcount = scount + 2 * P, *rdispl = scount + 3 * P;
    /* requests grouped by owner, in the order of want within an owner */
    for (long long i = 0; i < n_want; i++) scount[sample_owner(T, P, want[i])]++;
    for (int q = 0, off = 0; q < P; q++) {
        sdispl[q] = off;
        off += scount[q];
    }
    {
        int *fill = rdispl; /* temporary cursor per owner */
        memcpy(fill, sdispl, (size_t)P * sizeof(int));
        for (long long i = 0; i < n_want; i++) {
            int q = sample_owner(T, P, want[i]);
            order[fill[q]] = i;
            sidx[fill[q]++] = want[i];
        }
    }
    MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, comm);
    long long nrecv = 0;
    for (int q = 0; q < P; q++) {
        rdispl[q] = (int)nrecv;
        nrecv += rcount[q];
    }
    long long *ridx = dsc_malloc((size_t)(nrecv + 1) * sizeof(long long), "sample exchange requests");
    float *rows = dsc_malloc(((size_t)nrecv * F + 1) * sizeof(float), "sample exchange rows");
    float *got = dsc_malloc(((size_t)n_want * F + 1) * sizeof(float), "sample exchange rows");
    status = ridx && rows && got ? DSC_OK : DSC_ERR;
    if (dsc_agree(comm, status) == DSC_OK) {
        MPI_Alltoallv(sidx, scount, sdispl, MPI_LONG_LONG, ridx, rcount, rdispl, MPI_LONG_LONG, comm);
        for (long long i = 0; i < nrecv; i++) memcpy(rows + (size_t)i * F, x + (size_t)(ridx[i] - t0) * F, F * sizeof(float));
        MPI_Datatype row;
        MPI_Type_contiguous((int)F, MPI_FLOAT, &row);
        MPI_Type_commit(&row);
        /* the rows go back the way the requests came */
        MPI_Alltoallv(rows, rcount, rdispl, row, got, scount, sdispl, row, comm);
        MPI_Type_free(&row);
        for (long long j = 0; j < n_want; j++) memcpy(out + (size_t)order[j] * F, got + (size_t)j * F, F * sizeof(float));
    } else {
        status = DSC_ERR;
    }
    free(ridx);
    free(rows);
    free(got);
    free(scount);
    free(order);
    free(sidx);
    return status;
}
