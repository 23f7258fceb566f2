/*
 * optimizer.h - parameter updates over the model's flat buffers.
 *
 * The parameters, their gradients and the optimizer moments share one flat
 * layout (see model.h), so an update is one loop over n floats.  Semantics
 * follow Keras so results are comparable with the authors' code:
 *   SGD with momentum:  v = momentum * v - lr * g;  w += v
 *                       (the authors: lr 1e-7, momentum 0.9)
 *   Adam:               m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *                       w -= lr sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)
 *                       (Keras defaults b1 0.9, b2 0.999, eps 1e-7)
 * Before the update, weight decay adds weight_decay * w to the gradient (an
 * L2 penalty weight_decay / 2 |w|^2 in the loss) and, when clip_norm > 0,
 * the gradient is scaled so its global norm over all n floats is at most
 * clip_norm.
 */
#ifndef DSC_OPTIMIZER_H
#define DSC_OPTIMIZER_H

#include <stddef.h>

typedef enum { OPTIMIZER_SGD = 0, OPTIMIZER_ADAM = 1 } optimizer_kind;

typedef struct {
    optimizer_kind kind;
    float learning_rate;
    float momentum;     /* SGD only; 0 = plain SGD */
    float beta1, beta2; /* Adam only */
    float epsilon;      /* Adam only */
    float weight_decay; /* L2 coefficient added to the gradient; 0 = none */
    float clip_norm;    /* global gradient norm limit; 0 = no clipping */
} optimizer_config;

typedef struct {
    optimizer_config cfg;
    size_t n;          /* number of parameters */
    long step;         /* updates done so far (Adam's t) */
    float *m;          /* (n) SGD velocity or Adam first moment */
    float *v;          /* (n) Adam second moment; NULL for SGD */
    double last_norm;  /* global gradient norm of the last step (before clipping) */
} optimizer;

/* Defaults: the authors' SGD (lr 1e-7, momentum 0.9) or Keras' Adam
 * (lr 1e-3, 0.9, 0.999, 1e-7). */
optimizer_config optimizer_defaults(optimizer_kind kind);
/* Allocates zeroed state for n parameters. */
int optimizer_create(optimizer *opt, const optimizer_config *cfg, size_t n);
void optimizer_destroy(optimizer *opt);
/* Number of state buffers of n floats (1 for SGD, 2 for Adam). */
int optimizer_nstate(const optimizer *opt);
/* One update of params (n) from grads (n); grads is left unchanged.
 * Allocates nothing. */
void optimizer_step(optimizer *opt, float *params, const float *grads);
/* Parses "sgd" / "adam"; returns DSC_OK or DSC_ERR (message recorded). */
int optimizer_kind_parse(const char *s, optimizer_kind *kind);
const char *optimizer_kind_name(optimizer_kind kind);

#endif
