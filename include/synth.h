/*
 * synth.h - the ERA5-like sample data set generator (dsc synth).
 *
 * Writes one netCDF file per year, era5_YYYY.nc, shaped like a Copernicus
 * CDS download of the paper's seven variables (section 5.1: sst, sp, sshf,
 * slhf, t2m, u10, v10) on a 41 x 41 grid at 0.25 degrees near the Azores,
 * one field per day, plus truth.csv with the planted weather regime of every
 * day.  A value on day d (counted from 1900-01-01) is
 *
 *   mean + trend * (d - 2000-01-01) + climatology(y, x)
 *        + a1(y, x) cos(2 pi (phase(d) - peak1 - lag1(y, x)))
 *        + a2(y, x) cos(4 pi (phase(d) - peak2 - lag2(y, x)))
 *        + regime amplitude * (s_d pattern_{r_d}(y, x) + noise * x_d(y, x))
 *        [+ diurnal harmonic(hour) when several steps per day are written]
 *
 * squeezed smoothly into the paper's range of the variable.
 *
 * - Seasonal cycle: annual and semi-annual harmonics (phase(d) is the
 *   fraction of the mean Gregorian year) whose amplitudes and dates vary in
 *   space as along a coast (larger and earlier towards the "continent" in
 *   the north-east, damped and late over the open ocean).  It is larger
 *   than a regime anomaly, so clustering the raw fields mostly finds seasons.
 * - Regimes: pattern_r is one of K fixed smooth anomaly fields, coupled
 *   across variables (winds geostrophic to the pressure anomaly,
 *   temperatures following the meridional wind, fluxes following the
 *   air-sea temperature contrast).  r_d follows a Markov chain of episodes:
 *   a new episode starts with probability 1/persistence (5 days on average)
 *   and jumps to another regime with probabilities that depend on the day of
 *   the year (even regimes are more frequent in winter, odd ones in summer).
 *   Every episode has its own intensity (lognormal, mean 1) and s_d ramps up
 *   on its first day and down on its last, so transition days are weak.
 * - Noise: x_d is red noise, AR(1) in time with lag-1 autocorrelation 0.7
 *   and unit variance, of smooth fields built from a few random
 *   low-wavenumber waves; noise = 1.2 by default makes a single day often
 *   ambiguous (k-means on anomalies from a smooth climatology finds the
 *   regimes only in part; see doc/data.md).
 *
 * Every random number is a hash of (seed, stream, counters) with the day
 * counted from 1900-01-01, so a cell's value depends neither on the number
 * of ranks nor on which years were asked for: the files are byte-identical
 * at any rank count, and era5_2002.nc of --years 2001-2003 equals that of
 * --years 2002.
 */
#ifndef DSC_SYNTH_H
#define DSC_SYNTH_H

#include <mpi.h>
#include <stdint.h>

enum { SYNTH_NVARS = 7 };                           /* sst sp sshf slhf t2m u10 v10 */
/* legacy: CDF-2, packed shorts (the legacy CDS); cdf5: CDF-5 floats; newcds:
 * compressed netCDF-4 as the new CDS delivers it, one file per GRIB step
 * type a year (era5_YYYY_instant.nc: sst, sp, t2m, u10, v10;
 * era5_YYYY_accum.nc: sshf, slhf). */
typedef enum { SYNTH_LEGACY, SYNTH_CDF5, SYNTH_NEWCDS } synth_encoding;

typedef struct {
    const char *name;      /* "sst" */
    const char *units;     /* "K" */
    const char *long_name; /* "Sea surface temperature" */
    double lo, hi;         /* range of paper section 5.1; values stay inside */
} synth_variable;

/* The seven variables in file order. */
extern const synth_variable synth_variables[SYNTH_NVARS];

/* Written last into the output folder: the options and every file with its
 * size.  A folder without it holds an incomplete data set (an interrupted or
 * failed run); a new run removes it (and truth.csv) before writing.  A run
 * into a folder whose manifest names other options is refused unless
 * --force, which removes the files that manifest lists and this run does
 * not write. */
#define SYNTH_MANIFEST "manifest.txt"
/* Written first, replaced by manifest.txt at the end: the options of the
 * run and every file it writes or still removes, so that a folder left by
 * an interrupted run still says which data set its files belong to. */
#define SYNTH_PENDING "manifest.partial"

typedef struct {
    const char *output_dir;   /* created if missing */
    int year_first, year_last;
    int nlat, nlon;           /* grid, >= 2 x 2 */
    double resolution;        /* degrees */
    double lat_north;         /* first (northernmost) latitude */
    double lon_west;          /* first (westernmost) longitude */
    int use_var[SYNTH_NVARS]; /* 1: written (order of synth_variables) */
    int regimes;              /* K >= 1 */
    double noise;             /* noise std in units of the regime amplitude */
    double persistence;       /* mean run length of a regime in days (> 1) */
    uint64_t seed;
    int steps_per_day;        /* 1 (daily) .. 24 (hourly), divides 24 */
    synth_encoding encoding;
    int verbose;              /* rank 0 prints one line per file */
    int force;                /* replace another data set in output_dir */
} synth_options;

/* Defaults of dsc synth: sample/, 2001-2003, 41 x 41 at 0.25 deg from
 * 45N 30W, all variables, 7 regimes, noise 1.2, seed 42, daily, legacy. */
void synth_options_default(synth_options *opt);

/* Checks the options (the error names the command-line option); local. */
int synth_options_check(const synth_options *opt);

/* Parses "sst,sp,u10" into use[] (DSC_ERR naming the unknown variable). */
int synth_parse_vars(const char *list, int use[SYNTH_NVARS]);

/* Regime of every day from 1 Jan year_first to 31 Dec year_last:
 * regime[d], d = 0..ndays-1 (ndays from synth_count_days), and, unless
 * strength is NULL, the factor s_d of its pattern (episode intensity times
 * the ramp).  Identical on every rank; the chain starts on 1900-01-01 and
 * the ramp looks a few days ahead, so neither depends on the years asked
 * for. */
long long synth_count_days(int year_first, int year_last);
int synth_regime_sequence(int *regime /* (ndays) */, double *strength /* (ndays) or NULL */, const synth_options *opt);

/* The red noise x_d of variable var (order of synth_variables) on the days
 * day0 .. day0 + ndays - 1 from 1900-01-01, in units of its standard
 * deviation, for the grid of opt: out (ndays, nlat, nlon).  The same values
 * that synth_write uses, whatever day0 is. */
int synth_red_noise(double *out, const synth_options *opt, int var, long long day0, long long ndays);

/* Collective over comm: writes DIR/era5_YYYY.nc for every year,
 * DIR/truth.csv and, last, DIR/manifest.txt, holding a lock on DIR so that a
 * second run into it fails at once.  A folder holding another data set
 * (other options in its manifest, or files of ours that no manifest lists)
 * is refused unless opt->force.  Every rank returns the same status; on
 * failure rank 0 has printed the error, no temporary file remains and there
 * is no manifest. */
int synth_write(MPI_Comm comm, const synth_options *opt);

#endif
