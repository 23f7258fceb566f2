/*
 * model.c - the model of model.h: configuration, the variants' presets, and
 * every call dispatched to the variant's network through m->ops
 * (model_impl.h); the buffers every variant shares and the gradient
 * allreduce.  The networks are model_dsc.c, model_dec.c and model_dtc.c.
 */
#include "model.h"
#include "grad_reducer.h"
#include "model_impl.h"
#include "status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the variants -------------------------------------------------------- */

static const char *variant_names[] = {"cnn-encoder", "cnn-autoencoder", "cnn-lstm-encoder", "cnn-lstm-autoencoder",
                                      "dec", "dtc"};
/* indexed by model_variant, as the names */
static const model_ops *const variant_ops[] = {&model_dsc_ops, &model_dsc_ops, &model_dsc_ops, &model_dsc_ops,
                                               &model_dec_ops, &model_dtc_ops};
#define NVARIANTS ((int)(sizeof variant_names / sizeof variant_names[0]))
_Static_assert(sizeof variant_ops / sizeof variant_ops[0] == sizeof variant_names / sizeof variant_names[0],
               "one ops table per variant name");

/* NULL for a code no variant has (a corrupt or future checkpoint). */
static const model_ops *ops_of(model_variant v)
{
    return (unsigned)v < (unsigned)NVARIANTS ? variant_ops[v] : NULL;
}

/* ---- configuration ------------------------------------------------------ */

model_config model_config_default(void)
{
    model_config c;
    memset(&c, 0, sizeof c);
    c.variant = MODEL_CNN_LSTM_AUTOENCODER;
    c.vars = 7;
    c.height = 48;
    c.width = 48;
    c.steps = 1;
    const int conv[MODEL_NCONV] = {64, 64, 128, 256, 512};
    memcpy(c.conv, conv, sizeof conv);
    c.lstm[0] = 512;
    c.lstm[1] = 512;
    c.latent = 256;
    c.kernel = 3;
    c.activation = ACTIVATION_TANH;
    c.latent_activation = ACTIVATION_SIGMOID;
    c.dropout = 0.1f;
    c.recurrent_dropout = 0.1f;
    return c;
}

void model_config_preset(model_config *c)
{
    const model_ops *ops = ops_of(c->variant);
    if (ops && ops->preset) ops->preset(c);
}

model_config model_config_dec(void)
{
    model_config c = model_config_default();
    c.variant = MODEL_DEC;
    model_config_preset(&c);
    return c;
}

int model_variant_parse(const char *s, model_variant *v)
{
    for (int i = 0; i < NVARIANTS; i++)
        if (!strcmp(s, variant_names[i])) {
            *v = (model_variant)i;
            return DSC_OK;
        }
    if (!strcmp(s, "dsc")) {
        *v = MODEL_CNN_LSTM_AUTOENCODER;
        return DSC_OK;
    }
    return dsc_fail("--model: unknown variant '%s'; use cnn-encoder, cnn-autoencoder, cnn-lstm-encoder, "
                    "cnn-lstm-autoencoder (dsc), dec or dtc", s);
}

const char *model_variant_name(model_variant v)
{
    return (unsigned)v < (unsigned)NVARIANTS ? variant_names[v] : "unknown";
}

int model_pads_grid(const model_config *c)
{
    const model_ops *ops = ops_of(c->variant);
    return ops ? ops->pads_grid : 1;
}

/* An unknown variant is described as the CNN-LSTM (named "unknown"). */
void model_config_format(const model_config *c, char *buf, size_t len)
{
    const model_ops *ops = ops_of(c->variant);
    (ops ? ops : &model_dsc_ops)->format(c, model_variant_name(c->variant), buf, len);
}

int model_config_check(const model_config *c)
{
    const model_ops *ops = ops_of(c->variant);
    if (!ops) return dsc_fail("model: unknown variant %d", (int)c->variant);
    return ops->check(c);
}

/* ---- create / destroy / init --------------------------------------------- */

int model_create(model *m, const model_config *cfg, int max_batch)
{
    memset(m, 0, sizeof *m);
    if (model_config_check(cfg) != DSC_OK) return DSC_ERR;
    if (max_batch < 1) return dsc_fail("model: batch size %d must be >= 1", max_batch);
    m->cfg = *cfg;
    m->max_batch = max_batch;
    m->ops = ops_of(cfg->variant);
    if (m->ops->create(m) == DSC_OK) return DSC_OK;
    model_destroy(m);
    return DSC_ERR;
}

void model_destroy(model *m)
{
    if (m->reducer) grad_reducer_destroy(m->reducer);
    free(m->reducer);
    if (m->ops) m->ops->destroy(m);
    free(m->params);
    free(m->grads);
    free(m->latent);
    free(m->recon);
    free(m->dbuf[0]);
    free(m->dbuf[1]);
    free(m->scratch);
    memset(m, 0, sizeof *m);
}

int model_init(model *m, uint64_t seed)
{
    rng_state r;
    rng_seed(&r, seed, 0);
    if (m->ops->init(m, &r) != DSC_OK) return DSC_ERR;
    rng_seed(&m->dropout_rng, seed, 1);
    return DSC_OK;
}

/* ---- forward / backward ----------------------------------------------------- */

void model_set_dropout_keys(model *m, uint64_t seed, uint64_t step, const long long *ids)
{
    m->dropout_ids = ids;
    m->dropout_seed = seed;
    m->dropout_step = step;
}

static int check_batch(const model *m, int B)
{
    if (B < 1 || B > m->max_batch)
        return dsc_fail("model: batch of %d samples, the model was created for 1 to %d; use a smaller batch", B,
                        m->max_batch);
    return DSC_OK;
}

int model_encode(model *m, const float *x, int B)
{
    if (check_batch(m, B) != DSC_OK) return DSC_ERR;
    m->ops->encode(m, x, B);
    return DSC_OK;
}

int model_forward(model *m, const float *x, int B, int training)
{
    if (check_batch(m, B) != DSC_OK) return DSC_ERR;
    m->ops->forward(m, x, B, training);
    return DSC_OK;
}

int model_backward(model *m, float dloss, const float *dlatent)
{
    if (!m->input) return dsc_fail("model: backward without a forward pass");
    return m->ops->backward(m, dloss, dlatent);
}

double model_flops(const model *m, int B, double *first, double *encode)
{
    return m->ops->flops(m, B, first, encode);
}

void model_zero_grad(model *m) { memset(m->grads, 0, m->nparams * sizeof(float)); }

int model_allreduce_gradients(model *m, MPI_Comm comm)
{
    int size;
    MPI_Comm_size(comm, &size);
    if (size == 1) return DSC_OK;
    if (m->reducer) return grad_reducer_finish(m->reducer);
    /* In chunks of 4 MB: Open MPI 4.1's shared-memory allreduce of the whole
     * 78 MB buffer of the paper's network took 310-400 ms on 2 ranks of one
     * node, twenty 4 MB pieces 30-33 ms (bench/allreduce.c, doc/scaling.md).
     * Chunks also keep every count within an int.  Each element is summed
     * over the same ranks either way. */
    const size_t chunk = GRAD_REDUCER_CHUNK;
    for (size_t off = 0; off < m->nparams; off += chunk) {
        size_t n = m->nparams - off < chunk ? m->nparams - off : chunk;
        if (MPI_Allreduce(MPI_IN_PLACE, m->grads + off, (int)n, MPI_FLOAT, MPI_SUM, comm) != MPI_SUCCESS)
            return dsc_fail("model: MPI_Allreduce of the gradients failed");
    }
    return DSC_OK;
}

/* ---- the allreduce overlapped with the backward (grad_reducer.h) ------------ */

static int env_overlap(size_t *chunk)
{
    const char *o = getenv("DSC_OVERLAP"), *c = getenv("DSC_OVERLAP_CHUNK");
    *chunk = c ? (size_t)strtoull(c, NULL, 10) : 0;
    return !(o && !strcmp(o, "0"));
}

int model_reduce_begin(model *m, MPI_Comm comm, int hold)
{
    if (!m->reducer) {
        size_t chunk;
        int overlap = env_overlap(&chunk);
        m->reducer = dsc_calloc(1, sizeof *m->reducer, "gradient allreduce");
        int status = dsc_agree(comm, m->reducer ? DSC_OK : DSC_ERR);
        if (status == DSC_OK) status = grad_reducer_create(m->reducer, m->grads, m->nparams, chunk, overlap, comm);
        if (status != DSC_OK) {
            if (m->reducer) grad_reducer_destroy(m->reducer);
            free(m->reducer);
            m->reducer = NULL;
            return DSC_ERR;
        }
    }
    grad_reducer_begin(m->reducer, hold);
    return DSC_OK;
}

void model_reduce_abandon(model *m)
{
    if (m->reducer) grad_reducer_abandon(m->reducer);
}

void model_grads_final(model *m, size_t offset)
{
    if (m->reducer) grad_reducer_final_from(m->reducer, offset);
}
