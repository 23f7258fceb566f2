/*
 * blas_env.h - the BLAS dsc runs on: which library and kernels, whether the
 * kernels match the CPU, and how many threads it uses.
 *
 * Any CBLAS works (OpenBLAS, BLIS, MKL, Cray LibSci; chosen at configure
 * time with BLAS_CFLAGS / BLAS_LIBS, see doc/blas.md).  The OpenBLAS-only
 * calls (openblas_get_corename, openblas_set_num_threads) are detected by
 * configure and used only when present.
 *
 * Kernels: OpenBLAS picks its kernels ("core") from the CPU at start-up;
 * an OpenBLAS older than the CPU falls back to generic SSE kernels (3-4x
 * slower sgemm) without a word.  blas_core_verdict compares the core with
 * the CPU's best vector instructions and names the OPENBLAS_CORETYPE that
 * fixes it; blas_check_warn_core (blas_check.h) prints that as one warning.
 *
 * Threads: this module alone changes the BLAS (and, for dsc bench, the
 * OpenMP) thread count; every change is undone by blas_threads_restore.
 * The kernels run their matrix products inside OpenMP loops, with the BLAS
 * on one thread (see gemm.h).
 */
#ifndef DSC_BLAS_ENV_H
#define DSC_BLAS_ENV_H

#include "config.h"

#include <stddef.h>

#ifdef HAVE_MKL_CBLAS_H
#include <mkl_cblas.h>
#else
#include <cblas.h>
#endif

/* Vector instruction sets, weakest first. */
typedef enum { ISA_UNKNOWN = -1, ISA_SSE = 0, ISA_AVX = 1, ISA_AVX2 = 2, ISA_AVX512 = 3 } blas_isa;

typedef enum { CPU_VENDOR_OTHER = 0, CPU_VENDOR_INTEL, CPU_VENDOR_AMD } cpu_vendor;

/* What cpuid says, usable by this operating system (XSAVE state enabled). */
typedef struct {
    cpu_vendor vendor;
    int avx, avx2, fma, avx512f;
} cpu_features;

/* Outcome of comparing the BLAS core with the CPU. */
typedef struct {
    int weaker;           /* 1: the core uses weaker instructions than the CPU has */
    blas_isa core_isa;    /* instructions of the core's kernels (ISA_UNKNOWN for a name not known) */
    blas_isa cpu_isa;     /* best instructions of the CPU */
    const char *coretype; /* OPENBLAS_CORETYPE for this CPU: SKYLAKEX, HASWELL, ZEN, SANDYBRIDGE or PRESCOTT */
} blas_verdict;

/* Pure: instruction set of an OpenBLAS core name (any case, as
 * openblas_get_corename gives it: "Prescott", "Haswell", "SKYLAKEX", ...). */
blas_isa blas_core_isa(const char *corename);
/* Pure: the CPU's best instruction set. */
blas_isa cpu_best_isa(const cpu_features *cpu);
/* Pure: core against CPU.  corename NULL (not OpenBLAS) or unknown: never
 * weaker. */
blas_verdict blas_core_verdict(const char *corename, const cpu_features *cpu);
/* "SSE", "AVX", "AVX2", "AVX-512" or "unknown". */
const char *blas_isa_name(blas_isa isa);

/* This CPU (cpuid and xgetbv on x86-64; all zero elsewhere). */
void cpu_features_detect(cpu_features *cpu);
/* The OpenBLAS core in use, or NULL when the BLAS is not OpenBLAS. */
const char *blas_core_name(void);
/* The BLAS library: "OpenBLAS 0.3.21 ..." from the library, else what
 * configure linked (BLAS_LIBS). */
const char *blas_library_name(void);

/* ---- threads ------------------------------------------------------------- */

/* What a change of thread counts replaced (-1: nothing changed). */
typedef struct {
    int blas, omp;
} blas_threads_saved;

/* The BLAS on one thread, for products inside OpenMP threads (no change when
 * it already is, or inside a parallel region, where the caller owns it). */
blas_threads_saved blas_threads_single(void);
/* OpenMP and the BLAS on n threads each (dsc bench --threads); n <= 0: only
 * the BLAS, on as many threads as OpenMP has. */
blas_threads_saved blas_threads_use(int n);
/* Undoes blas_threads_single / blas_threads_use. */
void blas_threads_restore(blas_threads_saved saved);
/* Threads the BLAS uses now (1 when it cannot tell). */
int blas_threads_get(void);

#endif
