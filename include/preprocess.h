/*
 * preprocess.h - from read samples to the network's input matrix.
 *
 *   1. missing values -> mean of the valid values of that variable over all
 *      ranks (paper section 5.1, per variable);
 *   2. optional anomalies: minus the day-of-year climatology;
 *   3. min-max scaling to [0, 1] per variable (paper eq. 8) or per grid cell
 *      and variable (the authors' notebook);
 *   4. zero padding of the grid to a multiple of 16 (41 x 41 -> 48 x 48) so
 *      that four 2x2 poolings divide it.
 * The statistics are kept (and saved with a trained model) so new data are
 * normalised the same way.
 */
#ifndef DSC_PREPROCESS_H
#define DSC_PREPROCESS_H

#include <mpi.h>
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

/* Collective: statistics over the samples of all ranks. */
int preprocess_fit(MPI_Comm comm, const era5_samples *s, scale_mode scaling, int anomalies, preprocess_stats *st);
/* Local: writes (nt, V, height, width) normalised, padded samples to out. */
int preprocess_apply(const preprocess_stats *st, const era5_samples *s, float *out);
void preprocess_stats_destroy(preprocess_stats *st);

#endif
