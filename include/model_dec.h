/*
 * model_dec.h - the DEC network (variant MODEL_DEC of model.h): the
 * interface between model.c, which dispatches to it, and model_dec.c.
 * Callers use model.h only (the tests look at the activations).
 */
#ifndef DSC_MODEL_DEC_H
#define DSC_MODEL_DEC_H

#include "model.h"

struct model_dec_net {
    model_dense enc[MODEL_NDENSE + 1]; /* d -> D1 -> D2 -> D3 -> L */
    model_dense dec[MODEL_NDENSE + 1]; /* L -> D3 -> D2 -> D1 -> d */
    float *enc_act[MODEL_NDENSE];      /* (B, D1), (B, D2), (B, D3) after the activation */
    float *dec_act[MODEL_NDENSE];      /* (B, D3), (B, D2), (B, D1) after the activation */
    int decoded;                       /* the last forward ran the decoder */
};

/* The DEC part of model_config_check (vars, grid, widths, S = 1). */
int model_dec_config_check(const model_config *cfg);
/* After model_create has set m->cfg and m->max_batch: the tensor table,
 * parameters, gradients and activations.  DSC_ERR leaves the caller to call
 * model_destroy. */
int model_dec_create(model *m);
void model_dec_destroy(model *m);
/* glorot-uniform weights, zero biases, drawn from r in table order. */
void model_dec_init(model *m, rng_state *r);
/* Encoder (decode = 0) or the whole autoencoder with m->loss (decode = 1). */
void model_dec_forward(model *m, const float *x, int B, int decode);
int model_dec_backward(model *m, float dloss, const float *dlatent);

/* model.c: appends a tensor to the parameter table, returns its index;
 * a dense layer's "PREFIX.weight" (OUT, IN) and "PREFIX.bias" (OUT). */
int model_add_tensor(model *m, const char *name, int ndim, int d0, int d1, int d2, int d3);
void model_layout_dense(model *m, model_dense *d, const char *prefix, int in, int out);

#endif
