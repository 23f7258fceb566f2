/*
 * timing.h - wall-clock timing of the benchmarks (dsc bench, bench/).
 */
#ifndef DSC_TIMING_H
#define DSC_TIMING_H

/* Seconds on a monotonic clock (differences only). */
double timing_now(void);
/* Median of t (n >= 1 values; sorts t in place): the figure to quote on a
 * shared machine. */
double timing_median(double *t, int n);

#endif
