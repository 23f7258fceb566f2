/*
 * model_params.h - the parameter table every variant builds its network on
 * (private to src/nn): named tensors in one flat buffer, the binding of a
 * layer's pointers into it, Keras' initialisers and the allocation of
 * zeroed buffers.  Tensor order = order in the buffer = order of
 * initialisation, so a variant's layout fixes its random draws.
 */
#ifndef DSC_MODEL_PARAMS_H
#define DSC_MODEL_PARAMS_H

#include "model.h"

/* Appends a tensor to m's table (m->nparams grows by its size); returns its index. */
int model_add_tensor(model *m, const char *name, int ndim, int d0, int d1, int d2, int d3);
/* A dense layer's "PREFIX.weight" (OUT, IN) and "PREFIX.bias" (OUT). */
void model_layout_dense(model *m, model_dense *d, const char *prefix, int in, int out);
/* "cluster.centroids" (K, L) when cfg.clusters > 0, else m->tcentroids = -1. */
void model_layout_centroids(model *m);

/* Points a layer (and the centroids) at their parameters and gradients;
 * after m->params and m->grads are allocated. */
void model_bind_dense(model *m, model_dense *d);
void model_bind_centroids(model *m);
float *model_param(model *m, int t); /* m->params + offset of tensor t */
float *model_grad(model *m, int t);  /* m->grads + offset of tensor t */

/* Keras' glorot-uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)). */
void model_glorot_uniform(rng_state *r, float *w, size_t n, double fan_in, double fan_out);
/* Keras' Orthogonal for a (rows, cols) recurrent kernel; DSC_ERR when out of memory. */
int model_orthogonal(rng_state *r, float *w, int rows, int cols);
/* Keras Dense default: glorot-uniform weight (fans IN, OUT), zero bias. */
void model_init_dense(rng_state *r, model_dense *d);

/* The checks DSC and DEC share: known activation codes, V and S >= 1. */
int model_check_shared(const model_config *c);

/* *p = n zeroed floats (at least one); DSC_ERR with a message naming what. */
int model_alloc_floats(float **p, size_t n, const char *what);
/* The buffers every variant sizes for itself: the two activation-gradient
 * buffers (dmax floats each) and the layer workspace (scratch floats); sets
 * m->dbuf_floats and m->scratch_floats.  DSC_ERR: out of memory (model_create
 * frees what was allocated). */
int model_alloc_work(struct model *m, size_t dmax, size_t scratch);
static inline size_t model_max_size(size_t a, size_t b) { return a > b ? a : b; }

#endif
