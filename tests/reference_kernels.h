/*
 * reference_kernels.h - slow, obviously correct twins of the fast kernels,
 * linked into the test programs only (tests/reference_kernels.c).
 */
#ifndef DSC_REFERENCE_KERNELS_H
#define DSC_REFERENCE_KERNELS_H

#include "layers.h"

/* Direct loops, no scratch; the semantics of conv2d_forward/backward
 * (backward accumulates). */
void conv2d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const conv2d_dims *d);
void conv2d_backward_reference(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const conv2d_dims *d);

/* Direct loops, no scratch; the semantics of conv1d_forward/backward (DTC). */
void conv1d_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                              const conv1d_dims *d);
void conv1d_backward_reference(float *dinp, float *dweight, float *dbias, const float *dout,
                               const float *inp, const float *weight, const conv1d_dims *d);

void dense_forward_reference(float *out, const float *inp, const float *weight, const float *bias,
                             const dense_dims *d);
void dense_backward_reference(float *dinp, float *dweight, float *dbias, const float *dout,
                              const float *inp, const float *weight, const dense_dims *d);

/* Direct loops, keeping the state in the layout of lstm_forward; the
 * backward allocates its small temporaries and returns DSC_ERR when out of
 * memory. */
void lstm_forward_reference(float *out, float *state, const float *inp, const float *weight_ih,
                            const float *weight_hh, const float *bias, const float *mask_x,
                            const float *mask_h, const lstm_dims *d);
int lstm_backward_reference(float *dinp, float *dweight_ih, float *dweight_hh, float *dbias,
                            const float *dout, const float *inp, const float *weight_ih,
                            const float *weight_hh, const float *mask_x, const float *mask_h,
                            const float *state, const lstm_dims *d);

/* Euclidean (out) and cosine (cosine, may be NULL) distances of every row
 * pair of two tiles, computed like the pairwise pass does (centred GEMM,
 * direct differences for near points).  a: (NA, D), b: (NB, D), mean: (D)
 * the centre; out, cosine: (NA, NB). */
int pairwise_distance_tile(double *out, double *cosine, const float *a, long long na, const float *b, long long nb, int d,
                           const double *mean);

#endif
