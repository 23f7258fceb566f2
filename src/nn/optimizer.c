/*
 * optimizer.c - SGD with momentum and Adam with Keras semantics over one
 * flat parameter buffer (llm.c style: one loop, OpenMP over the floats).
 */
#include "optimizer.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

optimizer_config optimizer_defaults(optimizer_kind kind)
{
    optimizer_config c = {0};
    c.kind = kind;
    if (kind == OPTIMIZER_SGD) {
        c.learning_rate = 1e-7f; /* the authors' notebook */
        c.momentum = 0.9f;
    } else {
        c.learning_rate = 1e-3f;
    }
    c.beta1 = 0.9f;
    c.beta2 = 0.999f;
    c.epsilon = 1e-7f;
    return c;
}

int optimizer_nstate(const optimizer *opt) { return opt->cfg.kind == OPTIMIZER_ADAM ? 2 : 1; }

int optimizer_create(optimizer *opt, const optimizer_config *cfg, size_t n)
{
    memset(opt, 0, sizeof *opt);
    opt->cfg = *cfg;
    opt->n = n;
    opt->m = dsc_calloc(n ? n : 1, sizeof(float), "optimizer first moment");
    if (!opt->m) return DSC_ERR;
    if (cfg->kind == OPTIMIZER_ADAM) {
        opt->v = dsc_calloc(n ? n : 1, sizeof(float), "optimizer second moment");
        if (!opt->v) {
            optimizer_destroy(opt);
            return DSC_ERR;
        }
    }
    return DSC_OK;
}

void optimizer_destroy(optimizer *opt)
{
    free(opt->m);
    free(opt->v);
    opt->m = opt->v = NULL;
}

void optimizer_step(optimizer *opt, float *params, const float *grads)
{
    const optimizer_config *c = &opt->cfg;
    const long n = (long)opt->n;
    const float wd = c->weight_decay;

    opt->step++;
    float *m = opt->m, *v = opt->v;
    if (c->kind == OPTIMIZER_SGD && !(c->clip_norm > 0)) {
        /* No clipping: the norm (reported only) is summed in the same pass
         * as the update, one sweep over the n floats instead of two. */
        const float lr = c->learning_rate, mu = c->momentum;
        double sumsq = 0.0;
#pragma omp parallel for reduction(+ : sumsq) schedule(static)
        for (long i = 0; i < n; i++) {
            float g = grads[i] + wd * params[i];
            sumsq += (double)g * g;
            m[i] = mu * m[i] - lr * g;
            params[i] += m[i];
        }
        opt->last_norm = sqrt(sumsq);
        return;
    }

    /* Global norm of the (decayed) gradient over every tensor at once. */
    double sumsq = 0.0;
#pragma omp parallel for reduction(+ : sumsq) schedule(static)
    for (long i = 0; i < n; i++) {
        float g = grads[i] + wd * params[i];
        sumsq += (double)g * g;
    }
    opt->last_norm = sqrt(sumsq);
    float scale = 1.0f;
    if (c->clip_norm > 0 && opt->last_norm > c->clip_norm) scale = (float)(c->clip_norm / opt->last_norm);

    if (c->kind == OPTIMIZER_SGD) {
        const float lr = c->learning_rate, mu = c->momentum;
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            float g = (grads[i] + wd * params[i]) * scale;
            m[i] = mu * m[i] - lr * g;
            params[i] += m[i];
        }
    } else {
        const float b1 = c->beta1, b2 = c->beta2, eps = c->epsilon;
        /* Keras folds both bias corrections into the step size and adds eps
         * to sqrt(v) uncorrected ("epsilon hat" of Kingma and Ba, sec. 2). */
        const double t = (double)opt->step;
        const float lr_t = (float)(c->learning_rate * sqrt(1.0 - pow(b2, t)) / (1.0 - pow(b1, t)));
#pragma omp parallel for schedule(static)
        for (long i = 0; i < n; i++) {
            float g = (grads[i] + wd * params[i]) * scale;
            m[i] = b1 * m[i] + (1.0f - b1) * g;
            v[i] = b2 * v[i] + (1.0f - b2) * g * g;
            params[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
        }
    }
}

int optimizer_kind_parse(const char *s, optimizer_kind *kind)
{
    if (!strcmp(s, "sgd")) *kind = OPTIMIZER_SGD;
    else if (!strcmp(s, "adam")) *kind = OPTIMIZER_ADAM;
    else return dsc_fail("--optimizer: unknown optimizer '%s'; use sgd or adam", s);
    return DSC_OK;
}

const char *optimizer_kind_name(optimizer_kind kind) { return kind == OPTIMIZER_ADAM ? "adam" : "sgd"; }
