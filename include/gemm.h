/*
 * gemm.h - the sgemm of the network layers: row-major C = alpha op(A) op(B)
 * + beta C, threaded with OpenMP.
 *
 * OpenBLAS (pthread build) keeps its own thread pool; when both pools are
 * active, OpenMP's spinning workers and OpenBLAS's threads compete for the
 * cores between the GEMMs and the element-wise loops (several times slower
 * on 2 cores).  So the layers run every GEMM on OpenMP's threads: the
 * product is split into column (or row) blocks, one per thread, and each
 * block is one single-threaded cblas_sgemm.  layer_gemm runs the BLAS on one
 * thread for the call and restores its thread count after (blas_env.h).
 */
#ifndef DSC_GEMM_H
#define DSC_GEMM_H

#include "blas_env.h"

void layer_gemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                const float *A, int lda, // (M, K), or (K, M) when ta = CblasTrans
                const float *B, int ldb, // (K, N), or (N, K) when tb = CblasTrans
                float beta, float *C, int ldc); // (M, N)

#endif
