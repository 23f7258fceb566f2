/*
 * synth.c - the ERA5-like sample data set (see synth.h for the model).
 *
 * Partitioning: the days of each year are split into contiguous blocks over
 * the ranks (block_range) for the packing pass; the legacy encoding packs to
 * short with per-file scale_factor / add_offset, so a first pass computes
 * each rank's min / max and an MPI_Allreduce gives the file's.  The second
 * pass recomputes the fields (cheaper than holding a year) and writes them
 * chunk by chunk: each chunk of days is split over the ranks, every rank
 * posts its whole records (time and every variable) as nonblocking requests
 * and one collective ncmpi_wait_all writes them (a rank without days joins
 * with nothing posted).
 *
 * Files: a unique temporary name per year, the whole file allocated before
 * the data (a full disk fails at once; record padding is zeros), the size
 * checked after closing, then the rename; truth.csv next and manifest.txt
 * last, under a lock on the folder.
 *
 *   mpirun -n 4 dsc synth -o sample --years 1979-2020
 *
 * Dimension letters: Y latitude (north to south), X longitude (west to
 * east), V variables, K regimes, M noise waves, T time steps.
 */
#include "synth.h"
#include "config.h"
#include "nc_file.h"
#include "rng.h"
#include "output_file.h"
#include "cf_time.h"
#include "partition.h"
#include "status.h"

#include <errno.h>
#include <math.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define PI 3.14159265358979323846
#define NOISE_WAVES 8        /* M: random plane waves per noise field */
#define NOISE_PHI 0.7        /* lag-1 autocorrelation of the daily noise (AR(1)) */
#define NOISE_WINDOW 30      /* innovations summed at a restart: PHI^30 ~ 2e-5 is what is left out */
#define NOISE_RESTART 32     /* the AR(1) recursion restarts on days that are multiples of this */
#define RAMP_DAYS 1.0        /* an episode grows and decays over about this many days */
#define EPISODE_SIGMA 0.3    /* log-standard deviation of the episode intensities (mean 1) */
#define MAX_REGIMES 100      /* --regimes limit of synth_options_check */
#define YEAR_DAYS 365.2425   /* mean Gregorian year: seasons do not drift over centuries */
#define TREND_ORIGIN 36524   /* 2000-01-01 in days from 1900-01-01: the trend term is zero there */
#define PACKED_MAX 32766     /* packed shorts use -32766..32766; -32767 is the fill */
#define FILL_SHORT ((short)-32767)
#define FILL_FLOAT (-32767.0f)
#define CHUNK_BYTES (8 << 20) /* write buffer of one variable */

/* Units and long names as in CDS netCDF files; ranges of paper section 5.1. */
const synth_variable synth_variables[SYNTH_NVARS] = {
    {"sst", "K", "Sea surface temperature", 285.0, 300.0},
    {"sp", "Pa", "Surface pressure", 98260.0, 103788.0},
    {"sshf", "J m**-2", "Surface sensible heat flux", -674528.0, 200024.0},
    {"slhf", "J m**-2", "Surface latent heat flux", -1840906.0, 90131.0},
    {"t2m", "K", "2 metre temperature", 281.0, 299.0},
    {"u10", "m s**-1", "10 metre U wind component", -16.0, 19.0},
    {"v10", "m s**-1", "10 metre V wind component", -15.0, 16.0},
};
enum { SST, SP, SSHF, SLHF, T2M, U10, V10 };

/* Amplitudes of the terms of synth.h, in the variable's units.  Chosen for a
 * subtropical North-East Atlantic box: SST and 2 m temperature peak in late
 * summer, heat losses (negative fluxes, ECMWF sign convention: downward
 * positive) are largest in winter, westerlies are strongest in winter.  The
 * seasonal cycle is larger than a regime anomaly, as in the real data, where
 * the seasons are what clustering the raw fields finds first.  The sum of
 * the terms stays inside the paper's range except in rare tails, which
 * synth_limit squeezes in. */
typedef struct {
    double mean;
    double clim;          /* amplitude of the fixed spatial structure */
    double season;        /* amplitude of the annual harmonic (times 0.5 .. 1.5 in space) */
    double season_peak;   /* day of year of its maximum (shifted by -15 .. +15 days in space) */
    double season2;       /* amplitude of the semi-annual harmonic */
    double season2_peak;  /* day of year of one of its maxima */
    double trend;         /* linear trend per decade, zero on 2000-01-01 */
    double regime;        /* amplitude of a regime pattern (max |pattern| = 1) */
    double diurnal;       /* amplitude of the daily harmonic (sub-daily steps only) */
    double diurnal_peak;  /* UTC hour of its maximum */
} synth_physics;

static const synth_physics physics[SYNTH_NVARS] = {
    /* mean      clim     season  peak  season2 peak trend  regime   diurnal peak */
    {292.5, 2.0, 2.5, 235, 0.5, 60, 0.15, 1.0, 0.1, 15},                          /* sst */
    {101200.0, 300.0, 500.0, 200, 200.0, 20, 0.0, 1000.0, 0.0, 0},               /* sp */
    {-150000.0, 40000.0, 90000.0, 200, 25000.0, 40, 0.0, 100000.0, 30000.0, 15}, /* sshf */
    {-550000.0, 80000.0, 180000.0, 200, 50000.0, 40, 0.0, 200000.0, 40000.0, 15}, /* slhf */
    {290.5, 1.5, 3.0, 225, 0.6, 50, 0.2, 1.5, 1.0, 15},                           /* t2m */
    {2.0, 1.5, 2.0, 15, 0.6, 80, 0.0, 5.0, 0.3, 15},                              /* u10 */
    {0.5, 1.0, 1.5, 100, 0.5, 10, 0.0, 5.0, 0.3, 9},                              /* v10 */
};

/* Azores islands (latitude, longitude, radius in degrees): SST is missing on
 * the grid cells they cover, as over land in ERA5. */
static const double islands[][3] = {
    {37.80, -25.75, 0.15}, {37.78, -25.30, 0.15}, /* Sao Miguel */
    {38.72, -27.22, 0.15},                         /* Terceira */
    {38.47, -28.33, 0.17},                         /* Pico */
    {38.58, -28.70, 0.10},                         /* Faial */
    {38.65, -28.05, 0.12},                         /* Sao Jorge */
    {39.05, -28.00, 0.06},                         /* Graciosa */
    {36.97, -25.10, 0.08},                         /* Santa Maria */
};

/* ---- random numbers ------------------------------------------------------
 * Counter-based (rng.h: rng_counter): the number for (seed, stream, a, n)
 * needs no state, so any rank computes any day. */
enum { STREAM_REGIME = 1, STREAM_PATTERN = 2, STREAM_NOISE = 3, STREAM_EPISODE = 4, STREAM_SEASON = 5 };

/* ---- options ------------------------------------------------------------ */

void synth_options_default(synth_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->output_dir = "sample";
    opt->year_first = 2001;
    opt->year_last = 2003;
    opt->nlat = 41;
    opt->nlon = 41;
    opt->resolution = 0.25;
    opt->lat_north = 45.0;
    opt->lon_west = -30.0;
    for (int v = 0; v < SYNTH_NVARS; v++) opt->use_var[v] = 1;
    opt->regimes = 7;
    opt->noise = 1.2;
    opt->persistence = 5.0;
    opt->seed = 42;
    opt->steps_per_day = 1;
    opt->encoding = SYNTH_LEGACY;
}

int synth_parse_vars(const char *list, int use[SYNTH_NVARS])
{
    for (int v = 0; v < SYNTH_NVARS; v++) use[v] = 0;
    const char *s = list;
    int n = 0;
    while (1) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        int found = -1;
        for (int v = 0; v < SYNTH_NVARS; v++)
            if (strlen(synth_variables[v].name) == len && strncmp(synth_variables[v].name, s, len) == 0) found = v;
        if (found < 0)
            return dsc_fail("dsc synth: option --vars: unknown variable '%.*s'; choose from sst,sp,sshf,slhf,t2m,u10,v10",
                            (int)len, s);
        if (use[found]) return dsc_fail("dsc synth: option --vars: variable '%s' is listed twice", synth_variables[found].name);
        use[found] = 1;
        n++;
        if (!comma) break;
        s = comma + 1;
    }
    return n > 0 ? DSC_OK : dsc_fail("dsc synth: option --vars: no variable given; choose from sst,sp,sshf,slhf,t2m,u10,v10");
}

int synth_options_check(const synth_options *opt)
{
    if (!opt->output_dir || !opt->output_dir[0]) return dsc_fail("dsc synth: option --output: empty directory name");
    if (opt->year_first < 1900 || opt->year_last > 2200)
        return dsc_fail("dsc synth: option --years: %d-%d is outside 1900-2200", opt->year_first, opt->year_last);
    if (opt->year_first > opt->year_last)
        return dsc_fail("dsc synth: option --years: %d-%d ends before it starts; give FIRST-LAST with FIRST <= LAST",
                        opt->year_first, opt->year_last);
    if (opt->nlat < 2 || opt->nlon < 2 || opt->nlat > 4096 || opt->nlon > 4096)
        return dsc_fail("dsc synth: option --grid: %dx%d is not a grid of 2x2 to 4096x4096 cells", opt->nlat, opt->nlon);
    if (!(opt->resolution > 0.0) || opt->resolution > 10.0)
        return dsc_fail("dsc synth: option --resolution: %g is outside (0, 10] degrees", opt->resolution);
    if (opt->lat_north - (opt->nlat - 1) * opt->resolution < -90.0 || opt->lat_north > 90.0)
        return dsc_fail("dsc synth: option --grid: %d latitudes at %g degrees from %gN reach beyond the South Pole; use "
                        "fewer latitudes or a finer --resolution", opt->nlat, opt->resolution, opt->lat_north);
    if ((opt->nlon - 1) * opt->resolution >= 360.0)
        return dsc_fail("dsc synth: option --grid: %d longitudes at %g degrees go round the Earth; use fewer longitudes "
                        "or a finer --resolution", opt->nlon, opt->resolution);
    int nvars = 0;
    for (int v = 0; v < SYNTH_NVARS; v++) nvars += opt->use_var[v] != 0;
    if (nvars == 0) return dsc_fail("dsc synth: option --vars: no variable selected");
    if (opt->regimes < 1 || opt->regimes > 100) return dsc_fail("dsc synth: option --regimes: %d is outside [1, 100]", opt->regimes);
    if (!(opt->noise >= 0.0) || opt->noise > 100.0) return dsc_fail("dsc synth: option --noise: %g is outside [0, 100]", opt->noise);
    if (!(opt->persistence >= 1.0) || opt->persistence > 1e6)
        return dsc_fail("dsc synth: option --persistence: %g days is outside [1, 1e6]", opt->persistence);
    if (opt->steps_per_day < 1 || opt->steps_per_day > 24 || 24 % opt->steps_per_day != 0)
        return dsc_fail("dsc synth: option --steps-per-day: %d does not divide 24 (use 1, 2, 3, 4, 6, 8, 12 or 24)",
                        opt->steps_per_day);
    if (opt->encoding != SYNTH_LEGACY && opt->encoding != SYNTH_CDF5 && opt->encoding != SYNTH_NEWCDS)
        return dsc_fail("dsc synth: option --encoding: unknown encoding; use legacy, cdf5 or newcds");
    if (opt->encoding == SYNTH_NEWCDS && !nc_file_have_netcdf4())
        return dsc_fail("dsc synth: option --encoding newcds: this dsc was built without netcdf-c's parallel API, "
                        "which writes netCDF-4; use --encoding legacy or cdf5, or rebuild (doc/install.md)");
    return DSC_OK;
}

/* ---- calendar ------------------------------------------------------------ */

/* Days from 1900-01-01 to 1 January of year. */
static long long day_of_year_start(int year)
{
    dsc_datetime t = {year, 1, 1, 0, 0, 0};
    return (long long)llround(datetime_to_hours(&t) / 24.0);
}

static int days_in_year(int year) { return (int)(day_of_year_start(year + 1) - day_of_year_start(year)); }

static const char *encoding_name(synth_encoding e)
{
    return e == SYNTH_LEGACY ? "legacy" : e == SYNTH_CDF5 ? "cdf5" : "newcds";
}

/* The new CDS's GRIB step type of a variable: the fluxes are accumulated. */
static int is_accum(int v) { return v == 2 || v == 3; } /* sshf, slhf */

/* The files of one year (names[k] holds 32 bytes): era5_YYYY.nc, or for
 * newcds era5_YYYY_instant.nc and era5_YYYY_accum.nc (those with
 * variables); returns their number. */
static int year_files(const synth_options *opt, int year, char names[2][32])
{
    if (opt->encoding != SYNTH_NEWCDS) {
        snprintf(names[0], 32, "era5_%04d.nc", year);
        return 1;
    }
    int n = 0, instant = 0, accum = 0;
    for (int v = 0; v < SYNTH_NVARS; v++)
        if (opt->use_var[v]) {
            accum |= is_accum(v);
            instant |= !is_accum(v);
        }
    if (instant) snprintf(names[n++], 32, "era5_%04d_instant.nc", year);
    if (accum) snprintf(names[n++], 32, "era5_%04d_accum.nc", year);
    return n;
}

long long synth_count_days(int year_first, int year_last)
{
    return day_of_year_start(year_last + 1) - day_of_year_start(year_first);
}

/* Fraction of the year at absolute day `day`, 0 on 1 January 1900: the
 * seasonal terms use it rather than the calendar day of year so that they run
 * on smoothly across the end of a leap year. */
static double year_phase(long long day)
{
    double t = (double)day / YEAR_DAYS;
    return t - floor(t);
}

/* Seasonal preference of every regime: weight 1 + amp_k cos(2 pi (phase -
 * peak_k)).  Even regimes peak in winter, odd ones in summer (as the
 * North-Atlantic regimes, some of which are rare in one season), with a
 * strength and a date of their own so that no two are alike. */
static void regime_seasons(double *amp /* (K) */, double *peak /* (K) */, const synth_options *opt)
{
    for (int k = 0; k < opt->regimes; k++) {
        rng_counter g = {opt->seed, STREAM_SEASON, (uint64_t)k, 0};
        amp[k] = 0.3 + 0.3 * rng_counter_uniform(&g);
        peak[k] = (k % 2 == 0 ? 15.0 : 197.0) / YEAR_DAYS + 0.1 * (rng_counter_uniform(&g) - 0.5);
    }
}

/* A new episode starts on day d (d > 0) with probability 1/persistence, so
 * episodes last persistence days on average.  One hash: the lookahead of the
 * ramp costs little. */
static int episode_starts(const synth_options *opt, long long d)
{
    rng_counter g = {opt->seed, STREAM_REGIME, (uint64_t)d, 0};
    return d > 0 && rng_counter_uniform(&g) >= 1.0 - 1.0 / opt->persistence;
}

/* Intensity of the episode starting on day `start`: lognormal with mean 1,
 * so most episodes are near the pattern amplitude and some are weak (about
 * one in seven below 0.7 of it) or strong. */
static double episode_intensity(const synth_options *opt, long long start)
{
    rng_counter g = {opt->seed, STREAM_EPISODE, (uint64_t)start, 0};
    return exp(EPISODE_SIGMA * rng_counter_normal(&g) - 0.5 * EPISODE_SIGMA * EPISODE_SIGMA);
}

/* Regime chain: on the first day of an episode the regime jumps to one of
 * the other K - 1 regimes with probabilities proportional to their seasonal
 * weights on that day (with K = 1 a new episode keeps the regime but gets
 * its own intensity).  Within an episode of intensity a the regime anomaly
 * is a * min(1, (j + 1/2) / R, (l + 1/2) / R) on its day j with l days
 * left, R = RAMP_DAYS: with R = 1 its first and last days are at half
 * strength, so it builds up and dies away instead of switching on and off.
 * Sequential from 1900-01-01 on every rank (about 10^5 hashes, negligible
 * next to the fields); the ramp looks ahead past the last day requested, so
 * that day does not change a day's value. */
int synth_regime_sequence(int *regime, double *strength, const synth_options *opt)
{
    long long first = day_of_year_start(opt->year_first);
    long long ndays = synth_count_days(opt->year_first, opt->year_last);
    int K = opt->regimes;
    const int lookahead = (int)ceil(RAMP_DAYS - 0.5);
    double amp[MAX_REGIMES], peak[MAX_REGIMES], w[MAX_REGIMES];
    regime_seasons(amp, peak, opt);
    int r = (int)(rng_hash4(opt->seed, STREAM_REGIME, 0, 1) % (uint64_t)K);
    long long start = 0;
    double a = episode_intensity(opt, 0);
    for (long long d = 0; d < first + ndays; d++) {
        if (episode_starts(opt, d)) {
            start = d;
            a = episode_intensity(opt, d);
            if (K > 1) {
                double ph = year_phase(d), total = 0.0;
                for (int k = 0; k < K; k++) {
                    w[k] = k == r ? 0.0 : 1.0 + amp[k] * cos(2.0 * PI * (ph - peak[k]));
                    total += w[k];
                }
                rng_counter g = {opt->seed, STREAM_REGIME, (uint64_t)d, 1};
                double u = rng_counter_uniform(&g) * total;
                int next = -1;
                for (int k = 0; k < K; k++) {
                    if (w[k] <= 0.0) continue;
                    next = k; /* the last regime with weight takes any rounding left over */
                    if (u < w[k]) break;
                    u -= w[k];
                }
                r = next;
            }
        }
        if (d < first) continue;
        regime[d - first] = r;
        if (strength) {
            int left = 0;
            while (left < lookahead && !episode_starts(opt, d + 1 + left)) left++;
            double up = (double)(d - start) + 0.5, down = left + 0.5;
            strength[d - first] = a * fmin(1.0, fmin(up, down) / RAMP_DAYS);
        }
    }
    return DSC_OK;
}

/* ---- the model ------------------------------------------------------------ */

typedef struct {
    int nlat, nlon, K;
    double *xs;          // (X) 0 (west) .. 1 (east)
    double *ys;          // (Y) 1 (north) .. 0 (south): row 0 is the northernmost
    double *clim;        // (V, Y, X) fixed spatial structure, about [-1, 1]
    double *pattern;     // (K, V, Y, X) regime anomaly patterns, max |.| = 1 per variable
    double *season;      // (V, 4, Y, X) seasonal cycle: annual cos, sin, semi-annual cos, sin coefficients
    unsigned char *land; // (Y, X) 1: SST missing
    double *wave_x;      // (M, 2, X) scratch: cos, sin of the x part of each noise wave
    double *wave_y;      // (M, 2, Y) scratch: amplitude * cos, sin of the y part
    double *eta;         // (Y, X) scratch: one day's innovation of the red noise
    double *red;         // (V, Y, X) red noise of every variable on day red_day[v]
    long long red_day[SYNTH_NVARS]; // -1: red[v] holds no day yet
    double *scratch;     // (6, Y, X) pattern construction
} synth_model;

static void field_normalise(double *f /* (Y, X) */, int n)
{
    double m = 0.0;
    for (int c = 0; c < n; c++) m = fmax(m, fabs(f[c]));
    if (m > 0.0)
        for (int c = 0; c < n; c++) f[c] /= m;
}

/* f = sum of nblobs Gaussian highs and lows plus a plane gradient, with its
 * analytic derivatives (dfdx, dfdy may be NULL). */
static void blob_field(double *f, double *dfdx, double *dfdy, const synth_model *m, rng_counter *g, int nblobs,
                       double wmin, double wmax)
{
    double gx = 0.5 * rng_counter_normal(g), gy = 0.5 * rng_counter_normal(g);
    for (int i = 0; i < m->nlat; i++)
        for (int j = 0; j < m->nlon; j++) {
            int c = i * m->nlon + j;
            f[c] = gx * (m->xs[j] - 0.5) + gy * (m->ys[i] - 0.5);
            if (dfdx) dfdx[c] = gx;
            if (dfdy) dfdy[c] = gy;
        }
    for (int b = 0; b < nblobs; b++) {
        double x0 = -0.1 + 1.2 * rng_counter_uniform(g), y0 = -0.1 + 1.2 * rng_counter_uniform(g);
        double w = wmin + (wmax - wmin) * rng_counter_uniform(g);
        double a = (0.5 + 0.5 * rng_counter_uniform(g)) * (rng_counter_uniform(g) < 0.5 ? -1.0 : 1.0);
        for (int i = 0; i < m->nlat; i++)
            for (int j = 0; j < m->nlon; j++) {
                int c = i * m->nlon + j;
                double dx = m->xs[j] - x0, dy = m->ys[i] - y0;
                double e = a * exp(-(dx * dx + dy * dy) / (2.0 * w * w));
                f[c] += e;
                if (dfdx) dfdx[c] -= e * dx / (w * w);
                if (dfdy) dfdy[c] -= e * dy / (w * w);
            }
    }
}

/* The pattern of one regime (attempt t) in out (V, Y, X).  The pressure
 * anomaly is a few highs and lows; the winds are geostrophic to it
 * (u ~ -dp/dy, v ~ dp/dx in the northern hemisphere); 2 m temperature follows
 * the meridional wind (southerlies bring warm air), SST follows 2 m
 * temperature, the heat fluxes follow the air-sea temperature contrast; each
 * variable adds a structure of its own so no two are proportional. */
static void regime_pattern(double *out, const synth_model *m, uint64_t seed, int k, int t)
{
    int n = m->nlat * m->nlon;
    double *p = m->scratch, *px = p + n, *py = px + n, *own = py + n;
    rng_counter g = {seed, STREAM_PATTERN, (uint64_t)k * 64 + (uint64_t)t, 0};
    double *f[SYNTH_NVARS];
    for (int v = 0; v < SYNTH_NVARS; v++) f[v] = out + (size_t)v * n;

    blob_field(p, px, py, m, &g, 3, 0.15, 0.35);
    for (int c = 0; c < n; c++) {
        f[SP][c] = p[c];
        f[U10][c] = -py[c];
        f[V10][c] = px[c];
    }
    field_normalise(f[SP], n);
    field_normalise(f[U10], n);
    field_normalise(f[V10], n);
    blob_field(own, NULL, NULL, m, &g, 2, 0.2, 0.4);
    field_normalise(own, n);
    for (int c = 0; c < n; c++) f[T2M][c] = 0.6 * f[V10][c] + 0.4 * own[c];
    field_normalise(f[T2M], n);
    blob_field(own, NULL, NULL, m, &g, 2, 0.3, 0.5);
    field_normalise(own, n);
    for (int c = 0; c < n; c++) f[SST][c] = 0.5 * f[T2M][c] + 0.5 * own[c];
    field_normalise(f[SST], n);
    blob_field(own, NULL, NULL, m, &g, 2, 0.2, 0.4);
    field_normalise(own, n);
    for (int c = 0; c < n; c++) f[SSHF][c] = 0.7 * (f[T2M][c] - 0.5 * f[SST][c]) + 0.3 * own[c];
    field_normalise(f[SSHF], n);
    blob_field(own, NULL, NULL, m, &g, 2, 0.2, 0.4);
    field_normalise(own, n);
    for (int c = 0; c < n; c++) f[SLHF][c] = 0.6 * f[SSHF][c] + 0.4 * own[c];
    field_normalise(f[SLHF], n);
}

static double cosine(const double *a, const double *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t c = 0; c < n; c++) {
        ab += a[c] * b[c];
        aa += a[c] * a[c];
        bb += b[c] * b[c];
    }
    return (aa > 0 && bb > 0) ? ab / sqrt(aa * bb) : 0.0;
}

static void synth_model_destroy(synth_model *m)
{
    free(m->xs);
    free(m->ys);
    free(m->clim);
    free(m->pattern);
    free(m->season);
    free(m->land);
    free(m->wave_x);
    free(m->wave_y);
    free(m->eta);
    free(m->red);
    free(m->scratch);
    memset(m, 0, sizeof *m);
}

static int synth_model_create(synth_model *m, const synth_options *opt)
{
    memset(m, 0, sizeof *m);
    int Y = opt->nlat, X = opt->nlon, K = opt->regimes;
    size_t n = (size_t)Y * X, nv = (size_t)SYNTH_NVARS * n;
    m->nlat = Y;
    m->nlon = X;
    m->K = K;
    m->xs = dsc_malloc(X * sizeof(double), "synth grid");
    m->ys = dsc_malloc(Y * sizeof(double), "synth grid");
    m->clim = dsc_malloc(nv * sizeof(double), "synth climatology");
    m->pattern = dsc_malloc((size_t)K * nv * sizeof(double), "synth regime patterns");
    m->land = dsc_calloc(n, 1, "synth land mask");
    m->wave_x = dsc_malloc((size_t)NOISE_WAVES * 2 * X * sizeof(double), "synth noise");
    m->wave_y = dsc_malloc((size_t)NOISE_WAVES * 2 * Y * sizeof(double), "synth noise");
    m->season = dsc_malloc(4 * nv * sizeof(double), "synth seasonal cycle");
    m->eta = dsc_malloc(n * sizeof(double), "synth noise");
    m->red = dsc_malloc(nv * sizeof(double), "synth noise");
    m->scratch = dsc_malloc(6 * n * sizeof(double), "synth scratch");
    if (!m->xs || !m->ys || !m->clim || !m->pattern || !m->season || !m->land || !m->wave_x || !m->wave_y || !m->eta ||
        !m->red || !m->scratch) {
        synth_model_destroy(m);
        return DSC_ERR;
    }
    for (int j = 0; j < X; j++) m->xs[j] = (double)j / (X - 1);
    for (int i = 0; i < Y; i++) m->ys[i] = 1.0 - (double)i / (Y - 1);

    /* Climatology: warmer to the south, the Azores high south of the box
     * centre, westerlies strengthening northward, heat losses growing to the
     * north-west. */
    for (int i = 0; i < Y; i++)
        for (int j = 0; j < X; j++) {
            size_t c = (size_t)i * X + j;
            double x = m->xs[j], y = m->ys[i];
            double high = exp(-((x - 0.6) * (x - 0.6) + (y - 0.3) * (y - 0.3)) / (2 * 0.4 * 0.4));
            m->clim[SST * n + c] = 2.0 * (0.5 - y);
            m->clim[SP * n + c] = 2.0 * high - 1.0;
            m->clim[SSHF * n + c] = (0.5 - y) + 0.5 * (x - 0.5);
            m->clim[SLHF * n + c] = (0.5 - y) + 0.5 * (x - 0.5);
            m->clim[T2M * n + c] = 2.0 * (0.5 - y);
            m->clim[U10 * n + c] = 2.0 * (y - 0.5);
            m->clim[V10 * n + c] = 2.0 * (x - 0.5);
        }
    for (int v = 0; v < SYNTH_NVARS; v++) m->red_day[v] = -1;

    /* Seasonal cycle with a structure in space, as over a coast: kappa goes
     * from 0 over the open ocean (south-west) to 1 towards the continent
     * (north-east), with a bulge in the north-east corner.  The annual
     * harmonic is three times as large and 30 days earlier where kappa = 1
     * than where kappa = 0 (the sea lags and damps the seasons); the semi-annual harmonic varies the other way and drifts in
     * phase from west to east.  The phase shifts are folded into cos / sin
     * coefficients so a day costs two trigonometric calls per variable. */
    for (int i = 0; i < Y; i++)
        for (int j = 0; j < X; j++) {
            size_t c = (size_t)i * X + j;
            double x = m->xs[j], y = m->ys[i];
            double bulge = exp(-((x - 0.85) * (x - 0.85) + (y - 0.75) * (y - 0.75)) / (2 * 0.2 * 0.2));
            double kappa = fmin(1.0, fmax(0.0, 0.1 + 0.45 * y + 0.25 * x + 0.35 * bulge));
            double a1 = 0.5 + kappa, shift1 = 15.0 - 30.0 * kappa;
            double a2 = 1.4 - 0.8 * kappa, shift2 = 20.0 * (x - 0.5);
            for (int v = 0; v < SYNTH_NVARS; v++) {
                const synth_physics *p = &physics[v];
                double *sc = m->season + (size_t)v * 4 * n;
                double ph1 = 2.0 * PI * (p->season_peak + shift1) / YEAR_DAYS;
                double ph2 = 4.0 * PI * (p->season2_peak + shift2) / YEAR_DAYS;
                sc[c] = p->season * a1 * cos(ph1);
                sc[n + c] = p->season * a1 * sin(ph1);
                sc[2 * n + c] = p->season2 * a2 * cos(ph2);
                sc[3 * n + c] = p->season2 * a2 * sin(ph2);
            }
        }

    /* Regime patterns, redrawn (deterministically) while too similar to an
     * earlier one, so that the K regimes are distinct states. */
    for (int k = 0; k < K; k++) {
        double *pk = m->pattern + (size_t)k * nv;
        for (int t = 0; t < 64; t++) {
            regime_pattern(pk, m, opt->seed, k, t);
            double worst = 0.0;
            for (int l = 0; l < k; l++) worst = fmax(worst, cosine(pk, m->pattern + (size_t)l * nv, nv));
            if (worst < 0.6) break;
        }
    }

    /* Land: the cells near an island; at least one cell so SST always has
     * missing values (the one nearest to Sao Miguel when no island is in
     * the box). */
    int nland = 0;
    for (int i = 0; i < Y; i++)
        for (int j = 0; j < X; j++) {
            double lat = opt->lat_north - i * opt->resolution, lon = opt->lon_west + j * opt->resolution;
            for (size_t s = 0; s < sizeof islands / sizeof islands[0]; s++) {
                double dy = lat - islands[s][0], dx = (lon - islands[s][1]) * cos(islands[s][0] * PI / 180.0);
                double r = fmax(islands[s][2], 0.5 * opt->resolution);
                if (dx * dx + dy * dy < r * r) m->land[(size_t)i * X + j] = 1;
            }
            nland += m->land[(size_t)i * X + j];
        }
    if (nland == 0) {
        long i = lround((opt->lat_north - islands[0][0]) / opt->resolution);
        long j = lround((islands[0][1] - opt->lon_west) / opt->resolution);
        i = i < 0 ? 0 : (i >= Y ? Y - 1 : i);
        j = j < 0 ? 0 : (j >= X ? X - 1 : j);
        m->land[(size_t)i * X + j] = 1;
    }
    return DSC_OK;
}

/* c[i] = a cos(p0 + i dp), s[i] = a sin(p0 + i dp) by rotation (two
 * trigonometric calls per table instead of two per cell; the recurrence
 * loses about 1e-16 per step). */
static void wave_table(double *c, double *s, int n, double p0, double dp, double a)
{
    double cd = cos(dp), sd = sin(dp), cc = cos(p0), ss = sin(p0);
    for (int i = 0; i < n; i++) {
        c[i] = a * cc;
        s[i] = a * ss;
        double t = cc * cd - ss * sd;
        ss = ss * cd + cc * sd;
        cc = t;
    }
}

/* eta(y, x) = sqrt(2/M) sum_m a_m cos(2 pi (kx_m x + ky_m y) + phi_m), a_m
 * standard normal, |k| <= 2 waves per box: smooth noise of unit variance at
 * every cell, the same for (seed, day, variable) on every rank.  The cosine
 * of a sum is split into x and y parts, so a cell costs 4 flops per wave. */
static void noise_field(double *eta /* (Y, X) */, synth_model *m, uint64_t seed, long long day, int v)
{
    int Y = m->nlat, X = m->nlon;
    rng_counter g = {seed, STREAM_NOISE, (uint64_t)day * 16 + (uint64_t)v, 0};
    double norm = sqrt(2.0 / NOISE_WAVES);
    for (int w = 0; w < NOISE_WAVES; w++) {
        double a = norm * rng_counter_normal(&g);
        double kx = -2.0 + 4.0 * rng_counter_uniform(&g), ky = -2.0 + 4.0 * rng_counter_uniform(&g);
        double phi = 2.0 * PI * rng_counter_uniform(&g);
        double *cx = m->wave_x + (size_t)w * 2 * X, *sx = cx + X;
        double *cy = m->wave_y + (size_t)w * 2 * Y, *sy = cy + Y;
        wave_table(cx, sx, X, phi, 2.0 * PI * kx / (X - 1), 1.0);
        /* ys runs from 1 down to 0 */
        wave_table(cy, sy, Y, 2.0 * PI * ky, -2.0 * PI * ky / (Y - 1), a);
    }
    for (int i = 0; i < Y; i++) {
        double *row = eta + (size_t)i * X;
        for (int j = 0; j < X; j++) row[j] = 0.0;
        for (int w = 0; w < NOISE_WAVES; w++) {
            const double *cx = m->wave_x + (size_t)w * 2 * X, *sx = cx + X;
            const double *cy = m->wave_y + (size_t)w * 2 * Y, *sy = cy + Y;
            for (int j = 0; j < X; j++) row[j] += cy[i] * cx[j] - sy[i] * sx[j];
        }
    }
}

/* Keeps x inside (lo, hi): identity on the inner 90% of the range, an
 * exponential approach to the bounds outside it (continuous with a
 * continuous slope). */
static double synth_limit(double x, double lo, double hi)
{
    const double e = 0.05;
    double w = hi - lo, t = (x - lo) / w;
    if (t < e) t = e * exp((t - e) / e);
    else if (t > 1.0 - e) t = 1.0 - e * exp(-(t - (1.0 - e)) / e);
    return lo + w * t;
}

/* Red noise of variable v on absolute day `day`: the AR(1) process
 * x_d = phi x_{d-1} + sqrt(1 - phi^2) eta_d of the smooth unit fields eta,
 * so x has unit variance and lag-1 autocorrelation phi.  To need no history,
 * the recursion restarts on every day r that is a multiple of NOISE_RESTART
 * from x_r = sqrt(1 - phi^2) sum_{j < NOISE_WINDOW} phi^j eta_{r-j}; the
 * value of a day is then the same sequence of operations whichever rank
 * computes it and whatever day it started from, at the cost of about one
 * extra field a day.  Days are asked for in increasing order per variable,
 * so the state of the previous day is usually at hand. */
static const double *red_noise(synth_model *m, uint64_t seed, int v, long long day)
{
    size_t n = (size_t)m->nlat * m->nlon;
    double *x = m->red + (size_t)v * n;
    const double c = sqrt(1.0 - NOISE_PHI * NOISE_PHI);
    long long r = day - day % NOISE_RESTART;
    if (m->red_day[v] < r || m->red_day[v] > day) {
        double w = c;
        for (size_t k = 0; k < n; k++) x[k] = 0.0;
        for (int j = 0; j < NOISE_WINDOW; j++) {
            noise_field(m->eta, m, seed, r - j, v);
            for (size_t k = 0; k < n; k++) x[k] += w * m->eta[k];
            w *= NOISE_PHI;
        }
        m->red_day[v] = r;
    }
    for (long long t = m->red_day[v] + 1; t <= day; t++) {
        noise_field(m->eta, m, seed, t, v);
        for (size_t k = 0; k < n; k++) x[k] = NOISE_PHI * x[k] + c * m->eta[k];
    }
    m->red_day[v] = day;
    return x;
}

/* Daily part of variable v on absolute day `day` (from 1900-01-01), in the
 * regime `regime` at strength `strength` (the episode's intensity times its
 * ramp). */
static void day_field(double *out /* (Y, X) */, synth_model *m, const synth_options *opt, int v, long long day,
                      int regime, double strength)
{
    const synth_physics *p = &physics[v];
    size_t n = (size_t)m->nlat * m->nlon;
    const double *clim = m->clim + v * n;
    const double *pat = m->pattern + ((size_t)regime * SYNTH_NVARS + v) * n;
    const double *sc = m->season + (size_t)v * 4 * n;
    double ph = 2.0 * PI * year_phase(day);
    double c1 = cos(ph), s1 = sin(ph), c2 = cos(2.0 * ph), s2 = sin(2.0 * ph);
    double base = p->mean + p->trend * (double)(day - TREND_ORIGIN) / (10.0 * YEAR_DAYS);
    const double *eta = red_noise(m, opt->seed, v, day);
    for (size_t c = 0; c < n; c++) {
        /* cos(ph - phase_c) = cos ph cos phase_c + sin ph sin phase_c */
        double season = c1 * sc[c] + s1 * sc[n + c] + c2 * sc[2 * n + c] + s2 * sc[3 * n + c];
        out[c] = synth_limit(base + p->clim * clim[c] + season + p->regime * (strength * pat[c] + opt->noise * eta[c]),
                             synth_variables[v].lo, synth_variables[v].hi);
    }
}

int synth_red_noise(double *out, const synth_options *opt, int var, long long day0, long long ndays)
{
    if (var < 0 || var >= SYNTH_NVARS || day0 < 0 || ndays < 0)
        return dsc_fail("synth_red_noise: variable %d or days %lld + %lld out of range", var, day0, ndays);
    synth_model m;
    if (synth_model_create(&m, opt) != DSC_OK) return DSC_ERR;
    size_t n = (size_t)opt->nlat * opt->nlon;
    for (long long d = 0; d < ndays; d++)
        memcpy(out + (size_t)d * n, red_noise(&m, opt->seed, var, day0 + d), n * sizeof(double));
    synth_model_destroy(&m);
    return DSC_OK;
}

/* Step s of a day: the daily value x plus a diurnal harmonic whose
 * amplitude shrinks near the bounds of the range.  The harmonic sums to zero
 * over the steps of a day, so the daily mean of a sub-daily file is exactly
 * the value of the daily file, and every step stays inside the range. */
static double step_phase(int v, int s, int steps_per_day)
{
    if (steps_per_day == 1) return 0.0;
    double hour = 24.0 * s / steps_per_day;
    return cos(2.0 * PI * (hour - physics[v].diurnal_peak) / 24.0);
}

static double step_value(double x, int v, double phase)
{
    if (phase == 0.0) return x;
    double room = 0.9 * fmin(x - synth_variables[v].lo, synth_variables[v].hi - x);
    return x + phase * fmin(physics[v].diurnal, room);
}

/* ---- writing ------------------------------------------------------------- */

typedef struct {
    double scale[SYNTH_NVARS], offset[SYNTH_NVARS];
} synth_packing;

#define NC_TRY(call, path)                                                                                  \
    do {                                                                                                    \
        int nc_err_ = (call);                                                                               \
        if (nc_err_ != NC_NOERR)                                                                            \
            return dsc_fail("%s: %s; check that the output directory is writable and has space", (path), \
                            ncmpi_strerror(nc_err_));                                                       \
    } while (0)

static int put_text(int ncid, int varid, const char *name, const char *text, const char *path)
{
    NC_TRY(ncmpi_put_att_text(ncid, varid, name, strlen(text), text), path);
    return DSC_OK;
}

/* Defines the file in CDS layout: dimensions longitude, latitude, time
 * (unlimited); coordinate variables; data (time, latitude, longitude). */
static int define_file(int ncid, int *varid /* (2 + 1 + V) */, const synth_options *opt, const synth_packing *pk,
                       const char *path)
{
    int dim_lon, dim_lat, dim_time;
    NC_TRY(ncmpi_def_dim(ncid, "longitude", opt->nlon, &dim_lon), path);
    NC_TRY(ncmpi_def_dim(ncid, "latitude", opt->nlat, &dim_lat), path);
    NC_TRY(ncmpi_def_dim(ncid, "time", NC_UNLIMITED, &dim_time), path);
    NC_TRY(ncmpi_def_var(ncid, "longitude", NC_FLOAT, 1, &dim_lon, &varid[0]), path);
    if (put_text(ncid, varid[0], "units", "degrees_east", path) || put_text(ncid, varid[0], "long_name", "longitude", path))
        return DSC_ERR;
    NC_TRY(ncmpi_def_var(ncid, "latitude", NC_FLOAT, 1, &dim_lat, &varid[1]), path);
    if (put_text(ncid, varid[1], "units", "degrees_north", path) || put_text(ncid, varid[1], "long_name", "latitude", path))
        return DSC_ERR;
    NC_TRY(ncmpi_def_var(ncid, "time", NC_INT, 1, &dim_time, &varid[2]), path);
    if (put_text(ncid, varid[2], "units", "hours since 1900-01-01 00:00:00.0", path) ||
        put_text(ncid, varid[2], "long_name", "time", path) || put_text(ncid, varid[2], "calendar", "gregorian", path))
        return DSC_ERR;
    int dims[3] = {dim_time, dim_lat, dim_lon};
    for (int v = 0; v < SYNTH_NVARS; v++) {
        if (!opt->use_var[v]) continue;
        int id;
        if (opt->encoding == SYNTH_LEGACY) {
            short fill = FILL_SHORT;
            NC_TRY(ncmpi_def_var(ncid, synth_variables[v].name, NC_SHORT, 3, dims, &id), path);
            NC_TRY(ncmpi_put_att_double(ncid, id, "scale_factor", NC_DOUBLE, 1, &pk->scale[v]), path);
            NC_TRY(ncmpi_put_att_double(ncid, id, "add_offset", NC_DOUBLE, 1, &pk->offset[v]), path);
            NC_TRY(ncmpi_put_att_short(ncid, id, "_FillValue", NC_SHORT, 1, &fill), path);
            NC_TRY(ncmpi_put_att_short(ncid, id, "missing_value", NC_SHORT, 1, &fill), path);
        } else {
            float fill = FILL_FLOAT;
            NC_TRY(ncmpi_def_var(ncid, synth_variables[v].name, NC_FLOAT, 3, dims, &id), path);
            NC_TRY(ncmpi_put_att_float(ncid, id, "_FillValue", NC_FLOAT, 1, &fill), path);
            NC_TRY(ncmpi_put_att_float(ncid, id, "missing_value", NC_FLOAT, 1, &fill), path);
        }
        if (put_text(ncid, id, "units", synth_variables[v].units, path) ||
            put_text(ncid, id, "long_name", synth_variables[v].long_name, path))
            return DSC_ERR;
        varid[3 + v] = id;
    }
    /* The history names the content, not the years, the date or the rank
     * count, so a year's file is the same whichever run wrote it. */
    char history[512];
    snprintf(history, sizeof history,
             "dsc synth --grid %dx%d --resolution %g --regimes %d --noise %g --persistence %g --seed %llu "
             "--steps-per-day %d --encoding %s: ERA5-like sample data set",
             opt->nlat, opt->nlon, opt->resolution, opt->regimes, opt->noise, opt->persistence,
             (unsigned long long)opt->seed, opt->steps_per_day, encoding_name(opt->encoding));
    if (put_text(ncid, NC_GLOBAL, "Conventions", "CF-1.6", path) || put_text(ncid, NC_GLOBAL, "history", history, path))
        return DSC_ERR;
    NC_TRY(ncmpi_enddef(ncid), path);
    return DSC_OK;
}

/* Pass 1 of the legacy encoding: packing of every variable from the min/max
 * over the file (this rank's days, then MPI_Allreduce).  ERA5-style packing
 * with the fill kept out of range: add_offset = (max + min) / 2 and
 * scale_factor = (max - min) / (2 * 32766), so packed values lie in
 * -32766..32766 and -32767 is never a value. */
static int year_packing(synth_packing *pk, synth_model *m, double *field /* (Y, X) */, const synth_options *opt,
                        const int *regime, const double *strength, int year, long long d0, long long nd,
                        MPI_Comm comm)
{
    size_t n = (size_t)m->nlat * m->nlon;
    double ext[2 * SYNTH_NVARS]; /* min, -max: one MPI_MIN reduction */
    for (int v = 0; v < SYNTH_NVARS; v++) ext[v] = ext[SYNTH_NVARS + v] = HUGE_VAL;
    long long day0 = day_of_year_start(year);
    for (long long d = d0; d < d0 + nd; d++) {
        for (int v = 0; v < SYNTH_NVARS; v++) {
            if (!opt->use_var[v]) continue;
            day_field(field, m, opt, v, day0 + d, regime[d], strength[d]);
            for (int s = 0; s < opt->steps_per_day; s++) {
                double phase = step_phase(v, s, opt->steps_per_day), lo = HUGE_VAL, hi = -HUGE_VAL;
                for (size_t c = 0; c < n; c++) {
                    if (v == SST && m->land[c]) continue;
                    double x = step_value(field[c], v, phase);
                    lo = x < lo ? x : lo;
                    hi = x > hi ? x : hi;
                }
                ext[v] = fmin(ext[v], lo);
                ext[SYNTH_NVARS + v] = fmin(ext[SYNTH_NVARS + v], -hi);
            }
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, ext, 2 * SYNTH_NVARS, MPI_DOUBLE, MPI_MIN, comm);
    for (int v = 0; v < SYNTH_NVARS; v++) {
        double lo = ext[v], hi = -ext[SYNTH_NVARS + v];
        if (!opt->use_var[v] || !(hi >= lo)) lo = hi = 0.0;
        pk->offset[v] = 0.5 * (hi + lo);
        pk->scale[v] = hi > lo ? (hi - lo) / (2.0 * PACKED_MAX) : 1.0;
    }
    return DSC_OK;
}

/* Writes the fixed coordinates (rank 0; the others join with zero counts);
 * collective.  The times are record data, written with the fields. */
static int write_coordinates(int ncid, const int *varid, const synth_options *opt, int rank, const char *path)
{
    int Y = opt->nlat, X = opt->nlon;
    float *lon = dsc_malloc(X * sizeof(float), "longitudes");
    float *lat = dsc_malloc(Y * sizeof(float), "latitudes");
    int status = DSC_OK;
    if (!lon || !lat) status = DSC_ERR;
    else {
        for (int j = 0; j < X; j++) lon[j] = (float)(opt->lon_west + j * opt->resolution);
        for (int i = 0; i < Y; i++) lat[i] = (float)(opt->lat_north - i * opt->resolution);
    }
    /* Every rank calls each collective; a rank that failed to allocate
     * writes nothing. */
    MPI_Offset start = 0, count = (rank == 0 && status == DSC_OK) ? X : 0;
    int e1 = ncmpi_put_vara_float_all(ncid, varid[0], &start, &count, lon);
    count = (rank == 0 && status == DSC_OK) ? Y : 0;
    int e2 = ncmpi_put_vara_float_all(ncid, varid[1], &start, &count, lat);
    free(lon);
    free(lat);
    if (status == DSC_OK && (e1 != NC_NOERR || e2 != NC_NOERR))
        status = dsc_fail("%s: writing coordinates: %s; check the space left on the device", path,
                          ncmpi_strerror(e1 ? e1 : e2));
    return status;
}

/* Pass 2: computes and writes the days chunk by chunk.  Chunk ch covers the
 * global days [ch*G, (ch+1)*G), split over the ranks (block_range), and each
 * rank writes whole records of its part - the time and every variable,
 * posted as nonblocking requests and written by one collective
 * ncmpi_wait_all.  So every collective write covers one contiguous range of
 * the file completely: MPI-IO never has a hole to fill (with data sieving
 * it would write back whatever its buffer held there), and every byte of
 * the file is a value, whatever the rank count.  Every rank makes the same
 * number of collective calls; status is agreed after each chunk. */
static int write_data(int ncid, const int *varid, synth_model *m, double *field, const synth_options *opt,
                      const synth_packing *pk, const int *regime, const double *strength, int year, long long ndays,
                      MPI_Comm comm, const char *path)
{
    int size, rank;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    int spd = opt->steps_per_day, nv = 0;
    for (int v = 0; v < SYNTH_NVARS; v++) nv += opt->use_var[v] != 0;
    size_t n = (size_t)m->nlat * m->nlon;
    size_t elem = opt->encoding == SYNTH_LEGACY ? sizeof(short) : sizeof(float);
    long long chunk = (long long)(CHUNK_BYTES / (elem * n * spd * (size_t)(nv > 0 ? nv : 1))); /* days per rank */
    if (chunk < 1) chunk = 1;
    long long per_rank = (ndays + size - 1) / size;
    if (chunk > per_rank) chunk = per_rank;
    const long long G = chunk * size, nchunks = (ndays + G - 1) / G;
    const size_t slice = (size_t)chunk * spd * n; /* values of one variable in the buffer */
    void *buf = dsc_malloc(slice * elem * (size_t)(nv > 0 ? nv : 1), "synth write buffer"); // (V, chunk*spd, Y, X)
    int *times = dsc_malloc((size_t)chunk * spd * sizeof(int), "times"); // (chunk*spd)
    int status = dsc_agree(comm, buf && times ? DSC_OK : DSC_ERR);
    if (status != DSC_OK) {
        free(buf);
        free(times);
        return DSC_ERR;
    }
    long long day0 = day_of_year_start(year), h0 = day0 * 24;
    for (long long ch = 0; ch < nchunks && status == DSC_OK; ch++) {
        long long g0 = ch * G, gn = ndays - g0 < G ? ndays - g0 : G, a, nd;
        block_range(gn, size, rank, &a, &nd);
        a += g0; /* this rank's days [a, a + nd) of the year */
        int local = DSC_OK, err;
        for (long long t = 0; t < nd * spd; t++) times[t] = (int)(h0 + 24 * a + t * (24 / spd));
        MPI_Offset start[3] = {a * spd, 0, 0}, count[3] = {nd * spd, m->nlat, m->nlon};
        err = ncmpi_iput_vara_int(ncid, varid[2], start, count, times, NULL);
        if (err != NC_NOERR) local = dsc_fail("%s: writing time: %s", path, ncmpi_strerror(err));
        int slot = 0;
        for (int v = 0; v < SYNTH_NVARS; v++) {
            if (!opt->use_var[v]) continue;
            void *vbuf = (unsigned char *)buf + (size_t)slot++ * slice * elem;
            for (long long d = 0; d < nd; d++) {
                day_field(field, m, opt, v, day0 + a + d, regime[a + d], strength[a + d]);
                for (int s = 0; s < spd; s++) {
                    double phase = step_phase(v, s, spd);
                    size_t base = ((size_t)d * spd + s) * n;
                    for (size_t c = 0; c < n; c++) {
                        int missing = v == SST && m->land[c];
                        double x = step_value(field[c], v, phase);
                        if (opt->encoding == SYNTH_LEGACY) {
                            long p = (long)floor((x - pk->offset[v]) / pk->scale[v] + 0.5);
                            p = p > PACKED_MAX ? PACKED_MAX : (p < -PACKED_MAX ? -PACKED_MAX : p);
                            ((short *)vbuf)[base + c] = missing ? FILL_SHORT : (short)p;
                        } else {
                            ((float *)vbuf)[base + c] = missing ? FILL_FLOAT : (float)x;
                        }
                    }
                }
            }
            err = opt->encoding == SYNTH_LEGACY ? ncmpi_iput_vara_short(ncid, varid[3 + v], start, count, (short *)vbuf, NULL)
                                                : ncmpi_iput_vara_float(ncid, varid[3 + v], start, count, (float *)vbuf, NULL);
            if (err != NC_NOERR && local == DSC_OK)
                local = dsc_fail("%s: writing %s: %s", path, synth_variables[v].name, ncmpi_strerror(err));
        }
        /* collective even after a local failure: the others are waiting */
        err = ncmpi_wait_all(ncid, NC_REQ_ALL, NULL, NULL);
        if (err != NC_NOERR && local == DSC_OK)
            local = dsc_fail("%s: writing the records: %s; check the space left on the device", path, ncmpi_strerror(err));
        status = dsc_agree(comm, local);
    }
    free(buf);
    free(times);
    return status;
}

/* --encoding newcds: one file of one year as the new CDS writes it
 * (cfgrib + xarray): valid_time int64 seconds since 1970, latitude and
 * longitude double with _FillValue NaN, a scalar int64 number, float fields
 * with _FillValue NaN (no packing), zlib level 1 with shuffle, and the
 * string variable expver(valid_time), added afterwards by rank 0 (parallel
 * HDF5 writes no variable-length strings).  accum selects the fluxes
 * (sshf, slhf), else the other variables.  The values equal those of
 * --encoding cdf5.  Writes go chunk by chunk over the ranks as write_data
 * does, every write collective (compressed data need it). */
#define NC4_TRY(call, what)                                                                                            \
    do {                                                                                                           \
        int e_ = (call);                                                                                           \
        if (e_ != 0) return dsc_fail("%s: %s: %s; check the space left on the device", path, what, nc_file_strerror(&nc4, e_)); \
    } while (0)

static int define_newcds(int ncid, int *varid /* (3 + V): lon, lat, time, fields */, const synth_options *opt, int accum,
                         long long nsteps, const char *path)
{
    const nc_file nc4 = {1, ncid};
    const double nan = NAN;
    const float nanf = NAN;
    const long long zero = 0;
    int dim_t, dim_y, dim_x, id;
    NC4_TRY(nc4_file_def_dim(ncid, "valid_time", nsteps, &dim_t), "defining valid_time");
    NC4_TRY(nc4_file_def_dim(ncid, "latitude", opt->nlat, &dim_y), "defining latitude");
    NC4_TRY(nc4_file_def_dim(ncid, "longitude", opt->nlon, &dim_x), "defining longitude");
    NC4_TRY(nc4_file_def_var(ncid, "number", 10 /* NC_INT64 */, 0, NULL, 0, &id), "defining number");
    NC4_TRY(nc4_file_put_att(ncid, id, "long_name", 2, 28, "ensemble member numerical id"), "attributes");
    varid[3 + SYNTH_NVARS] = id;
    NC4_TRY(nc4_file_def_var(ncid, "valid_time", 10, 1, &dim_t, 0, &varid[2]), "defining valid_time");
    NC4_TRY(nc4_file_put_att(ncid, varid[2], "long_name", 2, 4, "time"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[2], "standard_name", 2, 4, "time"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[2], "units", 2, 24, "seconds since 1970-01-01"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[2], "calendar", 2, 19, "proleptic_gregorian"), "attributes");
    NC4_TRY(nc4_file_def_var(ncid, "latitude", 6 /* NC_DOUBLE */, 1, &dim_y, 0, &varid[1]), "defining latitude");
    NC4_TRY(nc4_file_put_att(ncid, varid[1], "_FillValue", 6, 1, &nan), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[1], "units", 2, 13, "degrees_north"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[1], "standard_name", 2, 8, "latitude"), "attributes");
    NC4_TRY(nc4_file_def_var(ncid, "longitude", 6, 1, &dim_x, 0, &varid[0]), "defining longitude");
    NC4_TRY(nc4_file_put_att(ncid, varid[0], "_FillValue", 6, 1, &nan), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[0], "units", 2, 12, "degrees_east"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, varid[0], "standard_name", 2, 9, "longitude"), "attributes");
    int dims[3] = {dim_t, dim_y, dim_x};
    for (int v = 0; v < SYNTH_NVARS; v++) {
        varid[3 + v] = -1;
        if (!opt->use_var[v] || is_accum(v) != accum) continue;
        const synth_variable *sv = &synth_variables[v];
        NC4_TRY(nc4_file_def_var(ncid, sv->name, 5 /* NC_FLOAT */, 3, dims, 1, &varid[3 + v]), "defining a field");
        NC4_TRY(nc4_file_put_att(ncid, varid[3 + v], "_FillValue", 5, 1, &nanf), "attributes");
        NC4_TRY(nc4_file_put_att(ncid, varid[3 + v], "units", 2, (long long)strlen(sv->units), sv->units), "attributes");
        NC4_TRY(nc4_file_put_att(ncid, varid[3 + v], "long_name", 2, (long long)strlen(sv->long_name), sv->long_name),
                "attributes");
    }
    char history[512];
    int n = snprintf(history, sizeof history,
                     "dsc synth --grid %dx%d --resolution %g --regimes %d --noise %g --persistence %g --seed %llu "
                     "--steps-per-day %d --encoding newcds: ERA5-like sample data set",
                     opt->nlat, opt->nlon, opt->resolution, opt->regimes, opt->noise, opt->persistence,
                     (unsigned long long)opt->seed, opt->steps_per_day);
    NC4_TRY(nc4_file_put_att(ncid, -1, "GRIB_centre", 2, 4, "ecmf"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, -1, "Conventions", 2, 6, "CF-1.7"), "attributes");
    NC4_TRY(nc4_file_put_att(ncid, -1, "history", 2, n, history), "attributes");
    NC4_TRY(nc4_file_enddef(ncid), "ending the definitions");
    (void)zero;
    return DSC_OK;
}

/* The coordinates, number, valid_time and fields of a newcds file: the
 * days of the year chunk by chunk, each chunk split over the ranks. */
static int write_newcds_data(int ncid, const int *varid, synth_model *m, double *field, const synth_options *opt,
                             const int *regime, const double *strength, int year, long long ndays, MPI_Comm comm,
                             const char *path)
{
    const nc_file nc4 = {1, ncid};
    int size, rank;
    MPI_Comm_size(comm, &size);
    MPI_Comm_rank(comm, &rank);
    const int spd = opt->steps_per_day, Y = m->nlat, X = m->nlon;
    const size_t n = (size_t)Y * X;
    double *lat = dsc_malloc((size_t)Y * sizeof(double), "latitudes");
    double *lon = dsc_malloc((size_t)X * sizeof(double), "longitudes");
    long long chunk = (long long)(CHUNK_BYTES / (sizeof(float) * n * spd));
    if (chunk < 1) chunk = 1;
    long long per_rank = (ndays + size - 1) / size;
    if (chunk > per_rank) chunk = per_rank;
    float *buf = dsc_malloc((size_t)chunk * spd * n * sizeof(float), "synth write buffer"); /* (chunk*spd, Y, X) */
    long long *times = dsc_malloc((size_t)chunk * spd * sizeof(long long), "times");
    int status = dsc_agree(comm, lat && lon && buf && times ? DSC_OK : DSC_ERR), local = DSC_OK, err;
    if (status == DSC_OK) {
        for (int i = 0; i < Y; i++) lat[i] = (double)(float)(opt->lat_north - i * opt->resolution);
        for (int j = 0; j < X; j++) lon[j] = (double)(float)(opt->lon_west + j * opt->resolution);
        long long start = 0, ny = rank == 0 ? Y : 0, nx = rank == 0 ? X : 0, number = 0;
        if ((err = nc4_file_put_vara_all(ncid, varid[1], 1, &start, &ny, lat)) != 0 ||
            (err = nc4_file_put_vara_all(ncid, varid[0], 1, &start, &nx, lon)) != 0 ||
            (err = nc4_file_put_vara_all(ncid, varid[3 + SYNTH_NVARS], 0, NULL, NULL, &number)) != 0)
            local = dsc_fail("%s: writing the coordinates: %s; check the space left on the device", path,
                             nc_file_strerror(&nc4, err));
        status = dsc_agree(comm, local);
    }
    const long long G = chunk * size, nchunks = (ndays + G - 1) / G;
    const dsc_datetime epoch = {1970, 1, 1, 0, 0, 0};
    const long long day0 = day_of_year_start(year), h0 = day0 * 24 - llround(datetime_to_hours(&epoch));
    for (long long ch = 0; ch < nchunks && status == DSC_OK; ch++) {
        long long g0 = ch * G, gn = ndays - g0 < G ? ndays - g0 : G, a, nd;
        block_range(gn, size, rank, &a, &nd);
        a += g0; /* this rank's days [a, a + nd) of the year */
        for (long long t = 0; t < nd * spd; t++) times[t] = (h0 + 24 * a + t * (24 / spd)) * 3600;
        long long start[3] = {a * spd, 0, 0}, count[3] = {nd * spd, Y, X};
        if ((err = nc4_file_put_vara_all(ncid, varid[2], 1, start, count, times)) != 0 && local == DSC_OK)
            local = dsc_fail("%s: writing valid_time: %s", path, nc_file_strerror(&nc4, err));
        for (int v = 0; v < SYNTH_NVARS; v++) {
            if (varid[3 + v] < 0) continue;
            for (long long d = 0; d < nd; d++) {
                day_field(field, m, opt, v, day0 + a + d, regime[a + d], strength[a + d]);
                for (int s2 = 0; s2 < spd; s2++) {
                    double phase = step_phase(v, s2, spd);
                    size_t base = ((size_t)d * spd + s2) * n;
                    for (size_t c = 0; c < n; c++)
                        buf[base + c] = v == SST && m->land[c] ? NAN : (float)step_value(field[c], v, phase);
                }
            }
            /* collective even after a local failure: the others are waiting */
            if ((err = nc4_file_put_vara_all(ncid, varid[3 + v], 3, start, count, buf)) != 0 && local == DSC_OK)
                local = dsc_fail("%s: writing %s: %s; check the space left on the device", path, synth_variables[v].name,
                                 nc_file_strerror(&nc4, err));
        }
        status = dsc_agree(comm, local);
    }
    free(lat);
    free(lon);
    free(buf);
    free(times);
    return status;
}

/* --encoding newcds: the instant and the accum file of one year, each
 * through a unique temporary name, renamed once complete. */
static int write_year_newcds(synth_model *m, double *field, const synth_options *opt, const int *regime,
                             const double *strength, int year, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char names[2][32];
    const int nf = year_files(opt, year, names);
    const long long ndays = days_in_year(year);
    int status = DSC_OK;
    for (int k = 0; k < nf && status == DSC_OK; k++) {
        const int accum = strstr(names[k], "_accum") != NULL;
        char path[4096], tmp[DSC_PATH_MAX] = "";
        if (snprintf(path, sizeof path, "%s/%s", opt->output_dir, names[k]) >= (int)sizeof path)
            status = dsc_fail("%s: directory name too long", opt->output_dir);
        else if (rank == 0) status = output_temp_name(tmp, sizeof tmp, path);
        MPI_Bcast(tmp, (int)sizeof tmp, MPI_CHAR, 0, comm);
        if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
        int ncid = -1, varid[3 + SYNTH_NVARS + 1];
        const nc_file nc4 = {1, -1};
        int err = nc4_file_create(comm, tmp, &ncid);
        status = err == 0 ? DSC_OK
                          : dsc_fail("%s: cannot create %s: %s; check that the output directory is writable", path, tmp,
                                     nc_file_strerror(&nc4, err));
        if (dsc_agree(comm, status) != DSC_OK) {
            if (rank == 0) unlink(tmp);
            return DSC_ERR;
        }
        status = dsc_agree(comm, define_newcds(ncid, varid, opt, accum, ndays * opt->steps_per_day, path));
        if (status == DSC_OK)
            status = write_newcds_data(ncid, varid, m, field, opt, regime, strength, year, ndays, comm, path);
        const int failed = status != DSC_OK;
        err = nc4_file_close(ncid);
        if (!failed && err != 0)
            status = dsc_fail("%s: closing: %s; check the space left on the device", path, nc_file_strerror(&nc4, err));
        if (!failed) status = dsc_agree(comm, status);
        if (rank == 0) {
            if (status == DSC_OK && (err = nc4_file_add_string_var(tmp, "expver", "valid_time", "0001",
                                                                   "model experiment version")) != 0)
                status = dsc_fail("%s: writing expver: %s; check the space left on the device", path,
                                  nc_file_strerror(&nc4, err));
            if (status == DSC_OK && rename(tmp, path) != 0)
                status = dsc_fail("%s: cannot replace it: %s; remove it or choose another --output", path, strerror(errno));
            if (status != DSC_OK) unlink(tmp);
        }
        if (!failed) status = dsc_agree(comm, status);
        if (status == DSC_OK && opt->verbose && rank == 0) printf("wrote %s (%lld days)\n", path, ndays);
    }
    return status;
}

/* One year: era5_YYYY.nc through a unique temporary name (chosen by rank 0,
 * broadcast), renamed once closed and its size checked. */
static int write_year(synth_model *m, double *field, const synth_options *opt, const int *regime,
                      const double *strength, int year, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    if (opt->encoding == SYNTH_NEWCDS) return write_year_newcds(m, field, opt, regime, strength, year, comm);
    char path[4096], tmp[DSC_PATH_MAX] = "";
    int status = DSC_OK;
    if (snprintf(path, sizeof path, "%s/era5_%04d.nc", opt->output_dir, year) >= (int)sizeof path)
        status = dsc_fail("%s: directory name too long", opt->output_dir);
    else if (rank == 0) status = output_temp_name(tmp, sizeof tmp, path);
    MPI_Bcast(tmp, (int)sizeof tmp, MPI_CHAR, 0, comm);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    long long ndays = days_in_year(year), d0, nd;
    block_range(ndays, size, rank, &d0, &nd);

    synth_packing pk;
    memset(&pk, 0, sizeof pk);
    if (opt->encoding == SYNTH_LEGACY) year_packing(&pk, m, field, opt, regime, strength, year, d0, nd, comm);

    int ncid = -1, varid[3 + SYNTH_NVARS];
    int cmode = NC_CLOBBER | (opt->encoding == SYNTH_LEGACY ? NC_64BIT_OFFSET : NC_64BIT_DATA);
    int err = ncmpi_create(comm, tmp, cmode, MPI_INFO_NULL, &ncid);
    status = err == NC_NOERR ? DSC_OK
                             : dsc_fail("%s: cannot create %s: %s; check that the output directory is writable", path, tmp,
                                        ncmpi_strerror(err));
    int opened = err == NC_NOERR;
    if (status == DSC_OK) status = define_file(ncid, varid, opt, &pk, path);
    /* Rank 0 allocates the whole file first: a full disk shows here, before
     * any data, and the padding between the variables of a record (odd
     * numbers of shorts) is zeros that MPI-IO's read-modify-write (data
     * sieving) reads back, never stale memory. */
    long long full = 0;
    if (status == DSC_OK && rank == 0) status = output_nc_size_for(ncid, ndays * opt->steps_per_day, &full);
    if (status == DSC_OK && rank == 0) status = output_reserve(tmp, path, full);
    status = dsc_agree(comm, status);
    if (status == DSC_OK) status = dsc_agree(comm, write_coordinates(ncid, varid, opt, rank, path));
    if (status == DSC_OK) status = write_data(ncid, varid, m, field, opt, &pk, regime, strength, year, ndays, comm, path);
    /* status is agreed here; a failure is agreed (and printed) only once */
    const int failed = status != DSC_OK;
    long long expected = 0;
    if (!failed && rank == 0) status = output_nc_expected_size(ncid, &expected);
    if (opened) {
        err = ncmpi_close(ncid);
        if (err != NC_NOERR && status == DSC_OK)
            status = dsc_fail("%s: closing: %s; check the space left on the device", path, ncmpi_strerror(err));
    }
    if (!failed) status = dsc_agree(comm, status);
    const int closed_ok = status == DSC_OK;
    if (rank == 0) {
        /* MPI-IO may report success on a full disk: the size tells */
        if (status == DSC_OK) status = output_check_size(tmp, path, expected);
        if (status == DSC_OK && rename(tmp, path) != 0)
            status = dsc_fail("%s: cannot replace it: %s; remove it or choose another --output", path, strerror(errno));
        if (status != DSC_OK) unlink(tmp);
    }
    if (closed_ok) status = dsc_agree(comm, status);
    if (status == DSC_OK && opt->verbose && rank == 0) printf("wrote %s (%lld days)\n", path, ndays);
    return status;
}

/* truth.csv on rank 0 through a temporary name: one line per day. */
static int write_truth(const synth_options *opt, const int *regime, long long ndays)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/truth.csv", opt->output_dir);
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    FILE *f = out.f;
    fprintf(f, "time,regime\n");
    long long h0 = day_of_year_start(opt->year_first) * 24;
    for (long long d = 0; d < ndays; d++) {
        dsc_datetime t;
        char iso[32];
        datetime_from_hours((double)(h0 + 24 * d), &t);
        datetime_format(&t, iso, sizeof iso);
        fprintf(f, "%s,%d\n", iso, regime[d]);
    }
    return output_file_commit(&out);
}

/* mkdir -p on rank 0, then the checks every output folder gets. */
static int make_directory(const char *dir)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return dsc_fail("%s: directory name too long", dir);
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == '\0') {
            char keep = *s;
            *s = '\0';
            if (mkdir(p, 0777) != 0 && errno != EEXIST)
                return dsc_fail("dsc synth: option -o: cannot create directory %s: %s", p, strerror(errno));
            *s = keep;
            if (keep == '\0') break;
        }
    }
    return output_check(dir, OUTPUT_FOLDER, "dsc synth: option -o", NULL, 0);
}

/* Rank 0: an exclusive lock on the folder for the whole run (released by
 * the kernel when the process ends, even when killed), so that a second
 * dsc synth into the same folder stops at once instead of mixing its files
 * with ours.  *fd receives the descriptor to close at the end. */
static int lock_directory(const char *dir, int *fd)
{
    *fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (*fd < 0) return dsc_fail("dsc synth: option -o: cannot open %s: %s", dir, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(*fd);
        *fd = -1;
        if (e == EWOULDBLOCK)
            return dsc_fail("dsc synth: option -o: another dsc synth is writing into %s; wait until it ends or choose "
                            "another folder", dir);
        if (e != ENOLCK && e != EOPNOTSUPP && e != ENOSYS) /* file systems without locks: go on without */
            return dsc_fail("dsc synth: option -o: cannot lock %s: %s", dir, strerror(e));
    }
    return DSC_OK;
}

/* ---- the data set already in the folder --------------------------------- */

enum { SET_MAX_FILES = 2 * (2200 - 1900 + 1) + 1, SET_OPTIONS = 1024 }; /* newcds: two files a year */

/* What a folder's manifest.txt, or after an interrupted run its
 * manifest.partial, says about the data set it holds. */
typedef struct {
    const char *record;                  /* name of the file read; NULL: none */
    char options[SET_OPTIONS];           /* its option lines */
    char files[SET_MAX_FILES][24];       /* the names it lists that dsc synth writes */
    int nfiles;
} synth_set;

/* The option lines of manifest.txt: two runs with the same lines write the
 * same data set. */
static void options_text(char *buf, size_t n, const synth_options *opt)
{
    char vars[64] = "";
    for (int v = 0; v < SYNTH_NVARS; v++)
        if (opt->use_var[v]) {
            if (vars[0]) strcat(vars, ",");
            strcat(vars, synth_variables[v].name);
        }
    snprintf(buf, n,
             "years = %d-%d\ngrid = %dx%d\nresolution = %.17g\nvars = %s\nregimes = %d\npersistence = %.17g\n"
             "noise = %.17g\nseed = %llu\nencoding = %s\nsteps-per-day = %d\n",
             opt->year_first, opt->year_last, opt->nlat, opt->nlon, opt->resolution, vars, opt->regimes,
             opt->persistence, opt->noise, (unsigned long long)opt->seed,
             encoding_name(opt->encoding), opt->steps_per_day);
}

/* era5_YYYY.nc or truth.csv: the only names a record may make dsc synth
 * remove, whatever else an edited manifest lists. */
static int synth_file_name(const char *name)
{
    if (strcmp(name, "truth.csv") == 0) return 1;
    if (strlen(name) < 12 || strncmp(name, "era5_", 5) != 0) return 0;
    for (int i = 5; i < 9; i++)
        if (name[i] < '0' || name[i] > '9') return 0;
    return strcmp(name + 9, ".nc") == 0 || strcmp(name + 9, "_instant.nc") == 0 || strcmp(name + 9, "_accum.nc") == 0;
}

static int set_lists(const synth_set *set, const char *name)
{
    for (int i = 0; i < set->nfiles; i++)
        if (strcmp(set->files[i], name) == 0) return 1;
    return 0;
}

static void set_add(synth_set *set, const char *name)
{
    const size_t len = strlen(name);
    if (synth_file_name(name) && len < sizeof set->files[0] && !set_lists(set, name) && set->nfiles < SET_MAX_FILES)
        memcpy(set->files[set->nfiles++], name, len + 1);
}

/* Reads DIR/name into set (set->record stays NULL when there is none). */
static int read_set(synth_set *set, const char *dir, const char *name)
{
    char path[DSC_PATH_MAX], line[4400];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT) return DSC_OK;
        return dsc_fail("dsc synth: option -o: cannot read %s: %s; remove it or choose another folder", path,
                        strerror(errno));
    }
    set->record = name;
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n' || strncmp(line, "version = ", 10) == 0) continue;
        if (strncmp(line, "file = ", 7) == 0) {
            line[7 + strcspn(line + 7, " \n")] = '\0';
            set_add(set, line + 7);
        } else if (strlen(set->options) + strlen(line) < sizeof set->options) {
            strcat(set->options, line);
        }
    }
    int bad = ferror(f);
    fclose(f);
    return bad ? dsc_fail("dsc synth: option -o: cannot read %s; remove it or choose another folder", path) : DSC_OK;
}

/* "its manifest.txt has 'seed = 1' where this run has 'seed = 2'" */
static void first_difference(char *out, size_t n, const synth_set *old, const char *want)
{
    const char *a = old->options, *b = want;
    size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
    while (*a && *b && la == lb && strncmp(a, b, la) == 0) {
        a += la + (a[la] == '\n');
        b += lb + (b[lb] == '\n');
        la = strcspn(a, "\n");
        lb = strcspn(b, "\n");
    }
    if (!*a) snprintf(out, n, "its %s lacks '%.*s'", old->record, (int)lb, b);
    else if (!*b) snprintf(out, n, "its %s has '%.*s' in addition", old->record, (int)la, a);
    else snprintf(out, n, "its %s has '%.*s' where this run has '%.*s'", old->record, (int)la, a, (int)lb, b);
}

/* Without --force, the folder may hold only this data set: the same options
 * in its record, and no file of ours there that no record lists (real ERA5
 * files or those of an older dsc). */
static int check_same_set(const synth_set *old, const char *want, const synth_options *opt, const synth_set *ours)
{
    if (old->record && strcmp(old->options, want) != 0) {
        char diff[600];
        first_difference(diff, sizeof diff, old, want);
        return dsc_fail("dsc synth: option -o: %s holds another data set: %s; give --force to replace it (the files "
                        "its %s lists are removed) or choose another folder", opt->output_dir, diff, old->record);
    }
    for (int i = 0; i < ours->nfiles; i++) {
        char path[DSC_PATH_MAX];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", opt->output_dir, ours->files[i]);
        if (!set_lists(old, ours->files[i]) && lstat(path, &st) == 0)
            return dsc_fail("dsc synth: option -o: %s exists but is not part of a dsc synth data set (no %s lists "
                            "it); remove it, choose another folder or give --force to overwrite it", path,
                            old->record ? old->record : SYNTH_MANIFEST);
    }
    return DSC_OK;
}

/* manifest.partial, before anything is removed or written: the options of
 * this run and every file it writes or still has to remove, so that a run
 * interrupted at any point leaves a record of what the folder holds. */
static int write_pending(const synth_options *opt, const char *want, const synth_set *ours, const synth_set *old)
{
    char path[DSC_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", opt->output_dir, SYNTH_PENDING);
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    fprintf(out.f, "# dsc synth data set being written; incomplete until manifest.txt replaces this file.\n"
                   "version = %s\n%s", PACKAGE_VERSION, want);
    for (int i = 0; i < ours->nfiles; i++) fprintf(out.f, "file = %s\n", ours->files[i]);
    for (int i = 0; i < old->nfiles; i++)
        if (!set_lists(ours, old->files[i])) fprintf(out.f, "file = %s\n", old->files[i]);
    return output_file_commit(&out);
}

static int remove_file(const char *dir, const char *name)
{
    char path[DSC_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (unlink(path) != 0 && errno != ENOENT)
        return dsc_fail("dsc synth: option -o: cannot remove the old %s: %s; remove it or choose another folder", path,
                        strerror(errno));
    return DSC_OK;
}

/* Rank 0, under the lock, before anything is written: checks what the
 * folder holds, records this run (write_pending), removes what marks a data
 * set complete (manifest.txt, then truth.csv), so that an interrupted run
 * never leaves a folder that looks complete, and the files of the previous
 * set that this one does not write, so that two sets never mix. */
static int prepare_folder(const synth_options *opt)
{
    static synth_set old, ours; /* 100 KB each: not on the stack */
    memset(&old, 0, sizeof old);
    memset(&ours, 0, sizeof ours);
    char want[SET_OPTIONS];
    options_text(want, sizeof want, opt);
    for (int year = opt->year_first; year <= opt->year_last; year++) {
        char names[2][32];
        int nf = year_files(opt, year, names);
        for (int k = 0; k < nf; k++) set_add(&ours, names[k]);
    }
    set_add(&ours, "truth.csv");
    int status = read_set(&old, opt->output_dir, SYNTH_MANIFEST);
    if (status == DSC_OK && !old.record) status = read_set(&old, opt->output_dir, SYNTH_PENDING);
    if (status == DSC_OK && !opt->force) status = check_same_set(&old, want, opt, &ours);
    if (status == DSC_OK) status = write_pending(opt, want, &ours, &old);
    if (status == DSC_OK) status = remove_file(opt->output_dir, SYNTH_MANIFEST);
    if (status == DSC_OK) status = remove_file(opt->output_dir, "truth.csv");
    for (int i = 0; i < old.nfiles && status == DSC_OK; i++)
        if (!set_lists(&ours, old.files[i])) status = remove_file(opt->output_dir, old.files[i]);
    return status;
}

/* Rank 0, last: manifest.txt with the options and every file with its
 * size.  Its presence says the data set is complete. */
static int write_manifest(const synth_options *opt)
{
    char path[DSC_PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", opt->output_dir, SYNTH_MANIFEST);
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    FILE *f = out.f;
    fprintf(f, "# dsc synth data set, written after every file below was complete.\n"
               "# A folder without this file, or whose files differ in size, holds an incomplete data set.\n");
    char options[SET_OPTIONS];
    options_text(options, sizeof options, opt);
    fprintf(f, "version = %s\n%s", PACKAGE_VERSION, options);
    for (int year = opt->year_first; year <= opt->year_last + 1; year++) {
        char names[2][32], file[4300];
        int nf = 1;
        if (year <= opt->year_last) nf = year_files(opt, year, names);
        else snprintf(names[0], sizeof names[0], "truth.csv");
        for (int k = 0; k < nf; k++) {
            struct stat st;
            snprintf(file, sizeof file, "%s/%s", opt->output_dir, names[k]);
            if (stat(file, &st) != 0) {
                int e = errno;
                output_file_abort(&out);
                return dsc_fail("%s: %s; another program changed the folder while dsc synth wrote it", file, strerror(e));
            }
            fprintf(f, "file = %s %lld\n", names[k], (long long)st.st_size);
        }
    }
    if (output_file_commit(&out) != DSC_OK) return DSC_ERR;
    return remove_file(opt->output_dir, SYNTH_PENDING);
}

int synth_write(MPI_Comm comm, const synth_options *opt)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = synth_options_check(opt), lock_fd = -1;
    if (status == DSC_OK && rank == 0) status = make_directory(opt->output_dir);
    if (status == DSC_OK && rank == 0) status = lock_directory(opt->output_dir, &lock_fd);
    if (status == DSC_OK && rank == 0) status = prepare_folder(opt);
    if (dsc_agree(comm, status) != DSC_OK) {
        if (lock_fd >= 0) close(lock_fd);
        return DSC_ERR;
    }

    long long ndays = synth_count_days(opt->year_first, opt->year_last);
    int *regime = dsc_malloc((size_t)ndays * sizeof(int), "regime sequence"); // (ndays)
    double *strength = dsc_malloc((size_t)ndays * sizeof(double), "regime strengths"); // (ndays)
    double *field = dsc_malloc((size_t)opt->nlat * opt->nlon * sizeof(double), "synth field"); // (Y, X)
    synth_model m;
    memset(&m, 0, sizeof m);
    status = (regime && strength && field) ? synth_model_create(&m, opt) : DSC_ERR;
    if (status == DSC_OK) synth_regime_sequence(regime, strength, opt);
    if (dsc_agree(comm, status) != DSC_OK) {
        if (lock_fd >= 0) close(lock_fd);
        synth_model_destroy(&m);
        free(regime);
        free(strength);
        free(field);
        return DSC_ERR;
    }
    long long offset = 0;
    for (int year = opt->year_first; year <= opt->year_last && status == DSC_OK; year++) {
        status = write_year(&m, field, opt, regime + offset, strength + offset, year, comm);
        offset += days_in_year(year);
    }
    if (status == DSC_OK) {
        status = rank == 0 ? write_truth(opt, regime, ndays) : DSC_OK;
        if (status == DSC_OK && rank == 0) status = write_manifest(opt);
        status = dsc_agree(comm, status);
    }
    if (lock_fd >= 0) close(lock_fd);
    synth_model_destroy(&m);
    free(regime);
    free(strength);
    free(field);
    return status;
}
