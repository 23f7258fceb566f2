/*
 * test_blas_env.c - the BLAS core verdict on a table of (core name, CPU)
 * cases, and the thread policy: every change of the BLAS and OpenMP thread
 * counts is undone.
 *
 *   ./tests/test_blas_env
 */
#include "blas_env.h"
#include "gemm.h"
#include "kmeans.h"
#include "metrics.h"
#include "status.h"
#include "tap.h"

#include <omp.h>
#include <string.h>

typedef struct {
    const char *core;
    cpu_features cpu;
    int weaker;
    const char *coretype; /* the fix named (checked when weaker) */
} verdict_case;

#define INTEL CPU_VENDOR_INTEL
#define AMD CPU_VENDOR_AMD
#define OTHER CPU_VENDOR_OTHER
/* flags: vendor, avx, avx2, fma, avx512f */
#define AVX512_CPU(v) {v, 1, 1, 1, 1}
#define AVX2_CPU(v) {v, 1, 1, 1, 0}
#define AVX_CPU(v) {v, 1, 0, 0, 0}
#define SSE_CPU(v) {v, 0, 0, 0, 0}

static const verdict_case cases[] = {
    /* Debian's OpenBLAS 0.3.21 on a Xeon it does not know */
    {"Prescott", AVX512_CPU(INTEL), 1, "SKYLAKEX"},
    {"Haswell", AVX512_CPU(INTEL), 1, "SKYLAKEX"},
    {"SkylakeX", AVX512_CPU(INTEL), 0, NULL},
    {"Cooperlake", AVX512_CPU(INTEL), 0, NULL},
    {"SapphireRapids", AVX512_CPU(INTEL), 0, NULL},
    {"SKYLAKEX", AVX512_CPU(INTEL), 0, NULL}, /* fixed-target builds name the core in capitals */
    {"PRESCOTT", AVX512_CPU(INTEL), 1, "SKYLAKEX"},
    /* AMD with AVX-512 (Zen 4 and later): the AVX-512 kernels */
    {"Zen", AVX512_CPU(AMD), 1, "SKYLAKEX"},
    {"Haswell", AVX512_CPU(AMD), 1, "SKYLAKEX"},
    {"SkylakeX", AVX512_CPU(AMD), 0, NULL},
    /* AVX2 machines: Haswell kernels on Intel, Zen kernels on AMD */
    {"Haswell", AVX2_CPU(INTEL), 0, NULL},
    {"Zen", AVX2_CPU(AMD), 0, NULL},
    {"Haswell", AVX2_CPU(AMD), 0, NULL},
    {"Nehalem", AVX2_CPU(INTEL), 1, "HASWELL"},
    {"Sandybridge", AVX2_CPU(INTEL), 1, "HASWELL"},
    {"Prescott", AVX2_CPU(AMD), 1, "ZEN"},
    {"Barcelona", AVX2_CPU(AMD), 1, "ZEN"},
    {"Core2", AVX2_CPU(OTHER), 1, "HASWELL"},
    /* AVX without AVX2 */
    {"Sandybridge", AVX_CPU(INTEL), 0, NULL},
    {"Penryn", AVX_CPU(INTEL), 1, "SANDYBRIDGE"},
    {"Piledriver", AVX_CPU(AMD), 0, NULL},
    /* SSE only: nothing weaker exists */
    {"Prescott", SSE_CPU(INTEL), 0, NULL},
    {"Generic", SSE_CPU(OTHER), 0, NULL},
    /* not OpenBLAS, or a core this table does not know: no verdict */
    {NULL, AVX512_CPU(INTEL), 0, NULL},
    {"NeoverseN1", AVX512_CPU(OTHER), 0, NULL},
    {"", AVX2_CPU(INTEL), 0, NULL},
};

static void check_verdicts(void)
{
    const int n = (int)(sizeof cases / sizeof cases[0]);
    int ok = 1;
    for (int i = 0; i < n; i++) {
        const verdict_case *c = &cases[i];
        blas_verdict v = blas_core_verdict(c->core, &c->cpu);
        int good = v.weaker == c->weaker && (!c->weaker || strcmp(v.coretype, c->coretype) == 0);
        if (!good) {
            tap_note("core %s on %s (vendor %d): weaker %d (expected %d), fix %s (expected %s)", c->core ? c->core : "NULL",
                     blas_isa_name(cpu_best_isa(&c->cpu)), (int)c->cpu.vendor, v.weaker, c->weaker, v.coretype,
                     c->coretype ? c->coretype : "-");
            ok = 0;
        }
    }
    tap_check(ok, "core verdicts: %d (core name, CPU) cases", n);
    cpu_features avx512 = AVX512_CPU(INTEL), avx2 = AVX2_CPU(INTEL), avx = AVX_CPU(INTEL), sse = SSE_CPU(INTEL);
    tap_check(cpu_best_isa(&avx512) == ISA_AVX512 && cpu_best_isa(&avx2) == ISA_AVX2 && cpu_best_isa(&avx) == ISA_AVX &&
                  cpu_best_isa(&sse) == ISA_SSE,
              "best instruction set of a CPU from its flags");
    tap_check(blas_core_isa("prescott") == ISA_SSE && blas_core_isa("HASWELL") == ISA_AVX2 &&
                  blas_core_isa("SkylakeX") == ISA_AVX512 && blas_core_isa("Sandybridge") == ISA_AVX &&
                  blas_core_isa("Zen") == ISA_AVX2 && blas_core_isa("nonsense") == ISA_UNKNOWN,
              "instruction set of a core name, in any case");
}

/* This machine: the CPU flags are consistent (AVX-512F implies AVX2 implies
 * AVX on every x86-64 CPU made). */
static void check_this_cpu(void)
{
    cpu_features cpu;
    cpu_features_detect(&cpu);
    tap_check((!cpu.avx512f || cpu.avx2) && (!cpu.avx2 || cpu.avx), "this CPU: %s (AVX-512F %d, AVX2 %d, AVX %d)",
              blas_isa_name(cpu_best_isa(&cpu)), cpu.avx512f, cpu.avx2, cpu.avx);
}

static void check_threads(void)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    const int omp0 = omp_get_max_threads(), blas0 = blas_threads_get();
    blas_threads_saved use = blas_threads_use(3);
    tap_check(omp_get_max_threads() == 3 && blas_threads_get() == 3, "blas_threads_use(3): OpenMP and BLAS on 3 threads");
    blas_threads_saved single = blas_threads_single();
    tap_check(blas_threads_get() == 1 && omp_get_max_threads() == 3,
              "blas_threads_single: BLAS on 1 thread, OpenMP keeps its 3");
    blas_threads_restore(single);
    tap_check(blas_threads_get() == 3, "blas_threads_restore after single: BLAS back on 3 threads");

    /* layer_gemm runs the BLAS on one thread and gives the count back */
    float a[4 * 4], b[4 * 4], c[4 * 4];
    for (int i = 0; i < 16; i++) {
        a[i] = (float)(i % 5) - 2.0f;
        b[i] = (float)(i % 3) + 0.5f;
    }
    layer_gemm(CblasNoTrans, CblasNoTrans, 4, 4, 4, 1.0f, a, 4, b, 4, 0.0f, c, 4);
    tap_check(blas_threads_get() == 3 && omp_get_max_threads() == 3, "layer_gemm leaves the thread counts as it found them");
    int exact = 1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            float s = 0;
            for (int k = 0; k < 4; k++) s += a[i * 4 + k] * b[k * 4 + j];
            exact &= s == c[i * 4 + j];
        }
    tap_check(exact, "layer_gemm product (small integers and halves: exact)");

    /* k-means and the silhouette run the BLAS on one thread in their loops
     * and give the count back */
    enum { N = 12, D = 3 };
    float x[N * D];
    int labels[N];
    for (int i = 0; i < N; i++) {
        labels[i] = i % 2;
        for (int f = 0; f < D; f++) x[i * D + f] = (float)(labels[i] * 5 + (i * 7 + f * 3) % 4);
    }
    double centroids[2 * D] = {1, 1, 1, 6, 6, 6};
    int assigned[N];
    kmeans_assign(assigned, x, N, D, centroids, 2);
    tap_check(blas_threads_get() == 3 && omp_get_max_threads() == 3, "kmeans_assign leaves the thread counts as it found them");
    metrics_data data = {.ntotal = N, .n = N, .d = D, .x = x, .labels = labels, .k = 2};
    pairwise_metrics pm;
    int status = pairwise_metrics_compute(MPI_COMM_SELF, &data, NULL, &pm);
    tap_check(status == DSC_OK && pm.silhouette > 0.5 && blas_threads_get() == 3 && omp_get_max_threads() == 3,
              "pairwise_metrics_compute leaves the thread counts as it found them");
    if (status == DSC_OK) pairwise_metrics_destroy(&pm);

    blas_threads_restore(use);
    tap_check(omp_get_max_threads() == omp0 && blas_threads_get() == blas0,
              "blas_threads_restore after use: OpenMP %d and BLAS %d threads again", omp0, blas0);
#else
    tap_check(1, "BLAS without openblas_set_num_threads: thread counts are the library's own # SKIP");
#endif
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    check_verdicts();
    check_this_cpu();
    check_threads();
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
