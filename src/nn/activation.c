/*
 * activation.c - element-wise activations: tanh (every convolution of the
 * DSC model), sigmoid (the latent layer E, the LSTM gates), identity (the
 * decoder's dense layer) and ReLU (the hidden layers of DEC).  Backward uses the forward output.
 */
#include "layers.h"

#include <math.h>
#include <string.h>

#define PARALLEL_MIN 16384

/* GCC keeps a float compare-and-select as a branch when floating-point
 * exceptions are treated as observable (-ftrapping-math, the default), which
 * stops the vectoriser; nothing here reads the exception flags. */
#pragma GCC optimize("no-trapping-math")

/* tanh as the odd rational function of Eigen/TensorFlow's fast float tanh
 * (minimax, numerator degree 13, denominator 6), clamped where tanh rounds
 * to +-1.  Max relative error 4e-7 (3 ulp) against tanh in double over
 * [-12, 12] and down to 1e-30; branch-free, so the loops below vectorise,
 * where glibc's tanhf (one call per element) cost a third of a forward pass. */
static inline float tanh_fast(float x)
{
    const float c = 7.90531110763549805f; // tanh(c) = 1 in float
    const float xc = x > c ? c : x < -c ? -c : x; // a NaN stays NaN
    const float x2 = xc * xc;
    float p = -2.76076847742355e-16f;
    p = p * x2 + 2.00018790482477e-13f;
    p = p * x2 + -8.60467152213735e-11f;
    p = p * x2 + 5.12229709037114e-08f;
    p = p * x2 + 1.48572235717979e-05f;
    p = p * x2 + 6.37261928875436e-04f;
    p = p * x2 + 4.89352455891786e-03f;
    p = p * xc;
    float q = 1.19825839466702e-06f;
    q = q * x2 + 1.18534705686654e-04f;
    q = q * x2 + 2.26843463243900e-03f;
    q = q * x2 + 4.89352518554385e-03f;
    return p / q;
}

void activation_forward(float *out, const float *inp, size_t n, activation_kind a)
{
    const long nn = (long)n;
    switch (a) {
    case ACTIVATION_TANH:
#pragma omp parallel for simd schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) out[k] = tanh_fast(inp[k]);
        break;
    case ACTIVATION_SIGMOID:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) out[k] = 1.0f / (1.0f + expf(-inp[k]));
        break;
    case ACTIVATION_RELU:
#pragma omp parallel for simd schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) out[k] = inp[k] < 0.0f ? 0.0f : inp[k]; // a NaN stays NaN
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
#pragma omp parallel for simd schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) dinp[k] += dout[k] * (1.0f - out[k] * out[k]);
        break;
    case ACTIVATION_SIGMOID:
#pragma omp parallel for schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) dinp[k] += dout[k] * out[k] * (1.0f - out[k]);
        break;
    case ACTIVATION_RELU:
#pragma omp parallel for simd schedule(static) if (nn > PARALLEL_MIN)
        for (long k = 0; k < nn; k++) dinp[k] += out[k] > 0.0f ? dout[k] : 0.0f;
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
    if (strcmp(name, "relu") == 0) return ACTIVATION_RELU;
    return -1;
}

const char *activation_name(activation_kind a)
{
    switch (a) {
    case ACTIVATION_TANH: return "tanh";
    case ACTIVATION_SIGMOID: return "sigmoid";
    case ACTIVATION_RELU: return "relu";
    case ACTIVATION_IDENTITY: return "identity";
    }
    return "unknown";
}

/* Leaky ReLU, out = x for x > 0, alpha x otherwise (DTC's LeakyReLU after
 * the convolution and each BiLSTM; Keras' default alpha 0.3).  Backward
 * from the output: for alpha > 0, out > 0 exactly when x > 0; the slope at
 * 0 is alpha, as TensorFlow's. */
void leaky_relu_forward(float *out, const float *inp, size_t n, float alpha)
{
    const long nn = (long)n;
#pragma omp parallel for simd schedule(static) if (nn > PARALLEL_MIN)
    for (long k = 0; k < nn; k++) out[k] = inp[k] > 0.0f ? inp[k] : alpha * inp[k];
}

void leaky_relu_backward(float *dinp, const float *dout, const float *out, size_t n, float alpha)
{
    const long nn = (long)n;
#pragma omp parallel for simd schedule(static) if (nn > PARALLEL_MIN)
    for (long k = 0; k < nn; k++) dinp[k] += out[k] > 0.0f ? dout[k] : alpha * dout[k];
}
