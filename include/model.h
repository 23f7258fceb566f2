/*
 * model.h - the CNN-LSTM autoencoder of DSC (paper section 4, Fig. 2) and
 * its ablations (paper Table 3), assembled from the layers of layers.h.
 *
 * Dimension letters (see also layers.h):
 *   B  samples in the batch         S  time steps per sample
 *   V  variables (input channels)   H, W  grid height, width (multiples of 16; dec: any)
 *   F  features of one frame after the encoder, C5 * H/16 * W/16
 *   L  latent size (m of the paper)
 *
 * The network (defaults = the authors' model, REFERENCE.md):
 *   encoder, on each of the B*S frames (V, H, W):
 *     conv C1 -> conv C2 -> pool -> conv C3 -> pool -> conv C4 -> pool
 *     -> conv C5 -> pool -> flatten (F)          every conv 3x3 'same' + tanh
 *   with LSTMs: LSTM H1 over the S frames (returns the sequence) -> LSTM H2
 *     (last state) -> dense L + sigmoid = the latent E;
 *   without LSTMs: the S flattened frames side by side (S*F) -> dense L +
 *     sigmoid.
 *   decoder (autoencoder variants): dense (L -> F, linear) -> reshape
 *     (C5, H/16, W/16) -> [upsample x2 -> conv C5] -> [up -> conv C4]
 *     -> [up -> conv C3] -> [up -> conv C2] -> conv V, all tanh.
 * The decoder reconstructs the LAST frame of each sample: the latent
 * summarises the window ending at that frame, so the clustering labels the
 * last time step.  With S = 1 (the authors' published setting) this is
 * exactly their model.  Loss = MSE(reconstruction, last input frame).
 *
 * Variant dec (MODEL_DEC, src/nn/model_dec.c) is the DEC baseline instead: a
 * dense autoencoder d -> D1 -> D2 -> D3 -> L -> D3 -> D2 -> D1 -> d (ReLU
 * hidden layers, linear embedding and output) on the flattened frame of the
 * REAL grid (d = V*H*W, no padding: model_pads_grid), S = 1, in the same
 * flat buffer.  Variant dtc (MODEL_DTC, model_dtc.h) is the DTC baseline.
 * Each variant is one table of operations (src/nn/model_impl.h) that every
 * function below dispatches to: the CNN-LSTM in src/nn/model_dsc.c.
 *
 * Memory: all parameters live in ONE flat buffer described by a table of
 * named tensors (name, shape, offset); gradients use the same layout (so one
 * MPI_Allreduce covers every gradient and one write saves the model).
 * Activations are allocated once in model_create for a maximum batch size;
 * model_forward / model_backward allocate nothing.
 */
#ifndef DSC_MODEL_H
#define DSC_MODEL_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "layers.h"
#include "rng.h"

#define MODEL_NCONV 5       /* encoder convolutions; pooling after the 2nd..5th */
#define MODEL_NLSTM 2
#define MODEL_NDEC 4        /* decoder blocks upsample -> conv */
/* LSTM dropout masks per gate.  The authors' Keras LSTMs set recurrent
 * dropout, and tf.keras then runs LSTMCell implementation 1: one input and
 * one recurrent mask per gate (i, f, g, o), fixed over the time steps. */
#define MODEL_MASK_GATES 4
#define MODEL_NDENSE 3      /* DEC: hidden layers of the dense encoder (and decoder) */
#define MODEL_MAX_TENSORS 48
#define MODEL_NAME_LEN 32

/* Paper Table 3. */
typedef enum {
    MODEL_CNN_ENCODER = 0,          /* conv encoder -> dense latent; no decoder */
    MODEL_CNN_AUTOENCODER = 1,      /* conv encoder -> dense latent -> decoder */
    MODEL_CNN_LSTM_ENCODER = 2,     /* conv encoder -> LSTMs -> dense latent; no decoder */
    MODEL_CNN_LSTM_AUTOENCODER = 3, /* DSC */
    MODEL_DEC = 4,                  /* DEC baseline (paper Table 2): dense autoencoder, model_dec.c */
    MODEL_DTC = 5                   /* DTC baseline, model_dtc.h */
} model_variant;

typedef struct model_config { /* tagged, as model */
    model_variant variant;
    int vars, height, width, steps;  /* V, H, W, S of one sample */
    int conv[MODEL_NCONV];           /* encoder widths C1..C5 (64 64 128 256 512) */
    int lstm[MODEL_NLSTM];           /* H1, H2 (512 512) */
    int latent;                      /* L (256) */
    int kernel;                      /* K (3) */
    activation_kind activation;      /* of every convolution (tanh) */
    activation_kind latent_activation; /* of the latent dense layer (sigmoid) */
    float dropout;                   /* LSTM input dropout while training (0.1) */
    float recurrent_dropout;         /* LSTM recurrent dropout while training (0.1) */
    int clusters;                    /* K centroids of the clustering layer (0: none) */
    int pool;                        /* DTC: max-pooling size P (10); 0 for the other variants */
    int dense[MODEL_NDENSE];         /* DEC: hidden widths D1..D3 (500 500 2000); 0 in other variants */
} model_config;

typedef struct {
    char name[MODEL_NAME_LEN];  /* "enc.conv1.weight" */
    int ndim;
    int shape[4];
    size_t offset;              /* floats from the start of the flat buffer */
    size_t size;                /* floats */
} model_tensor;

typedef struct {
    int ic, oc, h, w;                /* per frame: input (IC, H, W), output (OC, H, W) */
    int tw, tb;                      /* tensor table indices */
    float *weight, *dweight;         /* (OC, IC, K, K) */
    float *bias, *dbias;             /* (OC) */
} model_conv;

typedef struct {
    int in, hid;
    int tw_ih, tw_hh, tb;
    float *weight_ih, *dweight_ih;   /* (4*HID, IN), gate blocks i, f, g, o */
    float *weight_hh, *dweight_hh;   /* (4*HID, HID) */
    float *bias, *dbias;             /* (4*HID) */
} model_lstm;

typedef struct {
    int in, out;
    int tw, tb;
    float *weight, *dweight;         /* (OUT, IN) */
    float *bias, *dbias;             /* (OUT) */
} model_dense;

struct model_ops;
struct grad_reducer;

typedef struct model { /* tagged: src/nn/model_impl.h names it without this header */
    model_config cfg;
    int max_batch;
    const struct model_ops *ops;     /* the variant's network (src/nn/model_impl.h) */
    int has_lstm, has_decoder;
    struct model_dtc_net *dtc;       /* DTC's layers and activations (model_dtc.c), NULL otherwise */
    int features;                    /* F */

    /* parameters, gradients: one flat buffer each, same layout */
    int ntensors;
    model_tensor tensors[MODEL_MAX_TENSORS];
    size_t nparams;
    float *params;                   /* (nparams) */
    float *grads;                    /* (nparams) */

    /* the CNN-LSTM's layers (model_dsc.c; unused by dec and dtc) */
    model_conv enc[MODEL_NCONV];
    model_lstm lstm[MODEL_NLSTM];
    model_dense to_latent;
    model_dense dec_dense;
    model_conv dec[MODEL_NDEC];
    model_conv dec_out;
    /* clustering layer (clusters > 0): the centroid matrix is a tensor of
     * the flat buffer, so the gradient allreduce carries its gradient and
     * every replica holds the identical matrix */
    int tcentroids;                  /* tensor index, -1 without clustering layer */
    float *centroids, *dcentroids;   /* (K, L) */

    /* activations, sized for max_batch; Bf = B*S frames */
    int batch;                       /* B of the last forward */
    int training;                    /* dropout used in the last forward */
    const float *input;              /* (B, S, V, H, W) caller's input of the last forward */
    float *enc_act[MODEL_NCONV];     /* (Bf, Ci, Hi, Wi) conv output after activation */
    float *pool_out[MODEL_NCONV];    /* (Bf, Ci, Hi/2, Wi/2) for i >= 1 */
    int *pool_arg[MODEL_NCONV];      /* (Bf, Ci, Hi/2, Wi/2) arg-max for backward */
    float *lstm_out[MODEL_NLSTM];    /* (B, S, H1) and (B, H2) */
    float *lstm_state[MODEL_NLSTM];  /* lstm_state_floats() */
    float *mask_x[MODEL_NLSTM];      /* (4, B, IN) dropout masks per gate, NULL when dropout is 0 */
    float *mask_h[MODEL_NLSTM];      /* (4, B, HID) recurrent dropout masks, NULL when 0 */
    float *latent;                   /* (B, L) the latent E after the activation */
    float *dec_in;                   /* (B, C5, H/16, W/16) decoder dense output */
    float *dec_up[MODEL_NDEC];       /* (B, Cin_j, 2h, 2w) upsampled */
    float *dec_act[MODEL_NDEC];      /* (B, Cout_j, 2h, 2w) conv output after activation */
    float *recon;                    /* (B, V, H, W) reconstruction of the last frame */
    float *target;                   /* (B, V, H, W) last frames (own copy only when S > 1) */
    float loss;                      /* MSE of the last forward */
    float *dbuf[2];                  /* (dbuf_floats) ping-pong activation gradients */
    size_t dbuf_floats;
    float *scratch;                  /* (scratch_floats) shared layer workspace */
    size_t scratch_floats;
    rng_state dropout_rng;           /* draws the dropout masks; seeded by model_init */
    /* keyed dropout (model_set_dropout_keys): the masks of a sample depend
     * only on (seed, step, its global index), not on the batch it is in */
    const long long *dropout_ids;    /* (B) global sample indices, NULL: use dropout_rng */
    uint64_t dropout_seed, dropout_step;
    struct model_dec_net *dec_net;   /* DEC only (model_dec.c): dense layers and their activations */
    /* the gradient allreduce overlapped with the backward (grad_reducer.h),
     * made by the first model_reduce_begin; NULL before */
    struct grad_reducer *reducer;
} model;

/* The authors' model: DSC variant, 64 64 128 256 512, LSTM 512 512, latent
 * 256, 48 x 48 x 7, S = 1, dropout 0.1 / 0.1. */
model_config model_config_default(void);
/* Checks sizes (H, W multiples of 16, positive widths, ...); DSC_ERR with a
 * message naming the bad setting. */
int model_config_check(const model_config *cfg);
/* The defaults of variant cfg->variant over model_config_default(): DEC's
 * widths, latent and activations (model_config_dec), DTC's filters,
 * kernel, pool and BiLSTM sizes (model_dtc_config_defaults); nothing for
 * the CNN-LSTM variants. */
void model_config_preset(model_config *cfg);
/* DEC as in Xie et al. (2016): hidden widths 500 500 2000, latent 10, ReLU
 * hidden layers, linear embedding; vars/height/width as in the default. */
model_config model_config_dec(void);
/* 1 when the network takes the grid zero-padded to multiples of 16 (the
 * convolutional variants, preprocess.h), 0 when it takes the real grid
 * (DEC: a dense layer gains nothing from zero cells). */
int model_pads_grid(const model_config *cfg);
/* "cnn-encoder", "cnn-autoencoder", "cnn-lstm-encoder", "cnn-lstm-autoencoder"
 * (alias "dsc"), "dec" (model_dec.h), "dtc" (model_dtc.h). */
int model_variant_parse(const char *s, model_variant *v);
const char *model_variant_name(model_variant v);
/* Writes "V=7 H=48 ..." describing the architecture (for messages). */
void model_config_format(const model_config *cfg, char *buf, size_t len);

/* Allocates parameters (zero), gradients (zero) and activations for up to
 * max_batch samples.  On failure everything is freed and DSC_ERR returned. */
int model_create(model *m, const model_config *cfg, int max_batch);
void model_destroy(model *m);

/* Keras default initialisation from rng_seed(seed, 0), identical on every
 * rank for the same seed: glorot-uniform kernels, orthogonal recurrent
 * kernels, zero biases with LSTM forget-gate bias 1.  Seeds the dropout
 * generator with (seed, 1); reseed m->dropout_rng per rank if wanted.
 * Returns DSC_ERR only when out of memory. */
int model_init(model *m, uint64_t seed);

/* Index of a tensor by name, -1 if absent. */
int model_tensor_find(const model *m, const char *name);
float *model_tensor_data(model *m, float *buffer, int index); /* buffer + offset */

/* Forward pass over 1 <= B <= max_batch samples x (B, S, V, H, W), which is
 * kept by pointer until model_backward.  training = 1 draws dropout masks.
 * Sets m->latent (B, L), and for autoencoders m->recon (B, V, H, W) and
 * m->loss = MSE(recon, last frames) (0 without decoder).  Allocates nothing.
 * DSC_ERR only for a batch size out of range. */
int model_forward(model *m, const float *x, int B, int training);

/* Encoder only, inference (no dropout): m->latent (B, L) from x, for the
 * clustering (k-means initialisation, target distribution updates). */
int model_encode(model *m, const float *x, int B);

/* Back-propagation of  dloss * MSE + <dlatent, E>  for the last forward
 * (paper eq. 7 when dloss = 1 and dlatent = dKL/dE): ACCUMULATES into
 * m->grads (call model_zero_grad first).  dloss scales the reconstruction
 * term (ignored without decoder); dlatent (B, L) is an extra gradient on the
 * latent E from the clustering layer, or NULL.  Allocates nothing.
 * After model_encode it back-propagates without dropout. */
int model_backward(model *m, float dloss, const float *dlatent);

void model_zero_grad(model *m);

/* Forward FLOPs of B samples from the layer shapes (2*M*N*K per GEMM-like
 * product, as dsc bench counts); *first gets the first layer's share (its
 * backward needs no input gradient, so a training step is 3 * forward -
 * first), *encode (unless NULL) the encoder's (model_encode). */
double model_flops(const model *m, int B, double *first, double *encode);

/* Draw the dropout masks of the next training forwards per sample from a
 * generator keyed by (seed, step, ids[b]) instead of m->dropout_rng, so a
 * sample's masks do not depend on which rank or batch position it has.  ids
 * (B) is kept by pointer; NULL returns to m->dropout_rng. */
void model_set_dropout_keys(model *m, uint64_t seed, uint64_t step, const long long *ids);

/* Collective: SUMS m->grads over the ranks of comm (MPI_Allreduce in 4 MB
 * chunks; after model_reduce_begin, the chunks the backward started and the
 * rest).
 * Data-parallel callers scale each rank's loss by its share of the global
 * batch (local samples / global samples), so the sum is the gradient of the
 * mean over the global batch whatever the split. */
int model_allreduce_gradients(model *m, MPI_Comm comm);

/* Collective (the first call probes MPI, grad_reducer.h): the reduction of
 * this step's gradients over comm starts during the next model_backward,
 * each 4 MB chunk of m->grads as soon as the backward has written all of
 * it, and model_allreduce_gradients(m, comm) completes it with the same
 * bits as without.  Whatever the caller adds to the gradients must be in
 * place before model_backward (the centroids' clustering gradient), or the
 * call made with hold = 1 (then nothing starts before
 * model_allreduce_gradients).  Environment: DSC_OVERLAP=0 reduces only
 * after the backward, as before; DSC_OVERLAP_CHUNK=N cuts the buffer into
 * chunks of N floats instead (for tests).  DSC_ERR (agreed): out of memory. */
int model_reduce_begin(model *m, MPI_Comm comm, int hold);
/* After a failed step: waits for the chunks in flight and starts no more. */
void model_reduce_abandon(model *m);

#endif
