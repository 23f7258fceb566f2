/*
 * preprocess.c - fill, anomalies, min-max scaling and padding of samples.
 *
 * Dimension letters: T samples (time steps) on this rank, V variables,
 * Y x X the read grid, H x W the padded grid, D = 366 climatology days,
 * S hour-of-day slots, P = 2 + 2 N coefficients of the harmonic climatology,
 * Q = P (P + 1) / 2 + P + 1 entries of one cell's normal equations.
 *
 * Every statistic is a reduction over the samples of all ranks (sums and
 * counts in double with MPI_SUM, extremes with MPI_MIN / MPI_MAX), so the
 * result does not depend on how the time steps are spread over the ranks
 * (the harmonic fit to the rounding of its sums, the others exactly).
 * Applying the statistics is local.  See preprocess.h for the conventions.
 */
#include "preprocess.h"
#include "cf_time.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLIMATOLOGY_DAYS 366
#define HOURS_PER_YEAR (24.0 * PREPROCESS_YEAR_DAYS)
#define MAX_TERMS (2 + 2 * PREPROCESS_MAX_HARMONICS)
/* A Cholesky pivot below this fraction of its diagonal entry is singular. */
#define PIVOT_TOLERANCE 1e-10

static int harmonic_terms(int harmonics) { return 2 + 2 * harmonics; }
/* Entries of one cell's accumulator: upper triangle of X^T X, X^T y, count. */
static size_t normal_entries(int P) { return (size_t)P * (P + 1) / 2 + P + 1; }

int preprocess_hour_of_day(double hours)
{
    /* half a minute of slack for times that are a rounding error short of the hour */
    long long h = (long long)floor(hours + 1.0 / 120.0) % 24;
    return (int)(h < 0 ? h + 24 : h);
}

void preprocess_harmonic_basis(double hours, double origin, int harmonics, double *basis)
{
    const double tau = (hours - origin) / HOURS_PER_YEAR;
    const double phase = 2.0 * M_PI * (tau - floor(tau)); /* the fraction of the year keeps the angle small */
    basis[0] = 1.0;
    basis[1] = tau;
    for (int k = 1; k <= harmonics; k++) {
        basis[2 * k] = cos(k * phase);
        basis[2 * k + 1] = sin(k * phase);
    }
}

/* Slot of the harmonic climatology for a time: the slot of its hour of day,
 * or of the nearest hour (round the clock; the earlier one on a tie). */
static int climatology_slot(const preprocess_stats *st, double hours)
{
    const int hour = preprocess_hour_of_day(hours);
    int best = 0, best_distance = 25;
    for (int k = 0; k < st->nslots; k++) {
        int d = abs(st->slot_hour[k] - hour);
        if (24 - d < d) d = 24 - d;
        if (d < best_distance) best = k, best_distance = d;
    }
    return best;
}

int preprocess_day_index(double hours)
{
    static const int before_month[12] = {0, 31, 60, 91, 121, 152, 182, 213, 244, 274, 305, 335}; /* leap year */
    dsc_datetime t;
    datetime_from_hours(hours, &t);
    return before_month[t.month - 1] + t.day - 1;
}

void preprocess_stats_destroy(preprocess_stats *st)
{
    free(st->min);
    free(st->max);
    free(st->climatology);
    free(st->coef);
    free(st->lat);
    free(st->lon);
    st->min = st->max = st->climatology = NULL;
    st->coef = st->lat = st->lon = NULL;
    st->has_inputs = 0;
}

/* Number of min / max entries: one per variable or one per cell and variable. */
static size_t scale_entries(const preprocess_stats *st)
{
    return st->scaling == SCALE_CELL ? (size_t)st->nvars * st->nlat * st->nlon : (size_t)st->nvars;
}

/* The climatology of one sample: the (V, Y, X) row of its day (daily), or
 * the (V, Y, X, P) coefficients of its slot and the basis at its time
 * (harmonic), or nothing without anomalies. */
typedef struct {
    const float *daily;
    const double *coef;
    int P;
    double basis[MAX_TERMS];
} sample_climatology;

static void sample_climatology_at(const preprocess_stats *st, double hours, sample_climatology *c)
{
    c->daily = NULL;
    c->coef = NULL;
    c->P = 0;
    if (!st->anomalies) return;
    const size_t sample = (size_t)st->nvars * st->nlat * st->nlon;
    if (st->climatology_kind == CLIMATOLOGY_DAILY) {
        c->daily = st->climatology + (size_t)preprocess_day_index(hours) * sample;
        return;
    }
    c->P = harmonic_terms(st->harmonics);
    c->coef = st->coef + (size_t)climatology_slot(st, hours) * sample * c->P;
    preprocess_harmonic_basis(hours, st->time_origin, st->harmonics, c->basis);
}

/* The value before scaling: missing -> fill value (section 5.1), minus the
 * climatology of its time. */
static inline float prepared_value(float x, double fill, const sample_climatology *c, size_t cell)
{
    double value = isnan(x) ? fill : x;
    if (c->daily) value -= c->daily[cell];
    else if (c->coef) {
        const double *b = c->coef + cell * c->P;
        double clim = 0;
        for (int j = 0; j < c->P; j++) clim += b[j] * c->basis[j];
        value -= clim;
    }
    return (float)value;
}

/* Min-max scaling to [0, 1] (paper eq. 8); a constant range scales to 0. */
static inline float scaled_value(float x, float lo, float hi)
{
    return hi > lo ? (float)(((double)x - lo) / ((double)hi - lo)) : 0.0f;
}

/* MPI_Allreduce in place of a buffer that may hold more than INT_MAX elements. */
static void allreduce_large(void *buf, size_t count, MPI_Datatype type, size_t size, MPI_Op op, MPI_Comm comm)
{
    const size_t piece = (size_t)1 << 28;
    for (size_t i = 0; i < count; i += piece) {
        size_t n = count - i < piece ? count - i : piece;
        MPI_Allreduce(MPI_IN_PLACE, (char *)buf + i * size, (int)n, type, op, comm);
    }
}

int preprocess_options_from_cli(const cli_command *cmd, preprocess_options *o)
{
    memset(o, 0, sizeof *o);
    const char *s = cli_get(cmd, "scaling");
    if (strcmp(s, "variable") == 0) o->scaling = SCALE_VARIABLE;
    else if (strcmp(s, "cell") == 0) o->scaling = SCALE_CELL;
    else return dsc_fail("dsc %s: option --scaling: '%s' is not 'variable' or 'cell'", cmd->command, s);
    o->anomalies = cli_flag(cmd, "anomalies");
    const char *c = cli_get(cmd, "climatology");
    if (strcmp(c, "harmonic") == 0) o->climatology = CLIMATOLOGY_HARMONIC;
    else if (strcmp(c, "daily") == 0) o->climatology = CLIMATOLOGY_DAILY;
    else return dsc_fail("dsc %s: option --climatology: '%s' is not 'harmonic' or 'daily'", cmd->command, c);
    long n;
    if (cli_long(cmd, "harmonics", 0, PREPROCESS_MAX_HARMONICS, &n) != DSC_OK) return DSC_ERR;
    o->harmonics = (int)n;
    return DSC_OK;
}

/* Collective: st->climatology (D, V, Y, X), the mean of the valid values
 * per day of year, variable and cell. */
static int fit_daily(MPI_Comm comm, const era5_samples *s, preprocess_stats *st)
{
    const size_t field = (size_t)s->nlat * s->nlon, sample = (size_t)s->nvars * field;
    const size_t size = CLIMATOLOGY_DAYS * sample;
    double *sum = dsc_calloc(size, sizeof(double), "the climatology sums"); /* (D, V, Y, X) */
    int *count = dsc_calloc(size, sizeof(int), "the climatology counts");   /* (D, V, Y, X) */
    st->climatology = dsc_malloc(size * sizeof(float), "the climatology");  /* (D, V, Y, X) */
    int status = (sum && count && st->climatology) ? DSC_OK : DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        free(sum);
        free(count);
        return DSC_ERR;
    }
    for (long long t = 0; t < s->nt; t++) {
        const size_t day = (size_t)preprocess_day_index(s->time[t]) * sample;
        const float *x = s->data + t * sample;
        for (size_t i = 0; i < sample; i++)
            if (!isnan(x[i])) {
                sum[day + i] += x[i];
                count[day + i]++;
            }
    }
    allreduce_large(sum, size, MPI_DOUBLE, sizeof(double), MPI_SUM, comm);
    allreduce_large(count, size, MPI_INT, sizeof(int), MPI_SUM, comm);
    for (size_t d = 0; d < CLIMATOLOGY_DAYS; d++)
        for (int v = 0; v < s->nvars; v++)
            for (size_t i = 0; i < field; i++) {
                size_t k = d * sample + v * field + i;
                st->climatology[k] = (float)(count[k] ? sum[k] / count[k] : st->fill[v]);
            }
    free(sum);
    free(count);
    return DSC_OK;
}

/* Cholesky factor L (row-major P x P, lower triangle) of the symmetric
 * matrix whose upper triangle is packed row by row in g.  Returns the size
 * of the leading block that factors: P, or the index of the first pivot
 * that is singular (below PIVOT_TOLERANCE of its diagonal entry). */
static int cholesky_leading(const double *g, int P, double *L)
{
    double G[MAX_TERMS * MAX_TERMS];
    for (int i = 0, k = 0; i < P; i++)
        for (int j = i; j < P; j++, k++) G[i * P + j] = G[j * P + i] = g[k];
    for (int j = 0; j < P; j++) {
        // cppcheck-suppress uninitvar ; the loop above sets both triangles of the P x P block
        double d = G[j * P + j];
        for (int k = 0; k < j; k++) d -= L[j * P + k] * L[j * P + k];
        if (!(G[j * P + j] > 0) || !(d > PIVOT_TOLERANCE * G[j * P + j])) return j;
        L[j * P + j] = sqrt(d);
        for (int i = j + 1; i < P; i++) {
            double e = G[i * P + j];
            for (int k = 0; k < j; k++) e -= L[i * P + k] * L[j * P + k];
            L[i * P + j] = e / L[j * P + j];
        }
    }
    return P;
}

/* Solves (L L^T) c = r for the leading m x m block of the factor (row
 * stride P). */
static void cholesky_solve(const double *L, int P, int m, const double *r, double *c)
{
    double z[MAX_TERMS];
    for (int i = 0; i < m; i++) {
        double e = r[i];
        for (int k = 0; k < i; k++) e -= L[i * P + k] * z[k];
        z[i] = e / L[i * P + i];
    }
    for (int i = m - 1; i >= 0; i--) {
        double e = z[i];
        for (int k = i + 1; k < m; k++) e -= L[k * P + i] * c[k];
        c[i] = e / L[i * P + i];
    }
}

/* Collective: the harmonic climatology (see preprocess.h): time origin,
 * hour-of-day slots, and st->coef (S, V, Y, X, P) from the normal equations
 * of every slot and cell, summed over all ranks in one MPI_Allreduce. */
static int fit_harmonic(MPI_Comm comm, const era5_samples *s, int harmonics, preprocess_stats *st)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    const size_t field = (size_t)s->nlat * s->nlon, sample = (size_t)s->nvars * field;
    const int P = harmonic_terms(harmonics), tri = P * (P + 1) / 2;
    const size_t Q = normal_entries(P);
    st->harmonics = harmonics;

    /* extent of the record and hours of day present, over all ranks */
    double extent[2 + PREPROCESS_MAX_SLOTS]; /* -first time, last time, (24) hour present */
    extent[0] = extent[1] = -HUGE_VAL;
    for (int h = 0; h < PREPROCESS_MAX_SLOTS; h++) extent[2 + h] = 0;
    for (long long t = 0; t < s->nt; t++) {
        extent[0] = fmax(extent[0], -s->time[t]);
        extent[1] = fmax(extent[1], s->time[t]);
        extent[2 + preprocess_hour_of_day(s->time[t])] = 1;
    }
    MPI_Allreduce(MPI_IN_PLACE, extent, 2 + PREPROCESS_MAX_SLOTS, MPI_DOUBLE, MPI_MAX, comm);
    const double first = -extent[0], last = extent[1];
    st->time_origin = 24.0 * floor((first + last) / 48.0); /* the day in the middle of the record */
    int slot_of_hour[PREPROCESS_MAX_SLOTS];
    st->nslots = 0;
    for (int h = 0; h < PREPROCESS_MAX_SLOTS; h++) {
        slot_of_hour[h] = extent[2 + h] > 0 ? st->nslots : -1;
        if (extent[2 + h] > 0) st->slot_hour[st->nslots++] = h;
    }
    const int short_record = last - first < PREPROCESS_MIN_SPAN_DAYS * 24.0;
    const int S = st->nslots;

    double *acc = dsc_calloc((size_t)S * sample * Q, sizeof(double), "the normal equations of the climatology"); /* (S, V, Y, X, Q) */
    double *rows = dsc_malloc(((size_t)s->nt * Q + 1) * sizeof(double), "the climatology basis");            /* (T, Q) */
    int *slot = dsc_malloc(((size_t)s->nt + 1) * sizeof(int), "the climatology slots");                       /* (T) */
    st->coef = dsc_malloc((size_t)S * sample * P * sizeof(double), "the climatology coefficients");           /* (S, V, Y, X, P) */
    int status = (acc && rows && slot && st->coef) ? DSC_OK : DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) {
        free(acc);
        free(rows);
        free(slot);
        return DSC_ERR;
    }

    /* each local time step's row: upper triangle of x x^T, x, 1 */
    for (long long t = 0; t < s->nt; t++) {
        double *row = rows + (size_t)t * Q, x[MAX_TERMS];
        preprocess_harmonic_basis(s->time[t], st->time_origin, harmonics, x);
        for (int i = 0, k = 0; i < P; i++)
            for (int j = i; j < P; j++) row[k++] = x[i] * x[j];
        for (int i = 0; i < P; i++) row[tri + i] = x[i];
        row[Q - 1] = 1.0;
        slot[t] = slot_of_hour[preprocess_hour_of_day(s->time[t])];
    }
    /* every valid value adds its step's row (times the value for X^T y) to its cell */
    const long long block = 256, ncells = (long long)sample;
#pragma omp parallel for schedule(static)
    for (long long i0 = 0; i0 < ncells; i0 += block) {
        const long long i1 = i0 + block < ncells ? i0 + block : ncells;
        for (long long t = 0; t < s->nt; t++) {
            const double *row = rows + (size_t)t * Q;
            const float *x = s->data + (size_t)t * sample;
            double *a0 = acc + (size_t)slot[t] * sample * Q;
            for (long long i = i0; i < i1; i++) {
                if (isnan(x[i])) continue;
                double *a = a0 + (size_t)i * Q, y = x[i];
                for (int k = 0; k < tri; k++) a[k] += row[k];
                for (int k = tri; k < tri + P; k++) a[k] += y * row[k];
                a[Q - 1] += 1.0;
            }
        }
    }
    free(rows);
    free(slot);
    allreduce_large(acc, (size_t)S * sample * Q, MPI_DOUBLE, sizeof(double), MPI_SUM, comm);

    /* solve every slot and cell; every rank does the same */
    long long reduced = 0, fitted = 0;
    for (size_t k = 0; k < (size_t)S * sample; k++) {
        const double *a = acc + k * Q;
        double *c = st->coef + k * P;
        const int v = (int)(k % sample / field);
        for (int j = 0; j < P; j++) c[j] = 0.0;
        const double n = a[Q - 1];
        if (n == 0) { /* never valid: the fill value, anomaly 0 after the fill */
            c[0] = st->fill[v];
            continue;
        }
        fitted++;
        if (short_record) {
            c[0] = a[tri] / n;
            continue;
        }
        double L[MAX_TERMS * MAX_TERMS];
        int m = cholesky_leading(a, P, L);
        if (m < P) { /* the longest leading model that factors: 2 + 2 k terms, mean + trend, or mean */
            m = m >= 2 ? m / 2 * 2 : 1;
            reduced++;
        }
        cholesky_solve(L, P, m, a + tri, c);
    }
    free(acc);
    if (rank == 0 && short_record && fitted > 0)
        dsc_warn("the record spans %.1f days, less than %g: the harmonic climatology of every cell is its mean (no trend, no harmonics)",
                 (last - first) / 24.0, PREPROCESS_MIN_SPAN_DAYS);
    if (rank == 0 && reduced > 0)
        dsc_warn("%lld of %lld fits of the harmonic climatology (cell, variable, hour of day) are singular (too few valid values or "
                 "phases) and use fewer harmonics, no trend or the mean",
                 reduced, fitted);
    return DSC_OK;
}

int preprocess_fit(MPI_Comm comm, const era5_samples *s, const preprocess_options *o, preprocess_stats *st)
{
    // cppcheck-suppress ctunullpointer ; o is NULL only in dsc predict, which always gives statistics (no fit)
    const scale_mode scaling = o->scaling;
    const int anomalies = o->anomalies;
    memset(st, 0, sizeof *st);
    const int V = s->nvars, Y = s->nlat, X = s->nlon;
    const size_t field = (size_t)Y * X, sample = (size_t)V * field;
    st->nvars = V;
    st->nlat = Y;
    st->nlon = X;
    st->height = preprocess_padded_size(Y);
    st->width = preprocess_padded_size(X);
    st->scaling = scaling;
    st->anomalies = anomalies;
    st->climatology_kind = anomalies ? o->climatology : CLIMATOLOGY_HARMONIC;
    const size_t M = scale_entries(st);
    int status = DSC_OK;
    if (anomalies && o->climatology == CLIMATOLOGY_HARMONIC && (o->harmonics < 0 || o->harmonics > PREPROCESS_MAX_HARMONICS))
        status = dsc_fail("%d harmonics of the climatology: use 0 to %d", o->harmonics, PREPROCESS_MAX_HARMONICS);
    st->min = dsc_malloc(M * sizeof(float), "the scaling minima"); /* (M) */
    st->max = dsc_malloc(M * sizeof(float), "the scaling maxima"); /* (M) */
    if (!st->min || !st->max) status = DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto fail;

    /* 1. fill value: mean of the valid values of each variable */
    double moments[2 * ERA5_MAX_VARS] = {0}, total[2 * ERA5_MAX_VARS]; /* (V) sums, then (V) counts */
    for (long long t = 0; t < s->nt; t++)
        for (int v = 0; v < V; v++) {
            const float *x = s->data + t * sample + v * field;
            double sum = 0;
            long long n = 0;
            for (size_t i = 0; i < field; i++)
                if (!isnan(x[i])) {
                    sum += x[i];
                    n++;
                }
            moments[v] += sum;
            moments[V + v] += n;
        }
    MPI_Allreduce(moments, total, 2 * V, MPI_DOUBLE, MPI_SUM, comm);
    for (int v = 0; v < V; v++) st->fill[v] = total[V + v] > 0 ? total[v] / total[V + v] : 0.0;

    /* 2. climatology per variable and cell */
    if (anomalies) {
        status = o->climatology == CLIMATOLOGY_DAILY ? fit_daily(comm, s, st) : fit_harmonic(comm, s, o->harmonics, st);
        if (status != DSC_OK) goto fail;
    }

    /* 3. extremes of the prepared values, per variable or per cell */
    for (size_t m = 0; m < M; m++) {
        st->min[m] = INFINITY;
        st->max[m] = -INFINITY;
    }
    for (long long t = 0; t < s->nt; t++) {
        sample_climatology clim;
        sample_climatology_at(st, s->time[t], &clim);
        const float *x = s->data + t * sample;
        for (int v = 0; v < V; v++)
            for (size_t i = 0; i < field; i++) {
                size_t cell = v * field + i, m = scaling == SCALE_CELL ? cell : (size_t)v;
                float value = prepared_value(x[cell], st->fill[v], &clim, cell);
                if (value < st->min[m]) st->min[m] = value;
                if (value > st->max[m]) st->max[m] = value;
            }
    }
    allreduce_large(st->min, M, MPI_FLOAT, sizeof(float), MPI_MIN, comm);
    allreduce_large(st->max, M, MPI_FLOAT, sizeof(float), MPI_MAX, comm);
    return DSC_OK;

fail:
    preprocess_stats_destroy(st);
    return DSC_ERR;
}

/* DSC_ERR with a message unless the samples have the statistics' shape. */
static int check_shape(const preprocess_stats *st, const era5_samples *s)
{
    if (s->nvars != st->nvars || s->nlat != st->nlat || s->nlon != st->nlon)
        return dsc_fail("data of %d variables on a %d x %d grid do not match the normalisation statistics (%d variables, %d x %d); use data like those the model was trained on",
                        s->nvars, s->nlat, s->nlon, st->nvars, st->nlat, st->nlon);
    return DSC_OK;
}

int preprocess_apply(const preprocess_stats *st, const era5_samples *s, float *out)
{
    const int V = st->nvars, Y = st->nlat, X = st->nlon, H = st->height, W = st->width;
    if (check_shape(st, s) != DSC_OK) return DSC_ERR;
    const size_t field = (size_t)Y * X, sample = (size_t)V * field;
#pragma omp parallel for schedule(static)
    for (long long t = 0; t < s->nt; t++) {
        sample_climatology clim;
        sample_climatology_at(st, s->time[t], &clim);
        const float *x = s->data + t * sample; /* (V, Y, X) */
        float *o = out + (size_t)t * V * H * W; /* (V, H, W) */
        for (int v = 0; v < V; v++)
            for (int y = 0; y < H; y++)
                for (int c = 0; c < W; c++) {
                    float *dst = o + ((size_t)v * H + y) * W + c;
                    if (y >= Y || c >= X) { /* zero padding after the last latitude / longitude */
                        *dst = 0.0f;
                        continue;
                    }
                    size_t cell = v * field + (size_t)y * X + c, m = st->scaling == SCALE_CELL ? cell : (size_t)v;
                    *dst = scaled_value(prepared_value(x[cell], st->fill[v], &clim, cell), st->min[m], st->max[m]);
                }
    }
    return DSC_OK;
}

int preprocess_prepare(const preprocess_stats *st, const era5_samples *s, float *out)
{
    if (check_shape(st, s) != DSC_OK) return DSC_ERR;
    const size_t field = (size_t)st->nlat * st->nlon, sample = (size_t)st->nvars * field;
#pragma omp parallel for schedule(static)
    for (long long t = 0; t < s->nt; t++) {
        sample_climatology clim;
        sample_climatology_at(st, s->time[t], &clim);
        const float *x = s->data + t * sample; /* (V, Y, X) */
        float *o = out + t * sample;           /* (V, Y, X) */
        for (size_t cell = 0; cell < sample; cell++) o[cell] = prepared_value(x[cell], st->fill[cell / field], &clim, cell);
    }
    return DSC_OK;
}

/* Doubles of the climatology in a record: 366 days, or S slot hours and the
 * coefficients. */
static size_t climatology_entries(const preprocess_stats *st)
{
    if (!st->anomalies) return 0;
    const size_t sample = (size_t)st->nvars * st->nlat * st->nlon;
    if (st->climatology_kind == CLIMATOLOGY_DAILY) return CLIMATOLOGY_DAYS * sample;
    return (size_t)st->nslots + (size_t)st->nslots * sample * harmonic_terms(st->harmonics);
}

void preprocess_unpad(const preprocess_stats *st, float *x, long long n)
{
    const int V = st->nvars, Y = st->nlat, X = st->nlon, H = st->height, W = st->width;
    /* rows in increasing order: every destination row lies at or below its
     * source and ends before the next source row begins */
    for (long long t = 0; t < n; t++)
        for (int v = 0; v < V; v++)
            for (int y = 0; y < Y; y++)
                memmove(x + (((size_t)t * V + v) * Y + y) * X, x + (((size_t)t * V + v) * H + y) * W, (size_t)X * sizeof(float));
}

/* Doubles of the inputs in a version 3 record: names, units, coordinates. */
static size_t input_entries(const preprocess_stats *st)
{
    return (size_t)st->nvars * 2 * PREPROCESS_STATS_CHARS + (size_t)st->nlat + (size_t)st->nlon;
}

size_t preprocess_stats_packed_size(const preprocess_stats *st)
{
    return PREPROCESS_STATS_HEADER + st->nvars + 2 * scale_entries(st) + climatology_entries(st) +
           (st->has_inputs ? input_entries(st) : 0);
}

/* A text as PREPROCESS_STATS_CHARS character codes, zeros after its end. */
static double *pack_text(double *p, const char *text)
{
    size_t n = strnlen(text, PREPROCESS_STATS_CHARS - 1);
    for (size_t i = 0; i < PREPROCESS_STATS_CHARS; i++) *p++ = i < n ? (unsigned char)text[i] : 0;
    return p;
}

/* The inputs of a version 3 record. */
static void pack_inputs(const preprocess_stats *st, double *p)
{
    for (int v = 0; v < st->nvars; v++) {
        p = pack_text(p, st->var_name[v]);
        p = pack_text(p, st->var_units[v]);
    }
    for (int y = 0; y < st->nlat; y++) *p++ = st->lat[y];
    for (int x = 0; x < st->nlon; x++) *p++ = st->lon[x];
}

void preprocess_stats_pack(const preprocess_stats *st, double *buf)
{
    const size_t M = scale_entries(st);
    double *p = buf;
    *p++ = PREPROCESS_STATS_MAGIC;
    *p++ = st->has_inputs ? PREPROCESS_STATS_VERSION : 2.0;
    *p++ = st->nvars;
    *p++ = st->nlat;
    *p++ = st->nlon;
    *p++ = st->height;
    *p++ = st->width;
    *p++ = st->scaling;
    *p++ = st->anomalies;
    *p++ = st->climatology_kind;
    *p++ = st->harmonics;
    *p++ = st->time_origin;
    *p++ = st->nslots;
    for (int v = 0; v < st->nvars; v++) *p++ = st->fill[v];
    for (size_t m = 0; m < M; m++) *p++ = st->min[m];
    for (size_t m = 0; m < M; m++) *p++ = st->max[m];
    const size_t sample = (size_t)st->nvars * st->nlat * st->nlon;
    if (st->anomalies && st->climatology_kind == CLIMATOLOGY_DAILY) {
        for (size_t k = 0; k < CLIMATOLOGY_DAYS * sample; k++) *p++ = st->climatology[k];
    } else if (st->anomalies) {
        for (int k = 0; k < st->nslots; k++) *p++ = st->slot_hour[k];
        const size_t ncoef = (size_t)st->nslots * sample * harmonic_terms(st->harmonics);
        for (size_t k = 0; k < ncoef; k++) *p++ = st->coef[k];
    }
    if (st->has_inputs) pack_inputs(st, p);
}

/* The header of a record after magic and version: version 1 has no
 * climatology kind (daily), harmonics, origin or slots.  0 when it is
 * consistent with n doubles. */
static int header_bad(const preprocess_stats *st, int version, size_t n)
{
    if (st->nvars < 1 || st->nvars > ERA5_MAX_VARS || st->nlat < 1 || st->nlon < 1 || st->nlat > PREPROCESS_STATS_MAX_SIDE ||
        st->nlon > PREPROCESS_STATS_MAX_SIDE || st->height != preprocess_padded_size(st->nlat) ||
        st->width != preprocess_padded_size(st->nlon) || (st->scaling != SCALE_VARIABLE && st->scaling != SCALE_CELL) ||
        (st->anomalies != 0 && st->anomalies != 1) ||
        (st->climatology_kind != CLIMATOLOGY_HARMONIC && st->climatology_kind != CLIMATOLOGY_DAILY) || st->harmonics < 0 ||
        st->harmonics > PREPROCESS_MAX_HARMONICS || st->nslots < 0 || st->nslots > PREPROCESS_MAX_SLOTS || !isfinite(st->time_origin) ||
        (st->anomalies && st->climatology_kind == CLIMATOLOGY_HARMONIC && st->nslots < 1))
        return 1;
    size_t header = version == 1 ? PREPROCESS_STATS_HEADER_V1 : PREPROCESS_STATS_HEADER;
    return header + st->nvars + 2 * scale_entries(st) + climatology_entries(st) + (version >= 3 ? input_entries(st) : 0) != n;
}

/* A header entry as an int: -1 unless it is a whole number of int range
 * (a damaged record must not overflow the conversion). */
static int entry_int(double d) { return d >= -1e9 && d <= 1e9 && d == floor(d) ? (int)d : -1; }

/* A text of PREPROCESS_STATS_CHARS character codes into out; DSC_ERR when
 * a code is not 0..255 or no zero ends the text. */
static int unpack_text(const double *p, char *out)
{
    int ended = 0;
    for (size_t i = 0; i < PREPROCESS_STATS_CHARS; i++) {
        int c = entry_int(p[i]);
        if (c < 0 || c > 255) return DSC_ERR;
        ended |= c == 0;
        out[i] = ended ? '\0' : (char)c;
    }
    return ended ? DSC_OK : DSC_ERR;
}

/* The inputs of a version 3 record into st (lat and lon allocated). */
static int unpack_inputs(preprocess_stats *st, const double *p)
{
    for (int v = 0; v < st->nvars; v++) {
        if (unpack_text(p, st->var_name[v]) != DSC_OK || !st->var_name[v][0] ||
            unpack_text(p + PREPROCESS_STATS_CHARS, st->var_units[v]) != DSC_OK)
            return dsc_fail("the normalisation statistics are damaged (variable names or units); save the model again");
        p += 2 * PREPROCESS_STATS_CHARS;
    }
    st->lat = dsc_malloc((size_t)st->nlat * sizeof(double), "the latitudes of the statistics");
    st->lon = dsc_malloc((size_t)st->nlon * sizeof(double), "the longitudes of the statistics");
    if (!st->lat || !st->lon) return DSC_ERR;
    for (int y = 0; y < st->nlat; y++) st->lat[y] = *p++;
    for (int x = 0; x < st->nlon; x++) st->lon[x] = *p++;
    for (int y = 0; y < st->nlat; y++)
        if (!isfinite(st->lat[y])) return dsc_fail("the normalisation statistics are damaged (latitudes); save the model again");
    for (int x = 0; x < st->nlon; x++)
        if (!isfinite(st->lon[x])) return dsc_fail("the normalisation statistics are damaged (longitudes); save the model again");
    st->has_inputs = 1;
    return DSC_OK;
}

int preprocess_stats_unpack(preprocess_stats *st, const double *buf, size_t n)
{
    memset(st, 0, sizeof *st);
    const int version = n >= 2 && buf[0] == PREPROCESS_STATS_MAGIC && (buf[1] == 1.0 || buf[1] == 2.0 || buf[1] == 3.0) ? (int)buf[1] : 0;
    if (version == 0 || n < (version == 1 ? PREPROCESS_STATS_HEADER_V1 : PREPROCESS_STATS_HEADER))
        return dsc_fail("the normalisation statistics are not a version 1 to %g record; save the model again with this version of dsc",
                        PREPROCESS_STATS_VERSION);
    const double *p = buf + 2;
    st->nvars = entry_int(*p++);
    st->nlat = entry_int(*p++);
    st->nlon = entry_int(*p++);
    st->height = entry_int(*p++);
    st->width = entry_int(*p++);
    st->scaling = (scale_mode)entry_int(*p++);
    st->anomalies = entry_int(*p++);
    if (version == 1) st->climatology_kind = st->anomalies ? CLIMATOLOGY_DAILY : CLIMATOLOGY_HARMONIC;
    else {
        st->climatology_kind = (climatology_kind)entry_int(*p++);
        st->harmonics = entry_int(*p++);
        st->time_origin = *p++;
        st->nslots = entry_int(*p++);
    }
    if (header_bad(st, version, n)) {
        memset(st, 0, sizeof *st);
        return dsc_fail("the normalisation statistics are damaged (inconsistent sizes); save the model again");
    }
    const size_t M = scale_entries(st), sample = (size_t)st->nvars * st->nlat * st->nlon;
    const int daily = st->anomalies && st->climatology_kind == CLIMATOLOGY_DAILY;
    const int harmonic = st->anomalies && st->climatology_kind == CLIMATOLOGY_HARMONIC;
    const size_t ncoef = harmonic ? (size_t)st->nslots * sample * harmonic_terms(st->harmonics) : 0;
    st->min = dsc_malloc(M * sizeof(float), "the scaling minima");
    st->max = dsc_malloc(M * sizeof(float), "the scaling maxima");
    if (daily) st->climatology = dsc_malloc(CLIMATOLOGY_DAYS * sample * sizeof(float), "the climatology");
    if (harmonic) st->coef = dsc_malloc(ncoef * sizeof(double), "the climatology coefficients");
    if (!st->min || !st->max || (daily && !st->climatology) || (harmonic && !st->coef)) {
        preprocess_stats_destroy(st);
        return DSC_ERR;
    }
    for (int v = 0; v < st->nvars; v++) st->fill[v] = *p++;
    for (size_t m = 0; m < M; m++) st->min[m] = (float)*p++;
    for (size_t m = 0; m < M; m++) st->max[m] = (float)*p++;
    if (daily)
        for (size_t k = 0; k < CLIMATOLOGY_DAYS * sample; k++) st->climatology[k] = (float)*p++;
    if (harmonic) {
        for (int k = 0; k < st->nslots; k++) {
            st->slot_hour[k] = entry_int(*p++);
            if (st->slot_hour[k] < 0 || st->slot_hour[k] > 23 || (k > 0 && st->slot_hour[k] <= st->slot_hour[k - 1])) {
                preprocess_stats_destroy(st);
                memset(st, 0, sizeof *st);
                return dsc_fail("the normalisation statistics are damaged (hour-of-day slots); save the model again");
            }
        }
        for (size_t k = 0; k < ncoef; k++) st->coef[k] = *p++;
    }
    if (version >= 3 && unpack_inputs(st, p) != DSC_OK) {
        preprocess_stats_destroy(st);
        memset(st, 0, sizeof *st);
        return DSC_ERR;
    }
    return DSC_OK;
}
