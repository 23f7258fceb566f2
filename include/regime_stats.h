/*
 * regime_stats.h - the life cycle of a labelling: how often each regime occurs
 * in each calendar month, how long its episodes last, and which regime follows
 * which.
 *
 * An episode is a maximal run of one label inside a segment of consecutive time
 * steps (a gap in the record ends it; an episode cut by the start or end of a
 * segment is counted with the length seen).  Durations are in days: a run of n
 * steps lasts n / steps_per_day days.  The transition matrix counts pairs of
 * consecutive steps inside a segment, (label at t, label at t+1), the diagonal
 * included; its rows divided by their sums are the transition probabilities.
 *
 * Dimension letters: T time steps, K clusters.
 */
#ifndef DSC_REGIME_STATS_H
#define DSC_REGIME_STATS_H

typedef struct {
    int k;
    double *frequency;        /* (12, K): share of the month's steps in regime k (NaN: no steps in that month) */
    long long *episodes;      /* (K) number of episodes */
    double *mean_duration;    /* (K) days (NaN: no episode) */
    double *median_duration;  /* (K) days */
    long long *transitions;   /* (K, K) consecutive-step pairs */
    long long total_episodes;
    double all_mean_duration, all_median_duration; /* over every episode */
    long long *episode_steps; /* (total_episodes) every episode's length in steps, in time order: episode i
                                 starts at the sum of the lengths before it */
    int *episode_label;       /* (total_episodes) its regime */
    double step_days;         /* the length of a step in days */
} regime_stats;

/* labels (T) in 0..K-1; month (T) 1..12 of every step; segments: nseg start
 * indices, ascending, the first 0 (NULL and 0: one segment).  DSC_ERR when out
 * of memory (recorded with dsc_fail). */
int regime_stats_compute(regime_stats *st, const int *labels, const int *month, long long T, int K,
                         const long long *seg_start, int nseg, int steps_per_day);
/* Durations (per regime and over all episodes) times factor: steps that are
 * not a whole fraction of a day (monthly data) computed with one step a day
 * and scaled by the step's length in days. */
void regime_stats_scale_durations(regime_stats *st, double factor);
void regime_stats_destroy(regime_stats *st);

#endif
