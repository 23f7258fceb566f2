/*
 * regime_stats.c - regime frequencies per calendar month, episode durations and
 * the transition matrix of a labelling (regime_stats.h).
 */
#include "regime_stats.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Median of n sorted run lengths, in days. */
static double median_days(const long long *sorted, long long n, int steps_per_day)
{
    if (n == 0) return NAN;
    double mid = n % 2 ? (double)sorted[n / 2] : 0.5 * ((double)sorted[n / 2 - 1] + (double)sorted[n / 2]);
    return mid / steps_per_day;
}

static void month_frequencies(regime_stats *st, const int *labels, const int *month, long long T, int K)
{
    long long steps[12] = {0};
    memset(st->frequency, 0, sizeof(double) * 12 * (size_t)K);
    for (long long t = 0; t < T; t++) {
        steps[month[t] - 1]++;
        st->frequency[(month[t] - 1) * K + labels[t]] += 1;
    }
    for (int m = 0; m < 12; m++)
        for (int k = 0; k < K; k++) st->frequency[m * K + k] = steps[m] ? st->frequency[m * K + k] / steps[m] : NAN;
}

/* Episodes and transitions in one pass; runs (T) receives every episode's length
 * in steps, grouped by nothing (run_label gives its regime). */
static long long episodes_and_transitions(regime_stats *st, const int *labels, long long T, int K, const long long *seg,
                                          int nseg, long long *runs, int *run_label)
{
    long long n = 0, len = 0;
    int s = 0;
    memset(st->transitions, 0, sizeof(long long) * (size_t)K * (size_t)K);
    for (long long t = 0; t < T; t++) {
        int starts = t == 0;
        while (s + 1 < nseg && seg[s + 1] == t) {
            s++;
            starts = 1;
        }
        if (!starts) st->transitions[labels[t - 1] * K + labels[t]]++;
        if (!starts && labels[t] == labels[t - 1]) {
            len++;
            continue;
        }
        if (t > 0) runs[n++] = len;
        len = 1;
        run_label[n] = labels[t];
    }
    runs[n++] = len;
    return n;
}

static void durations(regime_stats *st, long long n, const long long *runs, const int *run_label, int K, int steps_per_day,
                      long long *scratch)
{
    double sum_all = 0;
    for (int k = 0; k < K; k++) {
        long long m = 0;
        double sum = 0;
        for (long long i = 0; i < n; i++)
            if (run_label[i] == k) {
                scratch[m++] = runs[i];
                sum += (double)runs[i];
            }
        qsort(scratch, (size_t)m, sizeof *scratch, cmp_ll);
        st->episodes[k] = m;
        st->mean_duration[k] = m ? sum / (double)m / steps_per_day : NAN;
        st->median_duration[k] = median_days(scratch, m, steps_per_day);
        sum_all += sum;
    }
    memcpy(scratch, runs, sizeof(long long) * (size_t)n);
    qsort(scratch, (size_t)n, sizeof *scratch, cmp_ll);
    st->total_episodes = n;
    st->all_mean_duration = sum_all / (double)n / steps_per_day;
    st->all_median_duration = median_days(scratch, n, steps_per_day);
}

int regime_stats_compute(regime_stats *st, const int *labels, const int *month, long long T, int K,
                         const long long *seg_start, int nseg, int steps_per_day)
{
    memset(st, 0, sizeof *st);
    st->k = K;
    st->frequency = malloc(sizeof(double) * 12 * (size_t)K);
    st->episodes = malloc(sizeof(long long) * (size_t)K);
    st->mean_duration = malloc(sizeof(double) * (size_t)K);
    st->median_duration = malloc(sizeof(double) * (size_t)K);
    st->transitions = malloc(sizeof(long long) * (size_t)K * (size_t)K);
    long long *runs = malloc(sizeof(long long) * (size_t)(T > 0 ? T : 1));
    long long *scratch = malloc(sizeof(long long) * (size_t)(T > 0 ? T : 1));
    int *run_label = malloc(sizeof(int) * (size_t)(T > 0 ? T : 1));
    int ok = st->frequency && st->episodes && st->mean_duration && st->median_duration && st->transitions && runs &&
             scratch && run_label && T > 0;
    if (ok) {
        month_frequencies(st, labels, month, T, K);
        long long n = episodes_and_transitions(st, labels, T, K, seg_start, nseg, runs, run_label);
        durations(st, n, runs, run_label, K, steps_per_day, scratch);
        st->step_days = 1.0 / steps_per_day;
        st->episode_steps = runs; /* kept: the episode table */
        st->episode_label = run_label;
        runs = NULL;
        run_label = NULL;
    }
    free(runs);
    free(scratch);
    free(run_label);
    if (!ok) {
        regime_stats_destroy(st);
        return T > 0 ? dsc_fail("out of memory for the regime statistics of %lld time steps", T) : DSC_ERR;
    }
    return DSC_OK;
}

void regime_stats_scale_durations(regime_stats *st, double factor)
{
    for (int k = 0; k < st->k; k++) {
        st->mean_duration[k] *= factor;
        st->median_duration[k] *= factor;
    }
    st->all_mean_duration *= factor;
    st->all_median_duration *= factor;
    st->step_days *= factor;
}

void regime_stats_destroy(regime_stats *st)
{
    free(st->frequency);
    free(st->episodes);
    free(st->mean_duration);
    free(st->median_duration);
    free(st->transitions);
    free(st->episode_steps);
    free(st->episode_label);
    memset(st, 0, sizeof *st);
}
