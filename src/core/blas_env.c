/*
 * blas_env.c - the BLAS library, its kernels against the CPU, and the one
 * place that changes BLAS and OpenMP thread counts (see blas_env.h).
 *
 * The core names are OpenBLAS's (driver/others/dynamic.c for DYNAMIC_ARCH
 * builds, the TARGET names for fixed builds); each is mapped to the vector
 * instructions its sgemm kernel uses.  Measured on a 16-core Xeon with
 * AVX-512 and Debian's OpenBLAS 0.3.21, which takes it for a Prescott:
 * sgemm 29 GFLOP/s on one core with the Prescott kernels, 98 with SkylakeX.
 */
#include "blas_env.h"
#include "status.h"

#include <omp.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#ifndef DSC_BLAS_LIBS /* builds without configure's config.h (the fuzz targets) */
#define DSC_BLAS_LIBS "(not recorded)"
#endif

/* ---- core names against instruction sets (pure) -------------------------- */

static const struct {
    const char *name;
    blas_isa isa;
} core_table[] = {
    {"Katmai", ISA_SSE},       {"Coppermine", ISA_SSE},   {"Northwood", ISA_SSE},  {"Prescott", ISA_SSE},
    {"Banias", ISA_SSE},       {"Atom", ISA_SSE},         {"Core2", ISA_SSE},      {"Penryn", ISA_SSE},
    {"Dunnington", ISA_SSE},   {"Nehalem", ISA_SSE},      {"Athlon", ISA_SSE},     {"Opteron", ISA_SSE},
    {"Opteron_SSE3", ISA_SSE}, {"Barcelona", ISA_SSE},    {"Nano", ISA_SSE},       {"Bobcat", ISA_SSE},
    {"Generic", ISA_SSE},      {"Sandybridge", ISA_AVX},  {"Bulldozer", ISA_AVX},  {"Piledriver", ISA_AVX},
    {"Steamroller", ISA_AVX},  {"Haswell", ISA_AVX2},     {"Excavator", ISA_AVX2}, {"Zen", ISA_AVX2},
    {"SkylakeX", ISA_AVX512},  {"Cooperlake", ISA_AVX512}, {"SapphireRapids", ISA_AVX512},
};

blas_isa blas_core_isa(const char *corename)
{
    if (!corename) return ISA_UNKNOWN;
    for (size_t i = 0; i < sizeof core_table / sizeof core_table[0]; i++)
        if (strcasecmp(corename, core_table[i].name) == 0) return core_table[i].isa;
    return ISA_UNKNOWN;
}

blas_isa cpu_best_isa(const cpu_features *cpu)
{
    if (cpu->avx512f) return ISA_AVX512;
    if (cpu->avx2) return ISA_AVX2;
    if (cpu->avx) return ISA_AVX;
    return ISA_SSE;
}

const char *blas_isa_name(blas_isa isa)
{
    switch (isa) {
    case ISA_SSE: return "SSE";
    case ISA_AVX: return "AVX";
    case ISA_AVX2: return "AVX2";
    case ISA_AVX512: return "AVX-512";
    default: return "unknown";
    }
}

blas_verdict blas_core_verdict(const char *corename, const cpu_features *cpu)
{
    blas_verdict v = {.weaker = 0, .core_isa = blas_core_isa(corename), .cpu_isa = cpu_best_isa(cpu)};
    switch (v.cpu_isa) {
    case ISA_AVX512: v.coretype = "SKYLAKEX"; break;
    case ISA_AVX2: v.coretype = cpu->vendor == CPU_VENDOR_AMD ? "ZEN" : "HASWELL"; break;
    case ISA_AVX: v.coretype = "SANDYBRIDGE"; break;
    default: v.coretype = "PRESCOTT"; break;
    }
    v.weaker = v.core_isa != ISA_UNKNOWN && v.core_isa < v.cpu_isa;
    return v;
}

/* ---- this machine ------------------------------------------------------- */

void cpu_features_detect(cpu_features *cpu)
{
    memset(cpu, 0, sizeof *cpu);
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    const unsigned max_leaf = a;
    char vendor[13];
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    if (strcmp(vendor, "GenuineIntel") == 0) cpu->vendor = CPU_VENDOR_INTEL;
    else if (strcmp(vendor, "AuthenticAMD") == 0 || strcmp(vendor, "HygonGenuine") == 0) cpu->vendor = CPU_VENDOR_AMD;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    /* The registers count only when the operating system saves them:
     * XCR0 bits 1-2 (SSE, AVX state), 5-7 (AVX-512 state). */
    unsigned long long xcr0 = 0;
    if (c & (1u << 27)) { /* OSXSAVE */
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        xcr0 = ((unsigned long long)hi << 32) | lo;
    }
    const int ymm = (xcr0 & 0x6) == 0x6, zmm = (xcr0 & 0xe6) == 0xe6;
    cpu->avx = ymm && (c & (1u << 28));
    cpu->fma = ymm && (c & (1u << 12));
    if (max_leaf >= 7 && __get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        cpu->avx2 = ymm && (b & (1u << 5));
        cpu->avx512f = zmm && (b & (1u << 16));
    }
#endif
}

const char *blas_core_name(void)
{
#ifdef HAVE_OPENBLAS_GET_CORENAME
    return openblas_get_corename();
#else
    return NULL;
#endif
}

const char *blas_library_name(void)
{
#ifdef HAVE_OPENBLAS_GET_CONFIG
    return openblas_get_config();
#else
    return "BLAS linked with " DSC_BLAS_LIBS;
#endif
}

/* ---- threads ------------------------------------------------------------ */

int blas_threads_get(void)
{
#ifdef HAVE_OPENBLAS_GET_NUM_THREADS
    return openblas_get_num_threads();
#else
    return 1;
#endif
}

/* OpenBLAS built for OpenMP sets OpenMP's thread count along with its own;
 * keep OpenMP's. */
static void blas_threads_set(int n)
{
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    const int omp = omp_get_max_threads();
    openblas_set_num_threads(n);
    if (omp_get_max_threads() != omp) omp_set_num_threads(omp);
#else
    (void)n;
#endif
}

blas_threads_saved blas_threads_single(void)
{
    blas_threads_saved s = {-1, -1};
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    if (omp_in_parallel()) return s;
    const int n = blas_threads_get();
    if (n != 1) {
        s.blas = n;
        blas_threads_set(1);
    }
#endif
    return s;
}

blas_threads_saved blas_threads_use(int n)
{
    blas_threads_saved s = {-1, -1};
    if (n > 0) {
        s.omp = omp_get_max_threads();
        omp_set_num_threads(n);
    } else {
        n = omp_get_max_threads();
    }
#ifdef HAVE_OPENBLAS_SET_NUM_THREADS
    s.blas = blas_threads_get();
    blas_threads_set(n);
#endif
    return s;
}

void blas_threads_restore(blas_threads_saved saved)
{
    if (saved.omp > 0) omp_set_num_threads(saved.omp);
    if (saved.blas > 0) blas_threads_set(saved.blas);
}
