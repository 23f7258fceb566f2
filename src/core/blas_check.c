/*
 * blas_check.c - the BLAS's sgemm against a plain loop, and the start-over
 * on a weaker OpenBLAS kernel when it is wrong (blas_check.h).
 */
#include "blas_check.h"
#include "blas_env.h"
#include "status.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Shapes that reach the edge cases of the kernels (1 row, odd sizes below and
 * above the register blocks, several packing panels along K) in every transpose. */
static const struct {
    int m, n, k, ta, tb;
    float alpha, beta;
} shapes[] = {
    {1, 1, 1, 0, 0, 1, 0},      {3, 5, 7, 0, 1, 1, 0},       {17, 9, 33, 1, 0, 1, 0}, {64, 64, 64, 0, 0, 1, 0},
    {67, 131, 259, 1, 1, 1, 0}, {130, 70, 96, 0, 0, 2, 1},   {31, 200, 48, 0, 1, 1, 1},
};

/* Small integers: every product and sum below 2^24 is exact in float, in any order. */
static float small_int(long i, int salt) { return (float)((i * (7 + 2 * salt) + salt) % 9 - 4); }

/* Is name one of the comma-separated names in list (any case)? */
static int listed(const char *list, const char *name)
{
    char copy[256];
    snprintf(copy, sizeof copy, "%s", list);
    for (char *save = NULL, *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
        if (strcasecmp(t, name) == 0) return 1;
    return 0;
}

/* The fault hook: does DSC_FAULT_BLAS_WRONG name this core (or "all")? */
static int fault_here(void)
{
    const char *list = getenv("DSC_FAULT_BLAS_WRONG"), *core = blas_core_name();
    if (!list || !*list) return 0;
    return strcasecmp(list, "all") == 0 || (core && listed(list, core));
}

/* One shape: 1 when right, else the first difference in detail. */
static int check_shape(int s, float *a, float *b, float *c, double *ref, char *detail, size_t len)
{
    const int m = shapes[s].m, n = shapes[s].n, k = shapes[s].k, ta = shapes[s].ta, tb = shapes[s].tb;
    const int lda = ta ? m : k, ldb = tb ? k : n;
    for (long i = 0; i < (long)m * k; i++) a[i] = small_int(i, 1);
    for (long i = 0; i < (long)k * n; i++) b[i] = small_int(i, 2);
    for (long i = 0; i < (long)m * n; i++) c[i] = small_int(i, 3);
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double sum = 0;
            for (int p = 0; p < k; p++)
                sum += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            ref[i * n + j] = shapes[s].alpha * sum + shapes[s].beta * c[i * n + j];
        }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, m, n, k, shapes[s].alpha, a,
                lda, b, ldb, shapes[s].beta, c, n);
    if (s == 0 && fault_here()) c[0] += 1;
    for (long i = 0; i < (long)m * n; i++)
        if ((double)c[i] != ref[i]) {
            snprintf(detail, len, "C[%ld][%ld] = %g, expected %g, in a %d x %d x %d product", i / n, i % n, (double)c[i],
                     ref[i], m, n, k);
            return 0;
        }
    return 1;
}

int blas_check_sgemm(char *detail, size_t len)
{
    const size_t most = 259 * 259;
    float *a = malloc(most * sizeof *a), *b = malloc(most * sizeof *b), *c = malloc(most * sizeof *c);
    double *ref = malloc(most * sizeof *ref);
    int ok = a && b && c && ref;
    if (!ok) snprintf(detail, len, "out of memory");
    for (size_t s = 0; ok && s < sizeof shapes / sizeof shapes[0]; s++) ok = check_shape((int)s, a, b, c, ref, detail, len);
    free(a);
    free(b);
    free(c);
    free(ref);
    return ok;
}

/* ---- start-over on a weaker kernel --------------------------------------- */

/* This program's file (under valgrind, the program's, not the tool's). */
static const char *self_path(void)
{
    static char path[4096];
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
    if (n <= 0) return "/proc/self/exe";
    path[n] = '\0';
    return path;
}

static char wrong_detail[200];  /* the first difference seen, in this process or the one before */
static char wrong_cores[256];   /* the cores that failed, comma-separated */
static int wrong_now;           /* the kernels in use failed and nothing is left to try */

/* The next weaker kernel family for OPENBLAS_CORETYPE, NULL below SSE. */
static const char *weaker_core(const char *core)
{
    switch (blas_core_isa(core)) {
    case ISA_AVX512: return "HASWELL";
    case ISA_AVX2: return "SANDYBRIDGE";
    case ISA_AVX: return "PRESCOTT";
    default: return NULL;
    }
}


void blas_check_start(char **argv)
{
    char detail[200] = "";
    if (getenv("DSC_BLAS_CHECK_ONLY")) exit(blas_check_sgemm(detail, sizeof detail) ? 0 : 1);
    const char *before = getenv("DSC_BLAS_WRONG"), *before_detail = getenv("DSC_BLAS_WRONG_DETAIL");
    snprintf(wrong_cores, sizeof wrong_cores, "%s", before ? before : "");
    snprintf(wrong_detail, sizeof wrong_detail, "%s", before_detail ? before_detail : "");
    unsetenv("DSC_BLAS_WRONG");
    unsetenv("DSC_BLAS_WRONG_DETAIL");
    if (blas_check_sgemm(detail, sizeof detail)) return;
    const char *core = blas_core_name(), *next = core ? weaker_core(core) : NULL;
    if (!wrong_detail[0]) snprintf(wrong_detail, sizeof wrong_detail, "%s", detail);
    size_t used = strlen(wrong_cores);
    snprintf(wrong_cores + used, sizeof wrong_cores - used, "%s%s", used ? "," : "", core ? core : "the BLAS");
    wrong_now = 1;
    if (!next || listed(wrong_cores, next) || (core && before && listed(before, core))) return;
    setenv("OPENBLAS_CORETYPE", next, 1);
    setenv("DSC_BLAS_WRONG", wrong_cores, 1);
    setenv("DSC_BLAS_WRONG_DETAIL", wrong_detail, 1);
    execv(self_path(), argv);
    unsetenv("DSC_BLAS_WRONG"); /* execv failed: stop with the error */
}

int blas_check_report(MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = DSC_OK;
    if (wrong_now)
        status = dsc_fail("the BLAS computes wrong matrix products on this CPU with its %s kernels (%s); dsc cannot run "
                          "on it: use another BLAS or a newer OpenBLAS (doc/blas.md)",
                          wrong_cores, wrong_detail);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    if (wrong_cores[0] && rank == 0)
        dsc_warn("OpenBLAS's %s kernels compute wrong matrix products on this CPU (%s); dsc runs on its %s kernels "
                 "instead, which are right (OPENBLAS_CORETYPE=%s; doc/blas.md)",
                 wrong_cores, wrong_detail, blas_core_name(), getenv("OPENBLAS_CORETYPE"));
    return DSC_OK;
}

const char *blas_check_fallback_from(void) { return wrong_now ? "" : wrong_cores; }

int blas_check_coretype(const char *coretype)
{
    size_t n = 0;
    while (environ[n]) n++;
    char **env = calloc(n + 3, sizeof *env);
    char core_var[64], only_var[] = "DSC_BLAS_CHECK_ONLY=1";
    if (!env) return -1;
    snprintf(core_var, sizeof core_var, "OPENBLAS_CORETYPE=%s", coretype);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "OPENBLAS_CORETYPE=", 18) != 0) env[m++] = environ[i];
    env[m++] = core_var;
    env[m++] = only_var;
    char *child_argv[] = {"dsc", NULL};
    pid_t pid;
    int result = -1, wstatus;
    if (posix_spawn(&pid, self_path(), NULL, NULL, child_argv, env) == 0 && waitpid(pid, &wstatus, 0) == pid &&
        WIFEXITED(wstatus))
        result = WEXITSTATUS(wstatus) == 0 ? 1 : WEXITSTATUS(wstatus) == 1 ? 0 : -1;
    free(env);
    return result;
}

int blas_check_warn_core(void)
{
    const char *core = blas_core_name();
    cpu_features cpu;
    cpu_features_detect(&cpu);
    blas_verdict v = blas_core_verdict(core, &cpu);
    if (!v.weaker) return 0;
    if (blas_check_coretype(v.coretype) == 0) return 0; /* the faster kernels are wrong here: keep these */
    dsc_warn("OpenBLAS runs its %s kernels (%s) on a CPU with %s: matrix products run several times slower "
             "than they can; before running dsc, export OPENBLAS_CORETYPE=%s (see doc/blas.md)",
             core, blas_isa_name(v.core_isa), blas_isa_name(v.cpu_isa), v.coretype);
    return 1;
}
