/*
 * test_metrics.c - the distributed clustering metrics.
 *
 * Without arguments: built-in checks (TAP) of the GEMM-based distances
 * against direct double-precision differences, of the label encoding and of
 * the special cases of ARI / NMI.
 *
 * With arguments it is the driver of tests/metrics.sh:
 *   mpirun -n 3 tests/test_metrics MATRIX LABELS [TRUTH] [--sample N] [--tile N]
 * MATRIX is binary: int64 T, int64 D, then T*D float32 (row-major); LABELS and
 * TRUTH are text, one integer per line.  Rank r reads the rows
 * block_range(T, P, r), every metric is computed and rank 0 prints
 * key=value lines.
 */
#include "metrics.h"
#include "reference_kernels.h"
#include "partition.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t rng_state = 12345;
static double uniform(void)
{
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}
static double normal(void)
{
    double u = uniform() + 1e-300, v = uniform();
    return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* Max relative error of pairwise_distance_tile against direct double
 * differences; exact duplicates must give exactly 0. */
static double tile_error(const float *a, int na, const float *b, int nb, int d, int *dup_ok)
{
    double *mean = calloc((size_t)d, sizeof(double));
    double *dist = malloc((size_t)na * nb * sizeof(double));
    for (int i = 0; i < na; i++)
        for (int f = 0; f < d; f++) mean[f] += a[(size_t)i * d + f] / (double)(na + nb);
    for (int j = 0; j < nb; j++)
        for (int f = 0; f < d; f++) mean[f] += b[(size_t)j * d + f] / (double)(na + nb);
    double worst = 0;
    *dup_ok = 1;
    if (pairwise_distance_tile(dist, NULL, a, na, b, nb, d, mean) != DSC_OK) worst = INFINITY;
    for (int i = 0; i < na && isfinite(worst); i++)
        for (int j = 0; j < nb; j++) {
            double s = 0;
            for (int f = 0; f < d; f++) {
                double e = (double)a[(size_t)i * d + f] - b[(size_t)j * d + f];
                s += e * e;
            }
            double exact = sqrt(s), got = dist[(size_t)i * nb + j];
            if (exact == 0) {
                if (got != 0) *dup_ok = 0;
                continue;
            }
            double rel = fabs(got - exact) / exact;
            if (rel > worst) worst = rel;
        }
    free(mean);
    free(dist);
    return worst;
}

/* Max relative error of the cosine distances of pairwise_distance_tile
 * against 1 - x.y / (|x| |y|) in double. */
static double cosine_tile_error(const float *a, int na, const float *b, int nb, int d)
{
    double *mean = calloc((size_t)d, sizeof(double));
    double *dist = malloc((size_t)na * nb * sizeof(double)), *cosd = malloc((size_t)na * nb * sizeof(double));
    for (int i = 0; i < na; i++)
        for (int f = 0; f < d; f++) mean[f] += a[(size_t)i * d + f] / (double)(na + nb);
    for (int j = 0; j < nb; j++)
        for (int f = 0; f < d; f++) mean[f] += b[(size_t)j * d + f] / (double)(na + nb);
    double worst = 0;
    if (!mean || !dist || !cosd || pairwise_distance_tile(dist, cosd, a, na, b, nb, d, mean) != DSC_OK) worst = INFINITY;
    for (int i = 0; i < na && isfinite(worst); i++)
        for (int j = 0; j < nb; j++) {
            double xy = 0, xx = 0, yy = 0;
            for (int f = 0; f < d; f++) {
                double u = a[(size_t)i * d + f], v = b[(size_t)j * d + f];
                xy += u * v;
                xx += u * u;
                yy += v * v;
            }
            double exact = 1.0 - xy / sqrt(xx * yy), rel = fabs(cosd[(size_t)i * nb + j] - exact) / exact;
            if (rel > worst) worst = rel;
        }
    free(mean);
    free(dist);
    free(cosd);
    return worst;
}

static void builtin_checks(void)
{
    /* 1. values in [0, 1] with a common offset (normalised climate fields),
     *    tight clusters far from the mean, near and exact duplicates */
    int dims[] = {300, 2000, 11767};
    for (int t = 0; t < 3; t++) {
        int d = dims[t], na = 96, nb = 80;
        float *a = malloc((size_t)na * d * sizeof(float)), *b = malloc((size_t)nb * d * sizeof(float));
        float *centre = malloc((size_t)4 * d * sizeof(float));
        for (int c = 0; c < 4; c++)
            for (int f = 0; f < d; f++) centre[c * d + f] = (float)(0.5 + 0.3 * uniform());
        for (int i = 0; i < na; i++)
            for (int f = 0; f < d; f++) a[(size_t)i * d + f] = (float)(centre[(i % 4) * d + f] + 0.02 * normal());
        for (int j = 0; j < nb; j++)
            for (int f = 0; f < d; f++) {
                float v = a[(size_t)(j % na) * d + f];
                /* every fourth row an exact duplicate, others nearby or new */
                if (j % 4 == 0) b[(size_t)j * d + f] = v;
                else if (j % 4 == 1) b[(size_t)j * d + f] = (float)(v + 1e-4 * normal());
                else b[(size_t)j * d + f] = (float)(centre[(j % 4) * d + f] + 0.02 * normal());
            }
        int dup_ok;
        double err = tile_error(a, na, b, nb, d, &dup_ok);
        tap_check(err <= 1e-6, "GEMM distances, D = %d, clustered data with offset: max relative error %.2e <= 1e-6", d, err);
        tap_check(dup_ok, "GEMM distances, D = %d: exact duplicates at distance exactly 0", d);
        /* 2. unclustered uniform data without centring help (mean of a and b only) */
        for (int i = 0; i < na; i++)
            for (int f = 0; f < d; f++) a[(size_t)i * d + f] = (float)(10.0 + uniform());
        for (int j = 0; j < nb; j++)
            for (int f = 0; f < d; f++) b[(size_t)j * d + f] = (float)(10.0 + uniform());
        err = tile_error(a, na, b, nb, d, &dup_ok);
        tap_check(err <= 1e-6, "GEMM distances, D = %d, uniform data offset by 10: max relative error %.2e <= 1e-6", d, err);
        free(a);
        free(b);
        free(centre);
    }

    /* Davies-Bouldin with two coinciding centroids: scikit-learn sets their
     * distance to inf, so the pair drops out of the maximum; the others keep
     * their ratios (S_a + S_c) / M_ac.  Without that rule DB is inf and
     * metrics.json no longer JSON. */
    {
        double scatter[3] = {1.0, 2.0, 0.5}, centroids[3 * 2] = {1.0, 2.0, 1.0, 2.0, 4.0, 6.0};
        long long sizes[3] = {4, 4, 10};
        double m = hypot(centroids[4] - centroids[0], centroids[5] - centroids[1]);
        double want = ((scatter[0] + scatter[2]) / m + (scatter[1] + scatter[2]) / m +
                       fmax(scatter[0] + scatter[2], scatter[1] + scatter[2]) / m) / 3;
        double db = davies_bouldin_from_centroids(scatter, centroids, sizes, 3, 2);
        tap_check(isfinite(db) && fabs(db - want) <= 1e-12 * want,
                  "Davies-Bouldin leaves coinciding centroids out: %.17g (expected %.17g)", db, want);
    }

    /* 3. cosine distances of nearly parallel rows: one direction plus noise
     *    1e-4 (1 - cos ~ 1e-8, and the Euclidean distances not small
     *    against the rows' spread, so the GEMM path computes them).  The
     *    cosine must divide by the norms of the same float-rounded shifted
     *    rows the dot product was taken of: with the norms of the unshifted
     *    rows the error was 2e-5 to 6e-5. */
    for (int t = 0; t < 2; t++) {
        int d = t == 0 ? 300 : 2000, na = 64, nb = 48;
        float *a = calloc((size_t)na * d, sizeof(float)), *b = calloc((size_t)nb * d, sizeof(float));
        float *dir = malloc((size_t)d * sizeof(float));
        for (int f = 0; f < d; f++) dir[f] = (float)(0.5 + 0.5 * uniform());
        for (int i = 0; i < na + nb; i++) {
            float *row = i < na ? a + (size_t)i * d : b + (size_t)(i - na) * d;
            for (int f = 0; f < d; f++) row[f] = (float)(dir[f] + 1e-4 * normal());
        }
        double err = cosine_tile_error(a, na, b, nb, d);
        tap_check(err <= 2e-6, "GEMM cosine distances, D = %d, nearly parallel rows: max relative error %.2e <= 2e-6", d, err);
        free(a);
        free(b);
        free(dir);
    }

    /* Label encoding as scikit-learn's LabelEncoder. */
    int in[] = {7, -3, 7, 42, -3, 0}, enc[6], expect[] = {2, 0, 2, 3, 0, 1};
    int k = metrics_encode_labels(enc, in, 6);
    tap_check(k == 4 && memcmp(enc, expect, sizeof enc) == 0, "labels encoded in increasing order of value");

    /* ARI / NMI: permutation invariance and scikit-learn's special cases. */
    int x[] = {0, 0, 1, 1, 2, 2}, y[] = {2, 2, 0, 0, 1, 1}, one[] = {0, 0, 0, 0, 0, 0};
    double ari, nmi;
    contingency_scores(x, 3, y, 3, 6, &ari, &nmi);
    tap_check(fabs(ari - 1) < 1e-15 && fabs(nmi - 1) < 1e-15, "ARI = NMI = 1 for a relabelling (%g, %g)", ari, nmi);
    contingency_scores(one, 1, one, 1, 6, &ari, &nmi);
    tap_check(ari == 1 && nmi == 1, "ARI = NMI = 1 for two single-cluster labellings");
    contingency_scores(x, 3, one, 1, 6, &ari, &nmi);
    tap_check(ari == 0 && nmi == 0, "ARI = NMI = 0 against a single cluster (%g, %g)", ari, nmi);
}

static int read_labels(const char *path, int **out, long long n)
{
    FILE *f = fopen(path, "r");
    if (!f) return dsc_fail("%s: cannot open", path);
    int *l = malloc((size_t)n * sizeof(int));
    for (long long i = 0; i < n; i++)
        if (fscanf(f, "%d", &l[i]) != 1) {
            fclose(f);
            free(l);
            return dsc_fail("%s: fewer than %lld labels", path, n);
        }
    fclose(f);
    *out = l;
    return DSC_OK;
}

/* Peak resident memory of this process in kB (VmHWM), 0 if unknown. */
static long peak_memory_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) kb = atol(line + 6);
    if (f) fclose(f);
    return kb;
}

static int driver(int argc, char **argv, MPI_Comm comm)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    const char *files[3] = {NULL, NULL, NULL};
    int nfiles = 0;
    pairwise_options opt = {.sample = 0, .seed = 1, .tile = 0};
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--sample") == 0 && a + 1 < argc) opt.sample = atoll(argv[++a]);
        else if (strcmp(argv[a], "--tile") == 0 && a + 1 < argc) opt.tile = atoi(argv[++a]);
        else if (nfiles < 3) files[nfiles++] = argv[a];
    }
    FILE *f = fopen(files[0], "rb");
    int64_t hdr[2] = {0, 0};
    if (!f || fread(hdr, sizeof(int64_t), 2, f) != 2) return dsc_agree(comm, dsc_fail("%s: cannot read", files[0]));
    long long T = hdr[0], start, n;
    int d = (int)hdr[1];
    block_range(T, P, rank, &start, &n);
    float *x = malloc((size_t)(n * d + 1) * sizeof(float)); /* (N, D) */
    fseek(f, 16 + (long)(start * d * (long long)sizeof(float)), SEEK_SET);
    size_t got = fread(x, sizeof(float), (size_t)(n * d), f);
    fclose(f);
    if (dsc_agree(comm, got == (size_t)(n * d) ? DSC_OK : dsc_fail("%s: short file", files[0])) != DSC_OK) return DSC_ERR;
    int *labels = NULL, *truth = NULL; /* (T) */
    if (dsc_agree(comm, read_labels(files[1], &labels, T)) != DSC_OK) return DSC_ERR;
    if (files[2] && dsc_agree(comm, read_labels(files[2], &truth, T)) != DSC_OK) return DSC_ERR;
    int k = metrics_encode_labels(labels, labels, T);
    metrics_data data = {.ntotal = T, .n = n, .d = d, .x = x, .labels = labels + start, .k = k};

    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    double t0 = MPI_Wtime();
    pairwise_metrics pm;
    if (pairwise_metrics_compute(comm, &data, &opt, &pm) != DSC_OK) return DSC_ERR;
    double t1 = MPI_Wtime();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    /* CPU seconds of the busiest rank: the work per rank, whatever else runs on the machine */
    double cpu = (c1.tv_sec - c0.tv_sec) + 1e-9 * (c1.tv_nsec - c0.tv_nsec), cpu_max = 0;
    MPI_Reduce(&cpu, &cpu_max, 1, MPI_DOUBLE, MPI_MAX, 0, comm);
    cluster_metrics cm;
    if (cluster_metrics_compute(comm, &data, &cm) != DSC_OK) return DSC_ERR;
    long kb = peak_memory_kb(), kb_max = 0;
    MPI_Reduce(&kb, &kb_max, 1, MPI_LONG, MPI_MAX, 0, comm);
    if (rank == 0) {
        printf("peak_memory_kb_per_rank=%ld\n", kb_max);
        printf("silhouette=%.17g\nsilhouette_cosine=%.17g\n", pm.silhouette, pm.silhouette_cosine);
        printf("davies_bouldin=%.17g\nrmse_mean=%.17g\navg_variance=%.17g\n", cm.davies_bouldin, cm.rmse_mean, cm.avg_variance);
        printf("avg_inter_cluster_distance=%.17g\n", pm.avg_inter_cluster_distance);
        printf("inter=");
        for (int e = 0; e < k * k; e++) printf("%s%.17g", e ? "," : "", pm.inter[e]);
        printf("\ncluster_sizes=");
        for (int e = 0; e < k; e++) printf("%s%lld", e ? "," : "", cm.sizes[e]);
        printf("\nn_clusters=%d\ndirect_pairs=%lld\npairwise_seconds=%.3f\npairwise_cpu_seconds_per_rank=%.3f\n", k, pm.direct_pairs,
               t1 - t0, cpu_max);
        if (truth) {
            int kt = metrics_encode_labels(truth, truth, T);
            double ari, nmi;
            contingency_scores(truth, kt, labels, k, T, &ari, &nmi);
            printf("ari=%.17g\nnmi=%.17g\n", ari, nmi);
        }
        fflush(stdout);
    }
    pairwise_metrics_destroy(&pm);
    cluster_metrics_destroy(&cm);
    free(x);
    free(labels);
    free(truth);
    return DSC_OK;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rc;
    if (argc > 1) {
        rc = driver(argc, argv, MPI_COMM_WORLD) == DSC_OK ? 0 : 1;
    } else {
        builtin_checks();
        rc = tap_finish();
    }
    MPI_Finalize();
    return rc;
}
