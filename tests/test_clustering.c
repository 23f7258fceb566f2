/*
 * test_clustering.c - the clustering layer (clustering.h).
 *
 * Without arguments: TAP checks against an independent double-precision
 * implementation of eq. 3, 4 and 6 written here: q and p, the loss, the
 * gradients against central finite differences of the double loss, the
 * scale factor, accumulation into the gradient buffers, hard labels, column
 * sums and independence of the number of OpenMP threads.
 *
 * With "--dump DIR" it is the C side of tests/clustering.sh: for every case
 * it writes DIR/caseC.meta (text: N K L alpha scale loss) and the binary
 * arrays z, centroids (float32), q, p, f (float64), dz, dc (float32, the
 * gradients accumulated onto zeros) and labels (int32) as DIR/caseC.NAME.bin,
 * which tests/clustering_torch.py recomputes with PyTorch autograd.
 */
#include "clustering.h"
#include "rng.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    long long n;
    int k, L;
    double alpha, scale;
    float *z, *c; /* (N, L), (K, L) */
} layer_case;

/* z uniform in [lo, lo + spread), centroids drawn the same way. */
static layer_case case_make(long long n, int k, int L, double alpha, double scale, float lo, float spread, uint64_t seed)
{
    layer_case lc = {.n = n, .k = k, .L = L, .alpha = alpha, .scale = scale};
    lc.z = malloc((size_t)n * L * sizeof(float));
    lc.c = malloc((size_t)k * L * sizeof(float));
    rng_state r;
    rng_seed(&r, seed, 0);
    rng_fill_uniform(&r, lc.z, (size_t)n * L, lo, lo + spread);
    rng_fill_uniform(&r, lc.c, (size_t)k * L, lo, lo + spread);
    return lc;
}

static void case_free(layer_case *lc)
{
    free(lc->z);
    free(lc->c);
}

/* ---- the independent reference, all in double ------------------------------ */

static void ref_q(double *q, const double *z, const double *c, long long n, int k, int L, double alpha)
{
    for (long long i = 0; i < n; i++) {
        double sum = 0;
        for (int j = 0; j < k; j++) {
            double d2 = 0;
            for (int l = 0; l < L; l++) d2 += (z[i * L + l] - c[j * L + l]) * (z[i * L + l] - c[j * L + l]);
            q[i * k + j] = pow(1.0 + d2 / alpha, -(alpha + 1.0) / 2.0);
            sum += q[i * k + j];
        }
        for (int j = 0; j < k; j++) q[i * k + j] /= sum;
    }
}

static void ref_p(double *p, const double *q, long long n, int k)
{
    double *f = calloc((size_t)k, sizeof(double));
    for (long long i = 0; i < n; i++)
        for (int j = 0; j < k; j++) f[j] += q[i * k + j];
    for (long long i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < k; j++) s += q[i * k + j] * q[i * k + j] / f[j];
        for (int j = 0; j < k; j++) p[i * k + j] = q[i * k + j] * q[i * k + j] / f[j] / s;
    }
    free(f);
}

/* KL(P || Q) with P fixed. */
static double ref_kl(const double *z, const double *c, const double *p, long long n, int k, int L, double alpha)
{
    double *q = malloc((size_t)n * k * sizeof(double));
    ref_q(q, z, c, n, k, L, alpha);
    double kl = 0;
    for (long long e = 0; e < n * k; e++)
        if (p[e] > 0) kl += p[e] * log(p[e] / q[e]);
    free(q);
    return kl;
}

static double *to_double(const float *a, size_t m)
{
    double *out = malloc(m * sizeof(double));
    for (size_t e = 0; e < m; e++) out[e] = a[e];
    return out;
}

static double max_abs(const double *a, size_t m)
{
    double w = 0;
    for (size_t e = 0; e < m; e++) w = fmax(w, fabs(a[e]));
    return w;
}

/* p of the layer: q, column sums, target. */
static void layer_p(double *q, double *p, double *f, const layer_case *lc)
{
    clustering_soft_assign(q, lc->z, lc->c, lc->n, lc->k, lc->L, lc->alpha);
    memset(f, 0, (size_t)lc->k * sizeof(double));
    clustering_column_sums(f, q, lc->n, lc->k);
    clustering_target(p, q, f, lc->n, lc->k);
}

/* ---- checks ---------------------------------------------------------------- */

/* q and p against the reference, rows summing to 1. */
static void check_distributions(const layer_case *lc, const char *what)
{
    long long n = lc->n;
    int k = lc->k, L = lc->L;
    double *q = malloc((size_t)n * k * sizeof(double)), *p = malloc((size_t)n * k * sizeof(double));
    double *qr = malloc((size_t)n * k * sizeof(double)), *pr = malloc((size_t)n * k * sizeof(double));
    double *f = malloc((size_t)k * sizeof(double));
    double *zd = to_double(lc->z, (size_t)n * L), *cd = to_double(lc->c, (size_t)k * L);
    layer_p(q, p, f, lc);
    ref_q(qr, zd, cd, n, k, L, lc->alpha);
    ref_p(pr, qr, n, k);
    double eq = 0, ep = 0, sq = 0, sp = 0;
    for (long long i = 0; i < n; i++) {
        double a = 0, b = 0;
        for (int j = 0; j < k; j++) {
            eq = fmax(eq, fabs(q[i * k + j] - qr[i * k + j]) / qr[i * k + j]);
            ep = fmax(ep, fabs(p[i * k + j] - pr[i * k + j]) / pr[i * k + j]);
            a += q[i * k + j];
            b += p[i * k + j];
        }
        sq = fmax(sq, fabs(a - 1));
        sp = fmax(sp, fabs(b - 1));
    }
    tap_check(eq < 1e-10, "%s: q (eq. 3) matches the double reference, max relative error %.2e", what, eq);
    tap_check(ep < 1e-10, "%s: p (eq. 4) matches the double reference, max relative error %.2e", what, ep);
    tap_check(sq < 1e-13 && sp < 1e-13, "%s: rows of q and p sum to 1 (%.1e, %.1e)", what, sq, sp);
    free(q), free(p), free(qr), free(pr), free(f), free(zd), free(cd);
}

/* The loss and both gradients against central differences of ref_kl. */
static void check_gradients(const layer_case *lc, const char *what)
{
    long long n = lc->n;
    int k = lc->k, L = lc->L;
    size_t nz = (size_t)n * L, nc = (size_t)k * L;
    double *q = malloc((size_t)n * k * sizeof(double)), *p = malloc((size_t)n * k * sizeof(double));
    double *f = malloc((size_t)k * sizeof(double));
    layer_p(q, p, f, lc);
    float *dz = calloc(nz, sizeof(float)), *dc = calloc(nc, sizeof(float));
    double loss = clustering_kl_backward(dz, dc, lc->z, lc->c, p, n, k, L, lc->alpha, 1.0);

    double *zd = to_double(lc->z, nz), *cd = to_double(lc->c, nc);
    double ref = ref_kl(zd, cd, p, n, k, L, lc->alpha);
    tap_check(fabs(loss - ref) <= 1e-12 * fabs(ref) && ref > 0, "%s: KL loss (eq. 6) %.10g matches the double reference %.10g",
              what, loss, ref);

    const double h = 1e-5;
    double *fdz = malloc(nz * sizeof(double)), *fdc = malloc(nc * sizeof(double));
    for (size_t e = 0; e < nz; e++) {
        double keep = zd[e];
        zd[e] = keep + h;
        double up = ref_kl(zd, cd, p, n, k, L, lc->alpha);
        zd[e] = keep - h;
        double down = ref_kl(zd, cd, p, n, k, L, lc->alpha);
        zd[e] = keep;
        fdz[e] = (up - down) / (2 * h);
    }
    for (size_t e = 0; e < nc; e++) {
        double keep = cd[e];
        cd[e] = keep + h;
        double up = ref_kl(zd, cd, p, n, k, L, lc->alpha);
        cd[e] = keep - h;
        double down = ref_kl(zd, cd, p, n, k, L, lc->alpha);
        cd[e] = keep;
        fdc[e] = (up - down) / (2 * h);
    }
    double errz = 0, errc = 0;
    for (size_t e = 0; e < nz; e++) errz = fmax(errz, fabs(dz[e] - fdz[e]));
    for (size_t e = 0; e < nc; e++) errc = fmax(errc, fabs(dc[e] - fdc[e]));
    errz /= max_abs(fdz, nz);
    errc /= max_abs(fdc, nc);
    tap_check(errz < 1e-5, "%s: dKL/dz matches central differences, relative error %.2e", what, errz);
    tap_check(errc < 1e-5, "%s: dKL/dc matches central differences, relative error %.2e", what, errc);

    /* scale, accumulation, NULL buffers */
    const double s = 0.37;
    float *sz = calloc(nz, sizeof(float)), *sc = calloc(nc, sizeof(float));
    double sloss = clustering_kl_backward(sz, sc, lc->z, lc->c, p, n, k, L, lc->alpha, s);
    double es = fabs(sloss - s * loss) / (s * loss);
    for (size_t e = 0; e < nz; e++) es = fmax(es, fabs(sz[e] - s * dz[e]) / (s * max_abs(fdz, nz)));
    for (size_t e = 0; e < nc; e++) es = fmax(es, fabs(sc[e] - s * dc[e]) / (s * max_abs(fdc, nc)));
    tap_check(es < 1e-6, "%s: scale %.2f multiplies the loss and both gradients (relative error %.1e)", what, s, es);

    float *az = malloc(nz * sizeof(float)), *ac = malloc(nc * sizeof(float));
    for (size_t e = 0; e < nz; e++) az[e] = (float)(0.5 - 0.01 * (double)(e % 17));
    for (size_t e = 0; e < nc; e++) ac[e] = (float)(-0.25 + 0.02 * (double)(e % 5));
    float *az0 = malloc(nz * sizeof(float)), *ac0 = malloc(nc * sizeof(float));
    memcpy(az0, az, nz * sizeof(float));
    memcpy(ac0, ac, nc * sizeof(float));
    clustering_kl_backward(az, ac, lc->z, lc->c, p, n, k, L, lc->alpha, 1.0);
    int acc_ok = 1;
    for (size_t e = 0; e < nz; e++) acc_ok &= az[e] == az0[e] + dz[e];
    for (size_t e = 0; e < nc; e++) acc_ok &= ac[e] == ac0[e] + dc[e];
    tap_check(acc_ok, "%s: gradients are added to what the buffers hold", what);

    memcpy(az, az0, nz * sizeof(float));
    memcpy(ac, ac0, nc * sizeof(float));
    double l1 = clustering_kl_backward(NULL, ac, lc->z, lc->c, p, n, k, L, lc->alpha, 1.0);
    double l2 = clustering_kl_backward(az, NULL, lc->z, lc->c, p, n, k, L, lc->alpha, 1.0);
    int null_ok = l1 == loss && l2 == loss;
    for (size_t e = 0; e < nz; e++) null_ok &= az[e] == az0[e] + dz[e];
    for (size_t e = 0; e < nc; e++) null_ok &= ac[e] == ac0[e] + dc[e];
    tap_check(null_ok, "%s: either gradient buffer may be NULL", what);

    free(q), free(p), free(f), free(dz), free(dc), free(zd), free(cd), free(fdz), free(fdc);
    free(sz), free(sc), free(az), free(ac), free(az0), free(ac0);
}

/* Bitwise identical results on 1 and 3 OpenMP threads. */
static void check_threads(const layer_case *lc)
{
    long long n = lc->n;
    int k = lc->k, L = lc->L;
    size_t nq = (size_t)n * k, nz = (size_t)n * L, nc = (size_t)k * L;
    double *q[2], *p[2], *f[2], loss[2];
    float *dz[2], *dc[2];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t == 0 ? 1 : 3);
        q[t] = malloc(nq * sizeof(double));
        p[t] = malloc(nq * sizeof(double));
        f[t] = malloc((size_t)k * sizeof(double));
        dz[t] = calloc(nz, sizeof(float));
        dc[t] = calloc(nc, sizeof(float));
        layer_p(q[t], p[t], f[t], lc);
        loss[t] = clustering_kl_backward(dz[t], dc[t], lc->z, lc->c, p[t], n, k, L, lc->alpha, 0.5);
    }
    omp_set_num_threads(saved);
    int same = loss[0] == loss[1] && !memcmp(q[0], q[1], nq * sizeof(double)) && !memcmp(p[0], p[1], nq * sizeof(double)) &&
               !memcmp(f[0], f[1], (size_t)k * sizeof(double)) && !memcmp(dz[0], dz[1], nz * sizeof(float)) &&
               !memcmp(dc[0], dc[1], nc * sizeof(float));
    tap_check(same, "q, p, column sums, loss and gradients identical on 1 and 3 OpenMP threads");
    for (int t = 0; t < 2; t++) free(q[t]), free(p[t]), free(f[t]), free(dz[t]), free(dc[t]);
}

static void check_labels_and_sums(void)
{
    /* ties go to the lowest index */
    const double q[] = {0.3, 0.3, 0.2, 0.2, /**/ 0.1, 0.4, 0.4, 0.1, /**/ 0.1, 0.2, 0.3, 0.4, /**/ 0.25, 0.25, 0.25, 0.25,
                        /**/ 0.2, 0.1, 0.5, 0.2};
    int labels[5];
    clustering_hard_labels(labels, q, 5, 4);
    const int expect[5] = {0, 1, 3, 0, 2};
    tap_check(!memcmp(labels, expect, sizeof expect), "hard labels: argmax of q, lowest cluster on ties");

    double f[4] = {1, 2, 3, 4};
    clustering_column_sums(f, q, 5, 4);
    const double fe[4] = {1 + 0.95, 2 + 1.25, 3 + 1.65, 4 + 1.15};
    int ok = 1;
    for (int j = 0; j < 4; j++) ok &= fabs(f[j] - fe[j]) < 1e-14;
    tap_check(ok, "column sums are added to f (%g %g %g %g)", f[0], f[1], f[2], f[3]);

    /* argmax on q of random data: the nearest centroid */
    layer_case lc = case_make(200, 6, 4, 1.0, 1.0, 0.0f, 1.0f, 11);
    double *qq = malloc((size_t)lc.n * lc.k * sizeof(double));
    int *lab = malloc((size_t)lc.n * sizeof(int));
    clustering_soft_assign(qq, lc.z, lc.c, lc.n, lc.k, lc.L, lc.alpha);
    clustering_hard_labels(lab, qq, lc.n, lc.k);
    ok = 1;
    for (long long i = 0; i < lc.n; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int j = 0; j < lc.k; j++) {
            double d2 = 0;
            for (int l = 0; l < lc.L; l++) {
                double e = (double)lc.z[i * lc.L + l] - lc.c[j * lc.L + l];
                d2 += e * e;
            }
            if (d2 < bd) bd = d2, best = j;
        }
        ok &= lab[i] == best;
    }
    tap_check(ok, "hard labels of q are the nearest centroids");
    free(qq), free(lab);
    case_free(&lc);
}

/* A row far from every centroid: all kernel values tiny, q still sums to 1. */
static void check_far_row(void)
{
    float z[2] = {1e6f, -1e6f}, c[6] = {0, 0, 1, 0, 0, 1};
    double q[3];
    clustering_soft_assign(q, z, c, 1, 3, 2, 1.0);
    int ok = isfinite(q[0]) && isfinite(q[1]) && isfinite(q[2]) && fabs(q[0] + q[1] + q[2] - 1) < 1e-15;
    tap_check(ok, "a latent far from every centroid still gets a finite q summing to 1 (%g %g %g)", q[0], q[1], q[2]);
}

static layer_case dump_cases(int c)
{
    switch (c) {
    case 0: return case_make(50, 5, 8, 1.0, 1.0, 0.0f, 1.0f, 21);
    case 1: return case_make(37, 3, 5, 2.5, 0.3, 0.0f, 1.0f, 22);
    case 2: return case_make(64, 7, 10, 1.0, 1.0 / 64, 0.5f, 1e-3f, 23); /* barely trained: latents within 1e-3 */
    default: return case_make(120, 4, 3, 4.0, 2.0, -2.0f, 4.0f, 24);
    }
}
#define NDUMP 4

static int write_array(const char *dir, int c, const char *name, const void *a, size_t bytes)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/case%d.%s.bin", dir, c, name);
    FILE *fp = fopen(path, "wb");
    if (!fp || fwrite(a, 1, bytes, fp) != bytes) {
        fprintf(stderr, "cannot write %s\n", path);
        if (fp) fclose(fp);
        return 1;
    }
    return fclose(fp) != 0;
}

static int dump(const char *dir)
{
    int bad = 0;
    for (int c = 0; c < NDUMP; c++) {
        layer_case lc = dump_cases(c);
        long long n = lc.n;
        int k = lc.k, L = lc.L;
        double *q = malloc((size_t)n * k * sizeof(double)), *p = malloc((size_t)n * k * sizeof(double));
        double *f = malloc((size_t)k * sizeof(double));
        float *dz = calloc((size_t)n * L, sizeof(float)), *dc = calloc((size_t)k * L, sizeof(float));
        int *labels = malloc((size_t)n * sizeof(int));
        layer_p(q, p, f, &lc);
        clustering_hard_labels(labels, q, n, k);
        double loss = clustering_kl_backward(dz, dc, lc.z, lc.c, p, n, k, L, lc.alpha, lc.scale);
        char path[4096];
        snprintf(path, sizeof path, "%s/case%d.meta", dir, c);
        FILE *fp = fopen(path, "w");
        if (fp) {
            fprintf(fp, "%lld %d %d %.17g %.17g %.17g\n", n, k, L, lc.alpha, lc.scale, loss);
            bad |= fclose(fp) != 0;
        } else {
            bad = 1;
        }
        bad |= write_array(dir, c, "z", lc.z, (size_t)n * L * sizeof(float));
        bad |= write_array(dir, c, "centroids", lc.c, (size_t)k * L * sizeof(float));
        bad |= write_array(dir, c, "q", q, (size_t)n * k * sizeof(double));
        bad |= write_array(dir, c, "p", p, (size_t)n * k * sizeof(double));
        bad |= write_array(dir, c, "f", f, (size_t)k * sizeof(double));
        bad |= write_array(dir, c, "dz", dz, (size_t)n * L * sizeof(float));
        bad |= write_array(dir, c, "dc", dc, (size_t)k * L * sizeof(float));
        bad |= write_array(dir, c, "labels", labels, (size_t)n * sizeof(int));
        free(q), free(p), free(f), free(dz), free(dc), free(labels);
        case_free(&lc);
    }
    return bad;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rc;
    if (argc == 3 && !strcmp(argv[1], "--dump")) {
        rc = dump(argv[2]);
    } else {
        layer_case a = case_make(30, 4, 6, 1.0, 1.0, 0.0f, 1.0f, 1);
        layer_case b = case_make(25, 5, 4, 2.5, 1.0, 0.0f, 1.0f, 2);
        layer_case close = case_make(40, 3, 12, 1.0, 1.0, 0.5f, 1e-3f, 3);
        check_distributions(&a, "alpha 1");
        check_distributions(&b, "alpha 2.5");
        check_distributions(&close, "latents within 1e-3 of each other");
        check_gradients(&a, "alpha 1");
        check_gradients(&b, "alpha 2.5");
        check_threads(&b);
        check_labels_and_sums();
        check_far_row();
        case_free(&a), case_free(&b), case_free(&close);
        rc = tap_finish();
    }
    MPI_Finalize();
    return rc;
}
