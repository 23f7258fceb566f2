/*
 * grad_reducer.h - the gradient allreduce overlapped with the backward pass
 * (the bucketed design of PyTorch's DistributedDataParallel): the flat
 * gradient buffer is cut into fixed chunks, the same cut as the blocking
 * reduction, and each chunk gets an in-place MPI_Iallreduce (sum, float) as
 * soon as the backward has written all of it.
 *
 * The backward walks the buffer from its end to its start, so the chunks
 * start from the last to the first, in that fixed order on every rank
 * whenever each rank reaches them (a rank with no samples starts them all
 * at the end); MPI matches non-blocking collectives by order alone.
 *
 * The sums are the blocking ones bit for bit: with 2 ranks each element is
 * one addition, the same either way round; with more ranks the order of
 * the additions is the algorithm's, so grad_reducer_create compares the
 * two calls on random data of each chunk size (the full chunks, the last)
 * and uses the non-blocking one only where every bit agreed (Open MPI picks
 * its algorithm from the count, the type and the ranks, never from the
 * data); a chunk of the other size is reduced blocking when it is final.
 */
#ifndef DSC_GRAD_REDUCER_H
#define DSC_GRAD_REDUCER_H

#include <mpi.h>
#include <stddef.h>

/* Floats per chunk: 4 MB (see model_allreduce_gradients). */
#define GRAD_REDUCER_CHUNK ((size_t)1 << 20)

typedef struct grad_reducer { /* tagged: model.h names it without this header */
    MPI_Comm comm;
    int ranks;
    float *buf;            /* (n) the gradients, reduced in place */
    size_t n, chunk;       /* floats in all, per chunk */
    int nchunks;
    int overlap;           /* 1: chunks start during the backward; 0: all blocking at the end */
    int exact[2];          /* MPI_Iallreduce sums as MPI_Allreduce: [0] full chunks, [1] the last */
    MPI_Request *req;      /* (nchunks) */
    int active;            /* between grad_reducer_begin and grad_reducer_finish */
    int hold;              /* this step: start nothing before grad_reducer_finish */
    int next;              /* the next chunk to start (they start from the last); -1: all started */
    long early;            /* chunks started before grad_reducer_finish, over all steps */
} grad_reducer;

/* Collective on comm: the chunks of buf (n floats, chunk floats each, 0 for
 * GRAD_REDUCER_CHUNK).  overlap = 0 reduces only with blocking calls; with
 * 1 the ranks agree on whether the non-blocking sums are the blocking ones
 * (see above).  DSC_ERR (agreed) when out of memory. */
int grad_reducer_create(grad_reducer *r, float *buf, size_t n, size_t chunk, int overlap, MPI_Comm comm);
void grad_reducer_destroy(grad_reducer *r); /* waits for chunks still in flight */

/* A new step, before the backward writes any gradient.  hold = 1: this
 * rank changes the gradients after the backward, start nothing early. */
void grad_reducer_begin(grad_reducer *r, int hold);
/* The gradients from offset to the end of the buffer are final: starts the
 * chunks that lie wholly there and lets the ones in flight progress. */
int grad_reducer_final_from(grad_reducer *r, size_t offset);
/* Collective: starts the chunks not yet started and waits for all (or,
 * without overlap, reduces chunk by chunk); the buffer then holds the sums. */
int grad_reducer_finish(grad_reducer *r);
/* Waits for the chunks in flight and starts no more (a step that failed). */
void grad_reducer_abandon(grad_reducer *r);

#endif
