/*
 * run_regimes.h - the life cycle of a run's labelling (regime_stats.h) on
 * the catalog's time axis: the calendar month of every time step, the
 * record's segments (a gap ends an episode, sample_exchange.h) and the
 * length of a time step in days, and the "regimes" key of metrics.json:
 *
 *   "regimes": {"episodes": N, "mean_episode_days": x, "median_episode_days": y,
 *               "per_cluster": [{"episodes": n, "mean_days": x, "median_days": y}, ...],
 *               "month_frequency": [[K shares] x 12] (null: a month without steps),
 *               "transitions": [[K counts] x K]},
 *
 * Above METRICS_JSON_MAX_MATRIX clusters per_cluster, month_frequency and
 * transitions are null (labels.nc holds them), so that the file stays small.
 *
 * Dimension letters: T time steps, K clusters.
 */
#ifndef DSC_RUN_REGIMES_H
#define DSC_RUN_REGIMES_H

#include <stdio.h>
#include "era5_catalog.h"
#include "regime_stats.h"

/* Local: st from labels (T = cat->ntime, values 0..k-1) on the output axis
 * of cat (daily_mean: one step a day).  The segments are those of the last
 * era5_catalog_open, which must be cat's.  DSC_ERR: out of memory. */
int run_regimes_compute(const era5_catalog *cat, int daily_mean, const int *labels, int k, regime_stats *st);

/* The length of an output time step in hours: the catalog's most common
 * spacing, a day with daily_mean when the input steps are shorter. */
double run_regimes_step_hours(const era5_catalog *cat, int daily_mean);

/* The "regimes" member of metrics.json, with indent "  ", ending ",\n". */
void run_regimes_write_json(FILE *f, const regime_stats *st);

#endif
