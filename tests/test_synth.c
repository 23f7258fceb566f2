/*
 * test_synth.c - the synth library: the regime chain (persistence, every
 * regime visited, independent of the first year), the seasons of the
 * regimes, episode intensities and ramps, the red noise (variance, lag-1
 * autocorrelation, independent of the first day), option checks, and
 * synth_write on sub-communicators (two groups writing at once give the same
 * bytes as all ranks together; a failure stays inside its group).
 *
 *   mpirun -n 3 tests/test_synth     (any rank count)
 */
#include "status.h"
#include "synth.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Byte comparison of two files. */
static int same_file(const char *a, const char *b)
{
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same = fa && fb;
    while (same) {
        int ca = fgetc(fa), cb = fgetc(fb);
        if (ca != cb) same = 0;
        if (ca == EOF || cb == EOF) break;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same;
}

static void remove_output(const char *dir, int first, int last)
{
    char p[512];
    for (int y = first; y <= last; y++) {
        snprintf(p, sizeof p, "%s/era5_%04d.nc", dir, y);
        unlink(p);
    }
    snprintf(p, sizeof p, "%s/truth.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/" SYNTH_MANIFEST, dir);
    unlink(p);
    rmdir(dir);
}

static void check_chain(void)
{
    synth_options opt;
    synth_options_default(&opt);
    opt.year_first = 1900;
    opt.year_last = 2099;
    long long n = synth_count_days(opt.year_first, opt.year_last);
    int *r = malloc(n * sizeof(int));
    synth_regime_sequence(r, NULL, &opt);
    int seen[7] = {0}, ok = 1;
    long long runs = 1;
    for (long long d = 0; d < n; d++) {
        if (r[d] < 0 || r[d] >= 7) ok = 0;
        else seen[r[d]]++;
        if (d > 0 && r[d] != r[d - 1]) runs++;
    }
    double mean_run = (double)n / runs;
    tap_check(n == 73049, "200 years have 73049 days (%lld)", n);
    tap_check(ok, "regimes are 0..K-1");
    int all = 1;
    for (int k = 0; k < 7; k++) all &= seen[k] > n / 7 / 2;
    tap_check(all, "every regime is frequent");
    tap_check(mean_run > 4.8 && mean_run < 5.2, "mean run length %.3f days (persistence 5)", mean_run);

    /* A later first year gives the tail of the same chain. */
    synth_options late = opt;
    late.year_first = 2001;
    late.year_last = 2003;
    long long m = synth_count_days(2001, 2003), off = synth_count_days(1900, 2000);
    int *s = malloc(m * sizeof(int));
    synth_regime_sequence(s, NULL, &late);
    tap_check(m == 1095 && memcmp(s, r + off, m * sizeof(int)) == 0, "the regime of a day does not depend on --years");
    opt.persistence = 20;
    synth_regime_sequence(r, NULL, &opt);
    runs = 1;
    for (long long d = 1; d < n; d++) runs += r[d] != r[d - 1];
    tap_check((double)n / runs > 18 && (double)n / runs < 22, "persistence 20 gives runs of %.2f days", (double)n / runs);
    free(r);
    free(s);
}

/* Fraction of the year of day d from 1900-01-01 (as the generator counts). */
static double phase_of(long long d)
{
    double t = (double)d / 365.2425;
    return t - (long long)t;
}

/* The regimes' seasons, episode intensities and ramps over 200 years. */
static void check_episodes(void)
{
    synth_options opt;
    synth_options_default(&opt);
    opt.year_first = 1900;
    opt.year_last = 2099;
    long long n = synth_count_days(opt.year_first, opt.year_last);
    int *r = malloc(n * sizeof(int));
    double *a = malloc(n * sizeof(double));
    synth_regime_sequence(r, a, &opt);

    /* Even regimes prefer winter (December-February), odd ones summer
     * (June-August): over 200 years the ratio of their frequencies is far
     * from 1 in the expected direction for every regime. */
    double win[7] = {0}, sum[7] = {0}, nwin = 0, nsum = 0;
    for (long long d = 0; d < n; d++) {
        double ph = phase_of(d);
        if (ph < 59.0 / 365.25 || ph >= 334.0 / 365.25) win[r[d]] += 1, nwin += 1;
        else if (ph >= 151.0 / 365.25 && ph < 243.0 / 365.25) sum[r[d]] += 1, nsum += 1;
    }
    int seasonal = 1;
    double lo = 1e9, hi = 0;
    for (int k = 0; k < 7; k++) {
        double ratio = (win[k] / nwin) / (sum[k] / nsum);
        seasonal &= k % 2 == 0 ? ratio > 1.3 : ratio < 1 / 1.3;
        lo = ratio < lo ? ratio : lo;
        hi = ratio > hi ? ratio : hi;
    }
    tap_check(seasonal, "regime frequencies winter/summer %.2f..%.2f: even regimes in winter, odd ones in summer", lo, hi);

    /* Episodes (runs of one regime) of 3 days or more: the middle days hold
     * the intensity, the first and last day half of it. */
    long long nep = 0, nweak = 0;
    double s1 = 0, s2 = 0;
    int ramps = 1, positive = 1;
    for (long long d = 0; d < n; d++) positive &= a[d] > 0;
    for (long long b = 1, e; b < n; b = e) {
        for (e = b + 1; e < n && r[e] == r[b]; e++) {}
        if (r[b] == r[b - 1] || e == n || e - b < 3) continue; /* whole episodes only */
        double x = a[b + 1];
        for (long long d = b + 1; d < e - 1; d++) ramps &= a[d] == x;
        ramps &= fabs(a[b] - 0.5 * x) < 1e-12 * x && fabs(a[e - 1] - 0.5 * x) < 1e-12 * x;
        nep++;
        nweak += x < 0.7;
        s1 += x;
        s2 += x * x;
    }
    double mean = s1 / nep, sd = sqrt(s2 / nep - mean * mean);
    tap_check(positive, "the regime strength is positive every day");
    tap_check(ramps, "an episode ramps up on its first day and down on its last (%lld episodes)", nep);
    tap_check(mean > 0.95 && mean < 1.05 && sd > 0.2 && sd < 0.4 && nweak > nep / 20,
              "episode intensities vary: mean %.3f, std %.3f, %.1f%% below 0.7", mean, sd, 100.0 * nweak / nep);

    /* The strength of a day, the last requested one included (its ramp
     * looks ahead), does not depend on --years. */
    synth_options late = opt;
    late.year_first = 2001;
    late.year_last = 2003;
    long long m = synth_count_days(2001, 2003), off = synth_count_days(1900, 2000);
    int *rs = malloc(m * sizeof(int));
    double *as = malloc(m * sizeof(double));
    synth_regime_sequence(rs, as, &late);
    tap_check(memcmp(as, a + off, m * sizeof(double)) == 0, "the strength of a day does not depend on --years");
    free(r);
    free(a);
    free(rs);
    free(as);
}

/* The red noise: unit variance, lag-1 autocorrelation 0.7 and a memory of a
 * few days only, and the value of a day independent of the first day
 * computed (the recursion restarts on fixed days). */
static void check_noise(void)
{
    synth_options opt;
    synth_options_default(&opt);
    opt.nlat = 9;
    opt.nlon = 11;
    const long long day0 = 36890, nd = 3000; /* from 2001-01-01 */
    size_t n = (size_t)opt.nlat * opt.nlon;
    double *x = malloc(nd * n * sizeof(double)), *y = malloc(100 * n * sizeof(double));
    int st = synth_red_noise(x, &opt, 4, day0, nd);
    tap_check(st == DSC_OK, "synth_red_noise");
    double c0 = 0, c1 = 0, c5 = 0, mean = 0;
    for (size_t k = 0; k < nd * n; k++) mean += x[k];
    mean /= (double)(nd * n);
    for (long long d = 0; d < nd; d++)
        for (size_t c = 0; c < n; c++) {
            double v = x[d * n + c] - mean;
            c0 += v * v;
            if (d + 1 < nd) c1 += v * (x[(d + 1) * n + c] - mean);
            if (d + 5 < nd) c5 += v * (x[(d + 5) * n + c] - mean);
        }
    double var = c0 / (double)(nd * n), r1 = c1 / c0, r5 = c5 / c0;
    tap_check(var > 0.7 && var < 1.3, "noise variance %.3f (1)", var);
    tap_check(r1 > 0.65 && r1 < 0.75, "noise lag-1 autocorrelation %.3f (0.7)", r1);
    tap_check(r5 > 0.0 && r5 < 0.35, "noise lag-5 autocorrelation %.3f (0.7^5 = 0.17)", r5);
    st = synth_red_noise(y, &opt, 4, day0 + 1037, 100);
    tap_check(st == DSC_OK && memcmp(y, x + 1037 * n, 100 * n * sizeof(double)) == 0,
              "the noise of a day does not depend on the first day computed");
    free(x);
    free(y);
}

static void check_options(void)
{
    int use[SYNTH_NVARS];
    tap_check(synth_parse_vars("v10,sst", use) == DSC_OK && use[0] && use[6] && !use[1], "--vars v10,sst");
    tap_check(synth_parse_vars("sst,2t", use) == DSC_ERR && strstr(dsc_message(), "'2t'"), "unknown variable named");
    dsc_clear();
    tap_check(synth_parse_vars("", use) == DSC_ERR, "empty --vars rejected");
    dsc_clear();
    synth_options opt;
    synth_options_default(&opt);
    tap_check(synth_options_check(&opt) == DSC_OK, "defaults are valid");
    opt.nlat = 1;
    tap_check(synth_options_check(&opt) == DSC_ERR && strstr(dsc_message(), "--grid"), "1 latitude rejected, naming --grid");
    dsc_clear();
    synth_options_default(&opt);
    opt.steps_per_day = 7;
    tap_check(synth_options_check(&opt) == DSC_ERR && strstr(dsc_message(), "--steps-per-day"), "7 steps a day rejected");
    dsc_clear();
    tap_check(strcmp(synth_variables[4].name, "t2m") == 0 && synth_variables[4].lo == 281 && synth_variables[4].hi == 299,
              "t2m range of the paper");
}

static void check_communicators(const char *dir)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char world_dir[512], group_dir[512], bad_dir[512];
    snprintf(world_dir, sizeof world_dir, "%s/world", dir);
    synth_options opt;
    synth_options_default(&opt);
    opt.year_first = opt.year_last = 2004;
    opt.nlat = 7;
    opt.nlon = 9;
    opt.output_dir = world_dir;
    int st = synth_write(MPI_COMM_WORLD, &opt);
    tap_check_all(MPI_COMM_WORLD, st == DSC_OK, "synth_write on all %d ranks", size);

    /* Two groups at once: color = rank % 2. */
    int color = rank % 2, grank;
    MPI_Comm group;
    MPI_Comm_split(MPI_COMM_WORLD, color, rank, &group);
    MPI_Comm_rank(group, &grank);
    snprintf(group_dir, sizeof group_dir, "%s/group%d", dir, color);
    opt.output_dir = group_dir;
    st = synth_write(group, &opt);
    MPI_Barrier(MPI_COMM_WORLD);
    int same = 1;
    if (grank == 0) {
        char a[600], b[600];
        snprintf(a, sizeof a, "%s/era5_2004.nc", world_dir);
        snprintf(b, sizeof b, "%s/era5_2004.nc", group_dir);
        same = st == DSC_OK && same_file(a, b);
        snprintf(a, sizeof a, "%s/truth.csv", world_dir);
        snprintf(b, sizeof b, "%s/truth.csv", group_dir);
        same = same && same_file(a, b);
    }
    tap_check_all(MPI_COMM_WORLD, same, "each group of ranks writes the same bytes as all ranks");

    /* Group 1 (if any) fails with a bad grid, group 0 succeeds: the
     * failure is agreed within the failing group only. */
    snprintf(bad_dir, sizeof bad_dir, "%s/bad%d", dir, color);
    opt.output_dir = bad_dir;
    if (color == 1) opt.nlat = 1;
    if (color == 1 && grank == 0) fprintf(stderr, "(an error line about --grid is expected here)\n");
    st = synth_write(group, &opt);
    tap_check_all(MPI_COMM_WORLD, color == 0 ? st == DSC_OK : (st == DSC_ERR && access(bad_dir, F_OK) != 0),
                  "a failure on one sub-communicator leaves the other one working");
    MPI_Barrier(MPI_COMM_WORLD);
    if (grank == 0) {
        remove_output(group_dir, 2004, 2004);
        remove_output(bad_dir, 2004, 2004);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) remove_output(world_dir, 2004, 2004);
    MPI_Comm_free(&group);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    check_chain();
    check_episodes();
    check_noise();
    check_options();
    char dir[256] = "";
    if (rank == 0) {
        snprintf(dir, sizeof dir, "%s/dsc-test-synth.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) dir[0] = '\0';
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    tap_check(dir[0] != '\0', "temporary directory %s", dir);
    if (dir[0]) check_communicators(dir);
    if (rank == 0 && dir[0]) rmdir(dir);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
