/*
 * preprocess.c - fill, anomalies, min-max scaling and padding of samples.
 *
 * Dimension letters: T samples (time steps) on this rank, V variables,
 * Y x X the read grid, H x W the padded grid, D = 366 climatology days.
 *
 * Every statistic is a reduction over the samples of all ranks (sums and
 * counts in double with MPI_SUM, extremes with MPI_MIN / MPI_MAX), so the
 * result does not depend on how the time steps are spread over the ranks.
 * Applying the statistics is local.  See preprocess.h for the conventions.
 */
#include "preprocess.h"
#include "cf_time.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define CLIMATOLOGY_DAYS 366

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
    st->min = st->max = st->climatology = NULL;
}

/* Number of min / max entries: one per variable or one per cell and variable. */
static size_t scale_entries(const preprocess_stats *st)
{
    return st->scaling == SCALE_CELL ? (size_t)st->nvars * st->nlat * st->nlon : (size_t)st->nvars;
}

/* The value before scaling: missing -> fill value (section 5.1), minus the
 * climatology of its day (clim: (V, Y, X) of that day, or NULL). */
static inline float prepared_value(float x, double fill, const float *clim, size_t cell)
{
    double value = isnan(x) ? fill : x;
    if (clim) value -= clim[cell];
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
    return DSC_OK;
}

int preprocess_fit(MPI_Comm comm, const era5_samples *s, const preprocess_options *o, preprocess_stats *st)
{
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
    const size_t M = scale_entries(st);
    int status = DSC_OK;
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

    /* 2. climatology: mean of the valid values per day of year, variable and cell */
    if (anomalies) {
        const size_t size = CLIMATOLOGY_DAYS * sample;
        double *sum = dsc_calloc(size, sizeof(double), "the climatology sums"); /* (D, V, Y, X) */
        int *count = dsc_calloc(size, sizeof(int), "the climatology counts");   /* (D, V, Y, X) */
        st->climatology = dsc_malloc(size * sizeof(float), "the climatology");  /* (D, V, Y, X) */
        status = (sum && count && st->climatology) ? DSC_OK : DSC_ERR;
        if (dsc_agree(comm, status) != DSC_OK) {
            free(sum);
            free(count);
            goto fail;
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
            for (int v = 0; v < V; v++)
                for (size_t i = 0; i < field; i++) {
                    size_t k = d * sample + v * field + i;
                    st->climatology[k] = (float)(count[k] ? sum[k] / count[k] : st->fill[v]);
                }
        free(sum);
        free(count);
    }

    /* 3. extremes of the prepared values, per variable or per cell */
    for (size_t m = 0; m < M; m++) {
        st->min[m] = INFINITY;
        st->max[m] = -INFINITY;
    }
    for (long long t = 0; t < s->nt; t++) {
        const float *clim = anomalies ? st->climatology + (size_t)preprocess_day_index(s->time[t]) * sample : NULL;
        const float *x = s->data + t * sample;
        for (int v = 0; v < V; v++)
            for (size_t i = 0; i < field; i++) {
                size_t cell = v * field + i, m = scaling == SCALE_CELL ? cell : (size_t)v;
                float value = prepared_value(x[cell], st->fill[v], clim, cell);
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

int preprocess_apply(const preprocess_stats *st, const era5_samples *s, float *out)
{
    const int V = st->nvars, Y = st->nlat, X = st->nlon, H = st->height, W = st->width;
    if (s->nvars != V || s->nlat != Y || s->nlon != X)
        return dsc_fail("data of %d variables on a %d x %d grid do not match the normalisation statistics (%d variables, %d x %d); use data like those the model was trained on",
                        s->nvars, s->nlat, s->nlon, V, Y, X);
    const size_t field = (size_t)Y * X, sample = (size_t)V * field;
#pragma omp parallel for schedule(static)
    for (long long t = 0; t < s->nt; t++) {
        const float *clim = st->anomalies ? st->climatology + (size_t)preprocess_day_index(s->time[t]) * sample : NULL;
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
                    *dst = scaled_value(prepared_value(x[cell], st->fill[v], clim, cell), st->min[m], st->max[m]);
                }
    }
    return DSC_OK;
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

size_t preprocess_stats_packed_size(const preprocess_stats *st)
{
    size_t n = PREPROCESS_STATS_HEADER + st->nvars + 2 * scale_entries(st);
    if (st->anomalies) n += (size_t)CLIMATOLOGY_DAYS * st->nvars * st->nlat * st->nlon;
    return n;
}

void preprocess_stats_pack(const preprocess_stats *st, double *buf)
{
    const size_t M = scale_entries(st);
    double *p = buf;
    *p++ = PREPROCESS_STATS_MAGIC;
    *p++ = PREPROCESS_STATS_VERSION;
    *p++ = st->nvars;
    *p++ = st->nlat;
    *p++ = st->nlon;
    *p++ = st->height;
    *p++ = st->width;
    *p++ = st->scaling;
    *p++ = st->anomalies;
    for (int v = 0; v < st->nvars; v++) *p++ = st->fill[v];
    for (size_t m = 0; m < M; m++) *p++ = st->min[m];
    for (size_t m = 0; m < M; m++) *p++ = st->max[m];
    if (st->anomalies) {
        size_t size = (size_t)CLIMATOLOGY_DAYS * st->nvars * st->nlat * st->nlon;
        for (size_t k = 0; k < size; k++) *p++ = st->climatology[k];
    }
}

int preprocess_stats_unpack(preprocess_stats *st, const double *buf, size_t n)
{
    memset(st, 0, sizeof *st);
    if (n < PREPROCESS_STATS_HEADER || buf[0] != PREPROCESS_STATS_MAGIC || buf[1] != PREPROCESS_STATS_VERSION)
        return dsc_fail("the normalisation statistics are not a version %g record; save the model again with this version of dsc", PREPROCESS_STATS_VERSION);
    const double *p = buf + 2;
    st->nvars = (int)*p++;
    st->nlat = (int)*p++;
    st->nlon = (int)*p++;
    st->height = (int)*p++;
    st->width = (int)*p++;
    st->scaling = (scale_mode)(int)*p++;
    st->anomalies = (int)*p++;
    if (st->nvars < 1 || st->nvars > ERA5_MAX_VARS || st->nlat < 1 || st->nlon < 1 || st->height != preprocess_padded_size(st->nlat) ||
        st->width != preprocess_padded_size(st->nlon) || (st->scaling != SCALE_VARIABLE && st->scaling != SCALE_CELL) ||
        (st->anomalies != 0 && st->anomalies != 1) || preprocess_stats_packed_size(st) != n) {
        memset(st, 0, sizeof *st);
        return dsc_fail("the normalisation statistics are damaged (inconsistent sizes); save the model again");
    }
    const size_t M = scale_entries(st);
    const size_t clim = st->anomalies ? (size_t)CLIMATOLOGY_DAYS * st->nvars * st->nlat * st->nlon : 0;
    st->min = dsc_malloc(M * sizeof(float), "the scaling minima");
    st->max = dsc_malloc(M * sizeof(float), "the scaling maxima");
    if (clim) st->climatology = dsc_malloc(clim * sizeof(float), "the climatology");
    if (!st->min || !st->max || (clim && !st->climatology)) {
        preprocess_stats_destroy(st);
        return DSC_ERR;
    }
    for (int v = 0; v < st->nvars; v++) st->fill[v] = *p++;
    for (size_t m = 0; m < M; m++) st->min[m] = (float)*p++;
    for (size_t m = 0; m < M; m++) st->max[m] = (float)*p++;
    for (size_t k = 0; k < clim; k++) st->climatology[k] = (float)*p++;
    return DSC_OK;
}
