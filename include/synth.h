/*
 * synth.h - the ERA5-like sample data set generator (dsc synth).
 *
 * Writes one netCDF file per year, era5_YYYY.nc, shaped like a Copernicus
 * CDS download of the paper's seven variables (section 5.1: sst, sp, sshf,
 * slhf, t2m, u10, v10) on a 41 x 41 grid at 0.25 degrees near the Azores,
 * one field per day, plus truth.csv with the planted weather regime of every
 * day.  A value is
 *
 *   mean + climatology(y, x) + seasonal harmonic(day of year)
 *        + regime amplitude * (pattern_r(y, x) + noise * eta_day(y, x))
 *        [+ diurnal harmonic(hour) when several steps per day are written]
 *
 * squeezed smoothly into the paper's range of the variable.  pattern_r is one
 * of K fixed smooth anomaly fields (the regimes), coupled across variables
 * (winds geostrophic to the pressure anomaly, temperatures following the
 * meridional wind, fluxes following the air-sea temperature contrast); r
 * follows a Markov chain with a mean persistence of 5 days; eta is smooth
 * noise of unit variance built from a few random low-wavenumber waves.
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
typedef enum { SYNTH_LEGACY, SYNTH_CDF5 } synth_encoding;

typedef struct {
    const char *name;      /* "sst" */
    const char *units;     /* "K" */
    const char *long_name; /* "Sea surface temperature" */
    double lo, hi;         /* range of paper section 5.1; values stay inside */
} synth_variable;

/* The seven variables in file order. */
extern const synth_variable synth_variables[SYNTH_NVARS];

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
} synth_options;

/* Defaults of dsc synth: sample/, 2001-2003, 41 x 41 at 0.25 deg from
 * 45N 30W, all variables, 7 regimes, noise 0.5, seed 42, daily, legacy. */
void synth_options_default(synth_options *opt);

/* Checks the options (the error names the command-line option); local. */
int synth_options_check(const synth_options *opt);

/* Parses "sst,sp,u10" into use[] (DSC_ERR naming the unknown variable). */
int synth_parse_vars(const char *list, int use[SYNTH_NVARS]);

/* Regime of every day from 1 Jan year_first to 31 Dec year_last:
 * regime[d], d = 0..ndays-1 (ndays from synth_count_days).  Identical on
 * every rank; the chain starts on 1900-01-01 so a day's regime does not
 * depend on year_first. */
long long synth_count_days(int year_first, int year_last);
int synth_regime_sequence(int *regime /* (ndays) */, const synth_options *opt);

/* Collective over comm: writes DIR/era5_YYYY.nc for every year and
 * DIR/truth.csv.  Every rank returns the same status; on failure rank 0 has
 * printed the error and no temporary file remains. */
int synth_write(MPI_Comm comm, const synth_options *opt);

#endif
