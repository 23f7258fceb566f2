/*
 * dense.c - fully connected layer, out = inp W^T + b, W (OUT, IN) as in
 * PyTorch Linear.  The latent layer E (Dense 256, sigmoid) and the first
 * decoder layer (Dense 4608) of the DSC model.
 */
#include "gemm.h"
#include "layers.h"

#include <stddef.h>

void dense_forward(float *out, const float *inp, const float *weight, const float *bias,
                   const dense_dims *d)
{
    const int B = d->B, IN = d->IN, OUT = d->OUT;
    layer_gemm(CblasNoTrans, CblasTrans, B, OUT, IN, 1.0f, inp, IN, weight, IN, 0.0f,
                out, OUT);
    if (bias) {
#pragma omp parallel for schedule(static) if ((size_t)B * OUT > 4096)
        for (int b = 0; b < B; b++)
            for (int o = 0; o < OUT; o++) out[(size_t)b * OUT + o] += bias[o];
    }
}

void dense_backward(float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                    const float *weight, const dense_dims *d)
{
    const int B = d->B, IN = d->IN, OUT = d->OUT;
    // dweight (OUT, IN) += dout^T (OUT, B) x inp (B, IN)
    layer_gemm(CblasTrans, CblasNoTrans, OUT, IN, B, 1.0f, dout, OUT, inp, IN, 1.0f,
                dweight, IN);
    // dinp (B, IN) += dout (B, OUT) x weight (OUT, IN)
    if (dinp)
        layer_gemm(CblasNoTrans, CblasNoTrans, B, IN, OUT, 1.0f, dout, OUT, weight, IN,
                    1.0f, dinp, IN);
    if (dbias)
        for (int b = 0; b < B; b++)
            for (int o = 0; o < OUT; o++) dbias[o] += dout[(size_t)b * OUT + o];
}
