/*
 * activation.c - element-wise activations: tanh (every convolution of the
 * DSC model), sigmoid (the latent layer E, the LSTM gates) and identity (the
 * decoder's dense layer).  Backward uses the forward output.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

#define PARALLEL_MIN 16384

void activation_forward(float *out, const float *inp, size_t n, activation_kind a)
{
    const long nn = (long)n;
    switch (a) {
    case ACTIVATION_TANH:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) out[k] = tanhf(inp[k]);
        break;
    case ACTIVATION_SIGMOID:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) out[k] = 1.0f / (1.0f + expf(-inp[k]));
        break;
    case ACTIVATION_IDENTITY:
    default:
        if (out != inp) memmove(out, inp, sizeof(float) * n);
        break;
    }
}

void activation_backward(float *dinp, const float *dout, const float *out, size_t n, activation_kind a)
{
    const long nn = (long)n;
    switch (a) {
    case ACTIVATION_TANH:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) dinp[k] += dout[k] * (1.0f - out[k] * out[k]);
        break;
    case ACTIVATION_SIGMOID:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) dinp[k] += dout[k] * out[k] * (1.0f - out[k]);
        break;
    case ACTIVATION_IDENTITY:
    default:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) dinp[k] += dout[k];
        break;
    }
}

int activation_parse(const char *name)
{
    if (strcmp(name, "identity") == 0 || strcmp(name, "linear") == 0) return ACTIVATION_IDENTITY;
    if (strcmp(name, "tanh") == 0) return ACTIVATION_TANH;
    if (strcmp(name, "sigmoid") == 0) return ACTIVATION_SIGMOID;
    return -1;
}

const char *activation_name(activation_kind a)
{
    switch (a) {
    case ACTIVATION_TANH: return "tanh";
    case ACTIVATION_SIGMOID: return "sigmoid";
    case ACTIVATION_IDENTITY: return "identity";
    }
    return "unknown";
}
