/*
 * mse_loss.c - mean squared error of the reconstruction, the L_rec term of
 * the DSC loss (paper eq. 7): mean over all B*C*H*W elements, as the
 * published code's Keras 'mse' averaged over the batch.  Eq. 7 writes the
 * squared norm per sample, (1/T) sum_i |V_i - V^_i|^2, which is C*H*W times
 * larger; the published code (and so this program) uses the mean, which
 * sets the balance between reconstruction and clustering loss.
 */
#include "layers.h"

float mse_loss(float *dyhat, const float *yhat, const float *y, size_t n)
{
    if (n == 0) return 0.0f;
    const long nn = (long)n;
    const float scale = 2.0f / (float)n;
    double sum = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : sum) if (nn > 16384)
    for (long k = 0; k < nn; k++) {
        const float e = yhat[k] - y[k];
        sum += (double)e * e;
        if (dyhat) dyhat[k] = scale * e;
    }
    return (float)(sum / (double)n);
}
