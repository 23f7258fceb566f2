/*
 * era5_catalog.h - what is in a list of ERA5 netCDF files.
 *
 * era5_catalog_open() looks at every file (collectively, with PnetCDF or,
 * for netCDF-4 files, netcdf-c's parallel API: nc_file.h),
 * finds the variables by name or alias, the time / latitude / longitude (and
 * expver) dimensions, the packing of every variable in every file, decodes
 * the CF times, orders the files in time, and checks that grids and
 * variables agree.  It reads no field data: that is era5_reader.c.
 *
 * Dimension letters used in shapes: T time steps, Y latitudes, X longitudes,
 * V variables, E expver entries.
 */
#ifndef DSC_ERA5_CATALOG_H
#define DSC_ERA5_CATALOG_H

#include <mpi.h>
#include "cf_time.h"

#define ERA5_MAX_VARS 16
#define ERA5_NAME_LEN 64
#define ERA5_PATH_LEN 4096
#define ERA5_MAX_MISSING 8  /* values of a missing_value attribute that are honoured */

/* Reading options shared by dsc info / train / eval (from the command line:
 * era5_options_from_cli in run_common.h). */
typedef struct {
    int nvars;                             /* 0 = every known field variable in the files */
    char vars[ERA5_MAX_VARS][ERA5_NAME_LEN]; /* requested canonical names or aliases */
    int has_box;
    double lat_min, lat_max, lon_min, lon_max; /* --box S,N,W,E in degrees */
    int has_start, has_end;
    dsc_datetime start, end;               /* --time-range START/END, inclusive; an END given as a
                                              date alone is 23:59:59 of that day */
    int daily_mean;                        /* --daily-mean: average the steps of each UTC day */
    int nlevels;                           /* --level: pressure levels (hPa) of variables on levels */
    double levels[ERA5_MAX_VARS];
    int process_grid[3];                   /* --process-grid TxYxX; 0 = automatic */
} era5_options;


typedef struct {
    char name[ERA5_NAME_LEN];      /* canonical short name (sst, sp, sshf, slhf, t2m, u10, v10) or the file's own */
    char units[ERA5_NAME_LEN];
    char long_name[128];
    int stream;                    /* which files hold it: 0, or 1 for a variable of the forecast layout read
                                      with variables of a time axis (era5_catalog.nstreams) */
} era5_variable;

/* How one variable is stored in one file. */
typedef struct {
    char nc_name[ERA5_NAME_LEN];   /* its name in this file (t2m, 2t, var167, ...) */
    int varid;
    int xtype;                     /* NC_SHORT, NC_FLOAT, NC_DOUBLE, ... */
    int packed;                    /* has scale_factor or add_offset */
    double scale_factor, add_offset;
    int has_fill;                  /* also set, with netCDF's default fill of the type, when there
                                      is no _FillValue attribute (not for bytes) */
    int has_missing;               /* number of missing_value entries (the attribute may list several) */
    double fill_value, missing_value[ERA5_MAX_MISSING]; /* in the packed (stored) domain; may be NaN
                                         (new CDS floats); a NaN or infinite value is missing in any case */
    int ndims;
    int dim_order[6];              /* position of T, E, Y, X, the level and the forecast hour in the variable's
                                      dims (-1 if absent); in the forecast layout T is the initial time */
    long long level_index;         /* variables on pressure levels: the index of the one read */
    double level;                  /* its value in hPa (name@level: z@500) */
    long long chunk[6];            /* netCDF-4: chunk lengths along T, E, Y, X, level, forecast hour (0: not
                                      chunked; classic files) */
    int deflate_level, shuffle;    /* netCDF-4 compression (0: none) */
    int filter;                    /* netCDF-4: id of another HDF5 filter (szip, zstd, ...), 0 if none */
    int part;                      /* which file of its era5_file holds it: 0 the file itself, k > 0 parts[k - 1];
                                      -1 none (a variable of the other stream) */
} era5_file_variable;

/* Another file that holds variables of the same time steps (new CDS: the
 * "instant" and "accum" files of one request). */
typedef struct {
    char path[ERA5_PATH_LEN];
    int format, netcdf4;
    long long nexpver;
} era5_part;

typedef struct {
    char path[ERA5_PATH_LEN];
    int format;                    /* NC_FILE_FORMAT_* of nc_file.h: classic, 64-bit offset, CDF-5, netCDF-4
                                      (classic model) */
    int netcdf4;                   /* read with netcdf-c (netCDF-4/HDF5), else PnetCDF */
    long long ntime;               /* time steps stored in the file (forecast layout: ninit * nhours, initial
                                      time by initial time) */
    long long ninit, nhours;       /* forecast layout (NCAR RDA's accumulated fluxes: dimensions
                                      forecast_initial_time and forecast_hour): step k is initial time
                                      k / nhours, forecast hour k % nhours, valid at initial time + hour;
                                      0 and 0 for a time axis */
    int stream;                    /* the stream of the variables it holds (era5_variable.stream) */
    int time_is_record;            /* time is the unlimited dimension */
    long long nexpver;             /* 0 when there is no expver dimension */
    long long file_nlat, file_nlon;
    era5_file_variable vars[ERA5_MAX_VARS]; /* same order as catalog.vars */
    int nparts;                    /* other files with variables of the same time steps (0: this one holds all) */
    era5_part *parts;              /* (nparts) owned by the catalog */
} era5_file;

/* Files whose variables differ are merged by variable: files with the same
 * time steps (every value equal) form one era5_file, whose variables each
 * come from one of them (the first in path order that has it), so the
 * catalog does not depend on the order the files are given in; the
 * variables are then in the order of the ERA5 names (sst, sp, sshf, slhf,
 * t2m, u10, v10), others after them by name.  A time step without some
 * variable is an error naming the variable and the file.
 *
 * Files in the forecast layout read together with files of a time axis
 * (NCAR RDA: half-month files of SSHF/SLHF beside monthly analysis files)
 * form a second stream: its files are merged among themselves as above,
 * and the two are joined by valid time.  The run's steps are the valid
 * times that both cover; steps at the ends that only one covers are left
 * out with a note, a step inside missing from one is an error naming the
 * variable and the time. */

/* One selected time step: where it comes from. */
typedef struct {
    double hours;                  /* hours since 1900-01-01 00:00 (proleptic Gregorian) */
    int file;                      /* index into catalog.files */
    long long index;               /* time index within that file */
} era5_step;

typedef struct {
    int nfiles;
    era5_file *files;              /* in time order */
    int nvars;
    era5_variable vars[ERA5_MAX_VARS];
    /* Grid after the box selection, in file order (latitude usually north to south). */
    int nlat, nlon;
    double *lat, *lon;             /* (Y), (X) */
    int lat0, lon0;                /* offset of the selection in the file grid */
    /* Time steps after the time-range selection and removal of duplicates, in order. */
    long long nsteps;
    era5_step *steps;              /* (nsteps) where the variables of stream 0 are */
    int nstreams;                  /* 1, or 2 with variables of the forecast layout beside others */
    era5_step *stream_steps;       /* ((nstreams - 1) * nsteps): where those of stream j > 0 are at step s:
                                      [(j - 1) * nsteps + s] (same hours as steps[s]); NULL when 1 */
    double step_hours;             /* most common spacing of the steps */
    /* Output time axis: equal to steps, or the days when daily_mean is set. */
    long long ntime;
    double *time;                  /* (ntime) hours since 1900-01-01 */
    long long *time_first_step;    /* (ntime + 1) steps [first[t], first[t+1]) make output time t */
    cf_calendar calendar;          /* of the files: CAL_STANDARD, CAL_GREGORIAN or CAL_NOLEAP (the others
                                      are refused); the axis is Gregorian in every case */
} era5_catalog;

/* Collective over comm.  paths: nfiles file names (globs already expanded by
 * the shell; a pattern without match is reported as a missing file).
 * DSC_ERR (agreed on all ranks, message printed) names the file and problem.
 * Also sets the record's segments for the sequence windows
 * (sample_set_segments): a new one after each gap of the output axis. */
int era5_catalog_open(MPI_Comm comm, char **paths, int npaths, const era5_options *opt, era5_catalog *cat);
void era5_catalog_destroy(era5_catalog *cat);

/* Canonical name for an alias ("2t" -> "t2m"); the name itself if unknown.
 * A variable on a pressure level is named NAME@LEVEL (z@500, in hPa). */
const char *era5_canonical_name(const char *name);

#endif
