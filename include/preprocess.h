/*
 * preprocess.h - from read samples to the network's input matrix.
 *
 *   1. missing values -> mean of the valid values of that variable over all
 *      ranks (paper section 5.1, per variable);
 *   2. optional anomalies: minus the day-of-year climatology;
 *   3. min-max scaling to [0, 1] per variable (paper eq. 8) or per grid cell
 *      and variable (the authors' notebook);
 *   4. zero padding of the grid to a multiple of 16 (41 x 41 -> 48 x 48) so
 *      that four 2x2 poolings divide it.  The padding goes at the end: rows
 *      after the last latitude and columns after the last longitude, so the
 *      data keep their place at the top left of every (height, width) field.
 * The statistics are kept (and saved with a trained model) so new data are
 * normalised the same way.
 *
 * Details that the paper leaves open:
 *   - the climatology of day of year d is the mean over the valid values
 *     (not NaN) of all samples on that day, per variable and grid cell;
 *     days are counted in a leap year (index 0..365, Feb 29 = 59, Mar 1 = 60
 *     in every year) so a date keeps its slot; a cell/day without valid
 *     values gets the variable's fill value (so a cell that is always
 *     missing, like SST over land, has anomaly 0);
 *   - a missing value is first replaced by the fill value, then the
 *     climatology is subtracted;
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

typedef struct {
    int nvars, nlat, nlon;      /* input grid */
    int height, width;          /* padded grid: multiples of 16 */
    scale_mode scaling;
    int anomalies;
    double fill[ERA5_MAX_VARS]; /* (V) mean of valid values */
    float *min, *max;           /* (V) or (V, Y, X) for SCALE_CELL */
    float *climatology;         /* (366, V, Y, X) when anomalies, else NULL */
} preprocess_stats;

/* What the user chose on the command line (every command that normalises
 * data takes the same options). */
typedef struct {
    scale_mode scaling;
    int anomalies;
} preprocess_options;

#define PREPROCESS_CLI_OPTIONS                                                                                     \
    {"scaling", 0, "variable|cell", "variable", "min-max scaling per variable (paper eq. 8) or per grid cell and variable"}, \
    {"anomalies", 0, NULL, NULL, "subtract the day-of-year climatology before scaling"}

/* Fills o from a parsed command that contains PREPROCESS_CLI_OPTIONS;
 * DSC_ERR naming the option on a bad value. */
int preprocess_options_from_cli(const cli_command *cmd, preprocess_options *o);

/* Collective: statistics over the samples of all ranks. */
int preprocess_fit(MPI_Comm comm, const era5_samples *s, const preprocess_options *o, preprocess_stats *st);
/* Local: writes (nt, V, height, width) normalised, padded samples to out. */
int preprocess_apply(const preprocess_stats *st, const era5_samples *s, float *out);
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

/* Serialised statistics, so a trained model can save and reload them: a flat
 * array of doubles (every value exact), laid out as
 *   [0] PREPROCESS_STATS_MAGIC  [1] PREPROCESS_STATS_VERSION
 *   [2] nvars  [3] nlat  [4] nlon  [5] height  [6] width  [7] scaling  [8] anomalies
 *   fill (V), min (M), max (M), climatology (366*V*Y*X, only when anomalies)
 * with M = V for SCALE_VARIABLE and V*Y*X for SCALE_CELL. */
#define PREPROCESS_STATS_MAGIC 1146307408.0 /* "DSCP" */
#define PREPROCESS_STATS_VERSION 1.0
#define PREPROCESS_STATS_HEADER 9
/* Number of doubles preprocess_stats_pack writes. */
size_t preprocess_stats_packed_size(const preprocess_stats *st);
void preprocess_stats_pack(const preprocess_stats *st, double *buf);
/* Local: rebuilds st (allocating min, max, climatology) from n doubles;
 * DSC_ERR with a message when buf is not a statistics record of this
 * version or its size does not match. */
int preprocess_stats_unpack(preprocess_stats *st, const double *buf, size_t n);

#endif
