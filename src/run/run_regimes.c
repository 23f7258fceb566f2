/*
 * run_regimes.c - regime life cycles of a run's labelling on the catalog's
 * time axis, and their key in metrics.json (see run_regimes.h).
 */
#include "run_regimes.h"
#include "cf_time.h"
#include "json.h"
#include "metrics_report.h"
#include "sample_exchange.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>

double run_regimes_step_hours(const era5_catalog *cat, int daily_mean)
{
    return daily_mean && cat->step_hours < 24.0 ? 24.0 : cat->step_hours;
}

/* Steps per day when a day holds a whole number of steps (hourly, 3-, 6-,
 * 12-hourly, daily), else 0 (longer or irregular steps: durations are then
 * scaled by the step's length). */
static int whole_steps_per_day(double step_hours)
{
    if (!(step_hours > 0) || step_hours > 24.0) return 0;
    double n = 24.0 / step_hours;
    return fabs(n - round(n)) < 1e-9 ? (int)round(n) : 0;
}

int run_regimes_compute(const era5_catalog *cat, int daily_mean, const int *labels, int k, regime_stats *st)
{
    const long long T = cat->ntime;
    long long nseg = sample_segment_count();
    int *month = dsc_malloc((size_t)(T > 0 ? T : 1) * sizeof(int), "months of the time steps");
    long long *seg = dsc_malloc((size_t)nseg * sizeof(long long), "record segments");
    int status = month && seg ? DSC_OK : DSC_ERR;
    if (status == DSC_OK) {
        for (long long t = 0; t < T; t++) {
            dsc_datetime d;
            datetime_from_hours(cat->time[t], &d); /* the axis is proleptic Gregorian (cf_time.h) */
            month[t] = d.month;
        }
        sample_segment_starts(seg);
        const double step_hours = run_regimes_step_hours(cat, daily_mean);
        const int per_day = whole_steps_per_day(step_hours);
        status = regime_stats_compute(st, labels, month, T, k, seg, (int)nseg, per_day ? per_day : 1);
        if (status == DSC_OK && !per_day) regime_stats_scale_durations(st, step_hours / 24.0);
    }
    free(month);
    free(seg);
    return status;
}

/* A JSON array of n numbers (null: not finite), without warnings: an
 * empty month or a regime without episodes is a fact, not a failure. */
static void write_numbers(FILE *f, const double *v, int n)
{
    fprintf(f, "[");
    for (int i = 0; i < n; i++) {
        if (i) fprintf(f, ", ");
        json_write_number(f, v[i]);
    }
    fprintf(f, "]");
}

void run_regimes_write_json(FILE *f, const regime_stats *st)
{
    const int K = st->k;
    fprintf(f, "  \"regimes\": {\"episodes\": %lld, \"mean_episode_days\": ", st->total_episodes);
    json_write_number(f, st->all_mean_duration);
    fprintf(f, ", \"median_episode_days\": ");
    json_write_number(f, st->all_median_duration);
    if (K > METRICS_JSON_MAX_MATRIX) { /* as the inter-cluster matrix: labels.nc keeps them all */
        fprintf(f, ",\n    \"per_cluster\": null, \"month_frequency\": null, \"transitions\": null},\n");
        return;
    }
    fprintf(f, ",\n    \"per_cluster\": [");
    for (int c = 0; c < K; c++) {
        fprintf(f, "%s\n      {\"episodes\": %lld, \"mean_days\": ", c ? "," : "", st->episodes[c]);
        json_write_number(f, st->mean_duration[c]);
        fprintf(f, ", \"median_days\": ");
        json_write_number(f, st->median_duration[c]);
        fprintf(f, "}");
    }
    fprintf(f, "\n    ],\n    \"month_frequency\": [");
    for (int m = 0; m < 12; m++) {
        int empty = 1; /* a month without steps: null, not K nulls */
        for (int c = 0; c < K; c++) empty &= isnan(st->frequency[m * K + c]);
        fprintf(f, "%s\n      ", m ? "," : "");
        if (empty) fprintf(f, "null");
        else write_numbers(f, st->frequency + m * K, K);
    }
    fprintf(f, "\n    ],\n    \"transitions\": [");
    for (int a = 0; a < K; a++) {
        fprintf(f, "%s\n      [", a ? "," : "");
        for (int b = 0; b < K; b++) fprintf(f, "%s%lld", b ? ", " : "", st->transitions[a * K + b]);
        fprintf(f, "]");
    }
    fprintf(f, "\n    ]\n  },\n");
}
