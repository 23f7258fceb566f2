/*
 * model_params.c - the parameter table shared by the variants
 * (model_params.h): tensors, binding, Keras' initialisers, allocation.
 */
#include "model_params.h"
#include "status.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the tensor table --------------------------------------------------------- */

int model_add_tensor(model *m, const char *name, int ndim, int d0, int d1, int d2, int d3)
{
    model_tensor *t = &m->tensors[m->ntensors];
    size_t len = strlen(name); /* names are short, see the variants' layouts */
    if (len >= sizeof t->name) len = sizeof t->name - 1;
    memcpy(t->name, name, len);
    t->name[len] = '\0';
    t->ndim = ndim;
    int dims[4] = {d0, d1, d2, d3};
    t->size = 1;
    for (int i = 0; i < 4; i++) {
        t->shape[i] = i < ndim ? dims[i] : 0;
        if (i < ndim) t->size *= (size_t)dims[i];
    }
    t->offset = m->nparams;
    m->nparams += t->size;
    return m->ntensors++;
}

void model_layout_dense(model *m, model_dense *d, const char *prefix, int in, int out)
{
    char name[2 * MODEL_NAME_LEN];
    d->in = in;
    d->out = out;
    snprintf(name, sizeof name, "%s.weight", prefix);
    d->tw = model_add_tensor(m, name, 2, out, in, 0, 0);
    snprintf(name, sizeof name, "%s.bias", prefix);
    d->tb = model_add_tensor(m, name, 1, out, 0, 0, 0);
}

void model_layout_centroids(model *m)
{
    const model_config *c = &m->cfg;
    m->tcentroids = c->clusters > 0 ? model_add_tensor(m, "cluster.centroids", 2, c->clusters, c->latent, 0, 0) : -1;
}

int model_tensor_find(const model *m, const char *name)
{
    for (int i = 0; i < m->ntensors; i++)
        if (!strcmp(m->tensors[i].name, name)) return i;
    return -1;
}

float *model_tensor_data(model *m, float *buffer, int index) { return buffer + m->tensors[index].offset; }

/* ---- binding ---------------------------------------------------------------------- */

float *model_param(model *m, int t) { return m->params + m->tensors[t].offset; }
float *model_grad(model *m, int t) { return m->grads + m->tensors[t].offset; }

void model_bind_dense(model *m, model_dense *d)
{
    d->weight = model_param(m, d->tw);
    d->dweight = model_grad(m, d->tw);
    d->bias = model_param(m, d->tb);
    d->dbias = model_grad(m, d->tb);
}

void model_bind_centroids(model *m)
{
    if (m->tcentroids < 0) return;
    m->centroids = model_param(m, m->tcentroids);
    m->dcentroids = model_grad(m, m->tcentroids);
}

/* ---- Keras default initialisation ------------------------------------------------- */

void model_glorot_uniform(rng_state *r, float *w, size_t n, double fan_in, double fan_out)
{
    float a = (float)sqrt(6.0 / (fan_in + fan_out));
    rng_fill_uniform(r, w, n, -a, a);
}

/* Keras Orthogonal for the recurrent kernel (HID, 4*HID): a gaussian matrix
 * of the transposed shape (4*HID, HID) -- exactly our (4*HID, HID)
 * weight_hh -- is QR-factorised and Q (columns orthonormal) is kept with the
 * signs of diag(R) folded in.  Modified Gram-Schmidt in double yields R with
 * a positive diagonal, which is that sign convention.  The columns are
 * worked on as contiguous rows of a transposed copy q (cols, rows). */
int model_orthogonal(rng_state *r, float *w, int rows, int cols)
{
    double *q = dsc_malloc((size_t)rows * cols * sizeof(double), "orthogonal initialisation");
    if (!q) return DSC_ERR;
    for (int i = 0; i < rows; i++) /* draw in the row-major order of w */
        for (int j = 0; j < cols; j++) q[(size_t)j * rows + i] = rng_normal(r);
    for (int j = 0; j < cols; j++) {
        double *qj = q + (size_t)j * rows;
        for (int k = 0; k < j; k++) {
            const double *qk = q + (size_t)k * rows;
            double dot = 0;
            for (int i = 0; i < rows; i++) dot += qk[i] * qj[i];
            for (int i = 0; i < rows; i++) qj[i] -= dot * qk[i];
        }
        double norm = 0;
        for (int i = 0; i < rows; i++) norm += qj[i] * qj[i];
        norm = sqrt(norm);
        for (int i = 0; i < rows; i++) qj[i] /= norm;
    }
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) w[(size_t)i * cols + j] = (float)q[(size_t)j * rows + i];
    free(q);
    return DSC_OK;
}

void model_init_dense(rng_state *r, model_dense *d)
{
    model_glorot_uniform(r, d->weight, (size_t)d->out * d->in, d->in, d->out);
    memset(d->bias, 0, (size_t)d->out * sizeof(float));
}

/* ---- checks and allocation ----------------------------------------------------------------------- */

int model_alloc_floats(float **p, size_t n, const char *what)
{
    *p = dsc_calloc(n ? n : 1, sizeof(float), what);
    return *p ? DSC_OK : DSC_ERR;
}

int model_check_shared(const model_config *c)
{
    if ((unsigned)c->activation > ACTIVATION_RELU || (unsigned)c->latent_activation > ACTIVATION_RELU)
        return dsc_fail("model: unknown activation codes %d / %d (known: 0 identity, 1 tanh, 2 sigmoid, 3 relu)",
                        (int)c->activation, (int)c->latent_activation);
    if (c->vars < 1 || c->steps < 1) return dsc_fail("model: %d variables and %d time steps; both must be >= 1", c->vars, c->steps);
    return DSC_OK;
}

int model_alloc_work(struct model *m, size_t dmax, size_t scratch)
{
    m->dbuf_floats = dmax;
    m->scratch_floats = scratch;
    int ok = model_alloc_floats(&m->dbuf[0], dmax, "activation gradients") == DSC_OK &&
             model_alloc_floats(&m->dbuf[1], dmax, "activation gradients") == DSC_OK &&
             model_alloc_floats(&m->scratch, scratch, "layer workspace") == DSC_OK;
    return ok ? DSC_OK : DSC_ERR;
}
