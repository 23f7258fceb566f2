/*
 * preprocess.h - from read samples to the network's input matrix.
 *
 *   1. missing values -> mean of the valid values of that variable over all
 *      ranks (paper section 5.1, per variable);
 *   2. optional anomalies: minus a climatology, the seasonal cycle of every
 *      grid cell and variable (see below);
 *   3. min-max scaling to [0, 1] per variable (paper eq. 8) or per grid cell
 *      and variable (the authors' notebook);
 *   4. zero padding of the grid to a multiple of 16 (41 x 41 -> 48 x 48) so
 *      that four 2x2 poolings divide it.  The padding goes at the end: rows
 *      after the last latitude and columns after the last longitude, so the
 *      data keep their place at the top left of every (height, width) field.
 * The statistics are kept (and saved with a trained model) so new data are
 * normalised the same way.
 *
 * Two climatologies (--climatology):
 *   - harmonic (the default): per grid cell, variable and hour-of-day slot,
 *     the least-squares fit of
 *         c(t) = a + b tau + sum_{k=1..N} (c_k cos(2 pi k tau) + s_k sin(2 pi k tau))
 *     to the valid values, with tau = (t - origin) / (24 * 365.2425) the
 *     time in tropical years from a fixed origin (the middle of the record,
 *     on a whole day) and N = --harmonics (default 3).  The coefficients
 *     follow from the normal equations (X^T X) beta = X^T y of every cell,
 *     accumulated in double by each rank over its own time steps, summed
 *     with one MPI_Allreduce and solved by Cholesky in double, so the fit
 *     does not depend on the number of ranks (to rounding).  Missing values
 *     are left out of the fit (each cell has its own X^T X over its valid
 *     steps).  Sub-daily data get one fit per hour of day present in the
 *     data (slot = the whole hour of the step, 0..23): a diurnal cycle is
 *     not a seasonal anomaly.  Data at an hour without a slot use the
 *     slot of the nearest hour.  The climatology is evaluated at every
 *     sample's own time, so years outside the fitted record get the
 *     extrapolated trend and the same seasonal cycle.
 *     Guards: a record spanning less than 360 days cannot separate a
 *     seasonal cycle from a trend: every cell then gets its mean (no
 *     trend, no harmonics), with one warning.  A cell whose system is
 *     singular (too few valid values, or values on too few distinct
 *     phases) keeps the longest leading model that is not (mean + trend +
 *     fewer harmonics, mean + trend, mean), with one warning giving the
 *     number of such cells.  A cell without valid values gets the
 *     variable's fill value.  A Cholesky pivot counts as singular when it
 *     is below 1e-10 of the diagonal entry it started from.
 *   - daily: the climatology of day of year d is the mean over the valid
 *     values (not NaN) of all samples on that day, per variable and grid
 *     cell; days are counted in a leap year (index 0..365, Feb 29 = 59,
 *     Mar 1 = 60 in every year) so a date keeps its slot; a cell/day
 *     without valid values gets the variable's fill value (so a cell that is
 *     always missing, like SST over land, has anomaly 0).  With a few years
 *     each day's mean is mostly noise.
 *
 * Details that the paper leaves open:
 *   - a missing value is first replaced by the fill value, then the
 *     climatology is subtracted (both kinds);
 *   - the value before scaling is rounded to float; min and max are taken
 *     over those values of all ranks; a constant variable (or cell) scales
 *     to 0.
 */
#ifndef DSC_PREPROCESS_H
#define DSC_PREPROCESS_H

#include <mpi.h>
#include <stddef.h>
#include "cli.h"
#include "era5_reader.h"

typedef enum { SCALE_VARIABLE = 0, SCALE_CELL = 1 } scale_mode;
typedef enum { CLIMATOLOGY_HARMONIC = 0, CLIMATOLOGY_DAILY = 1 } climatology_kind;

/* Limits of the harmonic climatology: at most this many annual harmonics,
 * and one hour-of-day slot per hour. */
#define PREPROCESS_MAX_HARMONICS 6
#define PREPROCESS_MAX_SLOTS 24
/* A record shorter than this (last minus first time, in days) gets the
 * per-cell mean as its climatology. */
#define PREPROCESS_MIN_SPAN_DAYS 360.0
/* Length of the harmonic cycle in days (the tropical year). */
#define PREPROCESS_YEAR_DAYS 365.2425

typedef struct {
    int nvars, nlat, nlon;      /* input grid */
    int height, width;          /* padded grid: multiples of 16 */
    scale_mode scaling;
    int anomalies;
    climatology_kind climatology_kind; /* when anomalies */
    double fill[ERA5_MAX_VARS]; /* (V) mean of valid values */
    float *min, *max;           /* (V) or (V, Y, X) for SCALE_CELL */
    float *climatology;         /* daily: (366, V, Y, X), else NULL */
    /* harmonic: */
    int harmonics;              /* N; P = 2 + 2 N coefficients per cell */
    double time_origin;         /* hours since 1900-01-01 where tau = 0 */
    int nslots;                 /* S hour-of-day slots with their own fit */
    int slot_hour[PREPROCESS_MAX_SLOTS]; /* (S) hour of day 0..23 of each slot, increasing */
    double *coef;               /* (S, V, Y, X, P): a, b, c_1, s_1, ..., c_N, s_N; else NULL */
    /* What the statistics were fitted on, so that a trained model can match
     * new data to its inputs by name and check their units and grid
     * (model_inputs.h fills them; records of version 1 and 2 have none): */
    int has_inputs;
    char var_name[ERA5_MAX_VARS][ERA5_NAME_LEN];  /* (V) canonical names (era5_canonical_name) */
    char var_units[ERA5_MAX_VARS][ERA5_NAME_LEN]; /* (V) units attribute, "" if none */
    double *lat, *lon;          /* (Y), (X) coordinates in degrees; NULL without has_inputs */
} preprocess_stats;

/* What the user chose on the command line (every command that normalises
 * data takes the same options). */
typedef struct {
    scale_mode scaling;
    int anomalies;
    climatology_kind climatology; /* only with anomalies */
    int harmonics;                /* N of the harmonic climatology */
} preprocess_options;

#define PREPROCESS_CLI_OPTIONS                                                                                     \
    {"scaling", 0, "variable|cell", "variable", "min-max scaling per variable (paper eq. 8) or per grid cell and variable"}, \
    {"anomalies", 0, NULL, NULL, "subtract the climatology (seasonal cycle of each cell and variable) before scaling"}, \
    {"climatology", 0, "harmonic|daily", "harmonic",                                                              \
     "with --anomalies: least-squares mean + trend + annual harmonics per cell (and hour of day), or the raw mean of each calendar day"}, \
    {"harmonics", 0, "N", "3", "with --anomalies --climatology harmonic: number of annual harmonics, 0..6"}

/* Fills o from a parsed command that contains PREPROCESS_CLI_OPTIONS;
 * DSC_ERR naming the option on a bad value. */
int preprocess_options_from_cli(const cli_command *cmd, preprocess_options *o);

/* Collective: statistics over the samples of all ranks. */
int preprocess_fit(MPI_Comm comm, const era5_samples *s, const preprocess_options *o, preprocess_stats *st);
/* Local: writes (nt, V, height, width) normalised, padded samples to out. */
int preprocess_apply(const preprocess_stats *st, const era5_samples *s, float *out);
/* Local: writes the (nt, V, Y, X) values before scaling to out: missing
 * values filled, the climatology of each sample's time subtracted when
 * anomalies (the anomaly matrix). */
int preprocess_prepare(const preprocess_stats *st, const era5_samples *s, float *out);
void preprocess_stats_destroy(preprocess_stats *st);
/* Local, in place: n padded samples x (n, V, height, width) become
 * (n, V, nlat, nlon), the grid's real cells only (the metrics of the input
 * space refer to them, not to the network's zero padding). */
void preprocess_unpad(const preprocess_stats *st, float *x, long long n);

/* n rounded up to a multiple of 16. */
static inline int preprocess_padded_size(int n) { return (n + 15) / 16 * 16; }
/* Climatology slot 0..365 of a time (hours since 1900-01-01): the day of
 * year counted in a leap year. */
int preprocess_day_index(double hours);

/* Hour-of-day slot 0..23 of a time (hours since 1900-01-01). */
int preprocess_hour_of_day(double hours);
/* The P = 2 + 2 N basis functions of the harmonic climatology at a time:
 * 1, tau, cos(2 pi tau), sin(2 pi tau), ..., cos(2 pi N tau), sin(2 pi N tau)
 * with tau = (hours - origin) / (24 * PREPROCESS_YEAR_DAYS). */
void preprocess_harmonic_basis(double hours, double origin, int harmonics, double *basis);

/* Serialised statistics, so a trained model can save and reload them: a flat
 * array of doubles (every value exact), laid out as
 *   [0] PREPROCESS_STATS_MAGIC  [1] version (3, or 2 without has_inputs)
 *   [2] nvars  [3] nlat  [4] nlon  [5] height  [6] width  [7] scaling  [8] anomalies
 *   [9] climatology kind  [10] harmonics N  [11] time origin  [12] slots S
 *   fill (V), min (M), max (M), then when anomalies
 *     daily:    climatology (366*V*Y*X)
 *     harmonic: slot hours (S), coefficients (S*V*Y*X*P)
 *   then in version 3 (has_inputs) the inputs:
 *     per variable its name and its units, PREPROCESS_STATS_CHARS doubles
 *     each (one character code 0..255 per entry, zeros after the end of
 *     the text, at least one zero), then latitudes (Y), longitudes (X)
 * with M = V for SCALE_VARIABLE and V*Y*X for SCALE_CELL.  Version 1
 * records (9 header entries, daily climatology only) and version 2 records
 * (no inputs) are still read. */
#define PREPROCESS_STATS_MAGIC 1146307408.0 /* "DSCP" */
#define PREPROCESS_STATS_VERSION 3.0
#define PREPROCESS_STATS_HEADER 13
#define PREPROCESS_STATS_HEADER_V1 9
#define PREPROCESS_STATS_CHARS ERA5_NAME_LEN
/* Largest grid side a record may declare (a 0.25 degree global grid is 721 x 1440). */
#define PREPROCESS_STATS_MAX_SIDE (1 << 20)
/* Number of doubles preprocess_stats_pack writes. */
size_t preprocess_stats_packed_size(const preprocess_stats *st);
void preprocess_stats_pack(const preprocess_stats *st, double *buf);
/* Local: rebuilds st (allocating min, max, climatology / coef, lat / lon)
 * from n doubles; DSC_ERR with a message when buf is not a statistics
 * record of version 1, 2 or 3 or its size or contents do not match. */
int preprocess_stats_unpack(preprocess_stats *st, const double *buf, size_t n);

#endif
