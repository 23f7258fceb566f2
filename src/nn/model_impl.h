/*
 * model_impl.h - how a network plugs into model.h (private to src/nn): each
 * variant fills one const model_ops, and model.c dispatches every call on
 * m->ops, as a PnetCDF driver or a PETSc implementation does.
 *
 * The variant's file holds its whole network: the checks and defaults of
 * the model_config fields it reads, the layout of its tensors in the flat
 * buffer (model_params.h), its activations, forward, backward and its FLOP
 * count.  model.c holds what is common: the variant names, the batch
 * check, freeing the buffers every variant allocates (parameters,
 * gradients, latent, reconstruction, gradient buffers, workspace) and the
 * gradient allreduce.
 *
 * To add a variant: a value of model_variant (model.h) and its name in
 * model.c, a file src/nn/model_NAME.c defining `const model_ops
 * model_NAME_ops`, its line in the table of model.c and in Makefile.am.
 */
#ifndef DSC_MODEL_IMPL_H
#define DSC_MODEL_IMPL_H

#include <stddef.h>

#include "rng.h"

/* model.h's types by their tags, so that model.c, which implements
 * model.h, includes this header without a circle back to it */
struct model;
struct model_config;

typedef struct model_ops {
    /* 1: the input is the grid zero-padded to multiples of 16 (model_pads_grid) */
    int pads_grid;
    /* the variant's own defaults over model_config_default() (NULL: none) */
    void (*preset)(struct model_config *c);
    /* the checks of model_config_check for this variant; DSC_ERR with a message */
    int (*check)(const struct model_config *c);
    /* model_config_format; name = model_variant_name(c->variant) */
    void (*format)(const struct model_config *c, const char *name, char *buf, size_t len);
    /* m->cfg, m->max_batch and m->ops set, the rest zero: the tensor table,
     * parameters, gradients and activations.  DSC_ERR leaves the caller to
     * call model_destroy. */
    int (*create)(struct model *m);
    /* frees what create allocated beyond the common buffers (model.c frees
     * params, grads, latent, recon, dbuf and scratch); safe on a partial create */
    void (*destroy)(struct model *m);
    /* draws every parameter from r in table order (model_init seeds r and,
     * after, the dropout generator); DSC_ERR only when out of memory */
    int (*init)(struct model *m, rng_state *r);
    /* model_encode and model_forward after the batch check */
    void (*encode)(struct model *m, const float *x, int B);
    void (*forward)(struct model *m, const float *x, int B, int training);
    /* model_backward after the check that a forward ran */
    int (*backward)(struct model *m, float dloss, const float *dlatent);
    /* model_flops */
    double (*flops)(const struct model *m, int B, double *first, double *encode);
} model_ops;

/* For a variant's backward: the gradients from offset to the end of
 * m->grads are final (no layer adds to them any more), so their chunks of
 * the gradient allreduce may start (model_reduce_begin).  A variant that
 * never calls it has its whole buffer reduced after its backward. */
void model_grads_final(struct model *m, size_t offset);

extern const model_ops model_dsc_ops; /* model_dsc.c: the CNN-LSTM and its ablations */
extern const model_ops model_dec_ops; /* model_dec.c */
extern const model_ops model_dtc_ops; /* model_dtc.c */

#endif
