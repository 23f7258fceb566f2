/*
 * checkpoint.h - save and restore a trained or training model.
 *
 * File layout (version 3; all numbers little-endian, floats IEEE 754):
 *   "DSCCKPT\0"                       magic (8 bytes)
 *   u32 version, u32 byte-order mark 0x01020304, u64 total file size
 *   architecture: u32 count (21), then count x i32 (variant, V, H, W, S, K,
 *                 activation, latent activation, C1..C5, H1, H2, L,
 *                 clusters, P (DTC pooling), D1..D3) and
 *                 f32 dropout, f32 recurrent dropout
 *   tensor table: u32 ntensors, each: u32 name length, name bytes,
 *                 u32 ndim, ndim x u32 shape, u64 offset, u64 size
 *   u64 nparams, nparams x f32 parameters
 *   optimizer:   u32 kind (0 sgd, 1 adam, 0xffffffff none), 7 x f32 config
 *                (lr, momentum, beta1, beta2, epsilon, weight decay, clip
 *                norm), i64 step, u32 nstate, nstate x nparams x f32
 *   random state: 4 x u64 model dropout generator, u32 has caller rng,
 *                 4 x u64 caller generator
 *   counters:    i64 iteration, i64 epoch
 *   blob:        u64 bytes, bytes (normalisation statistics, opaque here;
 *                dsc train writes a preprocess.h record, which from its
 *                version 3 also names the model's inputs: variables, units
 *                and grid coordinates, model_inputs.h)
 *   state:       u64 bytes, bytes (training state, opaque here; version 2)
 *   u64 FNV-1a 64 checksum of every byte before it
 * Versions 1 and 2 are read too: version 1 has no state section, and both
 * have 18 architecture fields (no D1..D3, the dense widths of variant dec,
 * which version 3 added; they read as 0).  Architecture field 16 is the
 * number of clusters of the clustering layer (0 in models without one);
 * field 17, once reserved and always 0, is the pooling size P of the DTC
 * variant (model_dtc.h), so older files still load unchanged.
 * Rank 0 writes to "PATH.tmp.PID" and renames it to PATH, so a crash never
 * leaves a half-written checkpoint under the final name.  Rank 0 reads and
 * checks the file and broadcasts its contents.
 */
#ifndef DSC_CHECKPOINT_H
#define DSC_CHECKPOINT_H

#include <mpi.h>
#include <stddef.h>

#include "model.h"
#include "optimizer.h"
#include "rng.h"

#define CHECKPOINT_VERSION 3

typedef struct {
    long iteration;         /* optimizer steps / batches done */
    long epoch;             /* passes over the data (or target-distribution updates) */
    int has_rng;            /* rng below is meaningful */
    rng_state rng;          /* the caller's generator (batch order, ...) */
    void *blob;             /* normalisation statistics: caller's bytes */
    size_t blob_bytes;
    void *state;            /* training state (target distribution, ...): caller's bytes */
    size_t state_bytes;
} checkpoint_extra;

/* Collective over comm: rank 0 writes the model, the optimizer state (opt
 * may be NULL: an inference-only checkpoint) and extra (may be NULL). */
int checkpoint_save(MPI_Comm comm, const char *path, const model *m, const optimizer *opt,
                    const checkpoint_extra *extra);

/* Collective: reads the architecture (and the optimizer settings saved with
 * it, if ocfg is not NULL; *has_opt tells whether there were any) so the
 * caller can create a matching model before checkpoint_load. */
int checkpoint_read_config(MPI_Comm comm, const char *path, model_config *cfg, optimizer_config *ocfg, int *has_opt);

/* Collective: restores parameters, dropout generator, and -- when opt is not
 * NULL -- the optimizer moments and step (its settings stay the caller's).
 * The model must have been created with the saved architecture; an
 * optimizer of another kind than the saved one is an error.  If extra is
 * not NULL it receives the counters, the caller's rng and malloc'ed copies
 * of the blob and the state (free(extra->blob), free(extra->state)).  Rejects a truncated file, a bad
 * checksum, a wrong magic, version or architecture with one message naming
 * the file. */
int checkpoint_load(MPI_Comm comm, const char *path, model *m, optimizer *opt, checkpoint_extra *extra);

/* Collective: only extra (counters, caller's rng, blob and state; free
 * extra->blob and extra->state), without a model: the file is checked as by
 * checkpoint_load, its tensors and optimizer state are passed over. */
int checkpoint_read_extra(MPI_Comm comm, const char *path, checkpoint_extra *extra);

#endif
