/*
 * era5_catalog.c - what is in a list of ERA5 netCDF files (see era5_catalog.h).
 *
 * Every rank opens every file on the same communicator, with PnetCDF or
 * (netCDF-4/HDF5 files) netcdf-c's parallel API (nc_file.h; the header is
 * read once and broadcast by the library), reads the small
 * coordinate variables collectively and so builds the same catalog; field
 * data are left to era5_reader.c.  Files are handled one at a time and
 * closed again.  Each step that may fail on one rank (a missing file, a bad
 * header) ends with dsc_agree() before the next collective call, so a bad
 * file never leaves ranks waiting inside ncmpi_open or a collective read.
 *
 *   mpirun -n 4 dsc info era5_2001.nc era5_2002.nc
 *
 * Dimension letters: T time steps, Y latitudes, X longitudes, V variables,
 * E expver entries.
 */
#include "era5_catalog.h"
#include "nc_file.h"
#include "nc_header.h"
#include "sample_exchange.h"
#include "status.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FIELDS 64     /* field variables looked at per file */
#define GRID_TOLERANCE 1e-6
#define VAR_DIMS_MAX 8    /* dimensions of a variable we look at (PnetCDF's NC_MAX_VAR_DIMS is INT_MAX) */

/* ------------------------------------------------------------------------ */
/* names                                                                    */

/* ERA5 short names of the paper's seven variables and the names GRIB
 * converters give them (CDO writes the GRIB short name or varNNN with the
 * ECMWF parameter number), and the upper-case names of NCAR's RDA ds633.0
 * files (SSTK, VAR_2T, ...). */
#define ALIAS_MAX 5
static const char *const aliases[][ALIAS_MAX] = {
    {"sst", "var34", "SSTK", NULL, NULL},
    {"sp", "var134", "SP", NULL, NULL},
    {"sshf", "var146", "SSHF", NULL, NULL},
    {"slhf", "var147", "SLHF", NULL, NULL},
    {"t2m", "2t", "var167", "VAR_2T", NULL},
    {"u10", "10u", "var165", "VAR_10U", NULL},
    {"v10", "10v", "var166", "VAR_10V", NULL},
};

const char *era5_canonical_name(const char *name)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        for (int k = 0; k < ALIAS_MAX && aliases[i][k]; k++)
            if (strcmp(name, aliases[i][k]) == 0) return aliases[i][0];
    return name;
}

/* The canonical name of a variable of --vars or of a file: aliases
 * resolved, and NAME@LEVEL written with the level as %g (z@500.0 -> z@500);
 * buf holds ERA5_NAME_LEN bytes. */
static const char *canonical_key(const char *name, char *buf)
{
    const char *at = strchr(name, '@');
    if (!at) {
        snprintf(buf, ERA5_NAME_LEN, "%s", era5_canonical_name(name));
        return buf;
    }
    char base[ERA5_NAME_LEN];
    snprintf(base, sizeof base, "%.*s", (int)(at - name), name);
    char *end;
    double level = strtod(at + 1, &end);
    if (end == at + 1 || *end) snprintf(buf, ERA5_NAME_LEN, "%s", name); /* not a level: matches nothing */
    else snprintf(buf, ERA5_NAME_LEN, "%.*s@%g", ERA5_NAME_LEN - 16, era5_canonical_name(base), level);
    return buf;
}

static const char *const time_names[] = {"time", "valid_time", "t", NULL};
static const char *const level_names[] = {"pressure_level", "level", "plev", "isobaricInhPa", NULL};
static const char *const lat_names[] = {"latitude", "lat", "y", NULL};
static const char *const lon_names[] = {"longitude", "lon", "x", NULL};

/* ------------------------------------------------------------------------ */
/* one file                                                                 */

/* What the header of one file says, before files are compared. */
typedef struct {
    era5_file file;
    char time_units[128], calendar[64];
    char time_dim_name[ERA5_NAME_LEN], lat_dim_name[ERA5_NAME_LEN], lon_dim_name[ERA5_NAME_LEN];
    int nfields;                                   /* field variables: (T, [E], Y, X) */
    era5_file_variable fields[MAX_FIELDS];
    char names[MAX_FIELDS][ERA5_NAME_LEN];         /* canonical name of each field (z@500 on a level) */
    char units[MAX_FIELDS][ERA5_NAME_LEN];
    char long_name[MAX_FIELDS][128];
    double *lat, *lon;                             /* (file_nlat), (file_nlon) */
    double *hours;                                 /* (ntime) hours since 1900-01-01 */
    char level_dim_name[ERA5_NAME_LEN];            /* pressure levels: their dimension ("" if none) */
    int level_varid;
    long long nlevels;
    double *levels;                                /* (nlevels) hPa */
    cf_calendar calendar_kind;                     /* the decoded calendar attribute */
} file_scan;

static void file_scan_destroy(file_scan *s)
{
    free(s->file.parts);
    s->file.parts = NULL;
    free(s->lat);
    free(s->lon);
    free(s->hours);
    free(s->levels);
    s->lat = s->lon = s->hours = s->levels = NULL;
}

/* Rank 0, before a library sees the file: the errors a user can fix, each
 * with its own message.  *size gets the file size, *netcdf4 whether it is
 * netCDF-4/HDF5 (read with netcdf-c) rather than classic (PnetCDF). */
static int precheck_file(const char *path, long long *size, int *netcdf4)
{
    struct stat sb;
    *netcdf4 = 0;
    if (strlen(path) >= ERA5_PATH_LEN) return dsc_fail("%.200s...: path longer than %d characters", path, ERA5_PATH_LEN - 1);
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT || errno == ENOTDIR)
            return dsc_fail("%s: no such file; check the path (a pattern that matches nothing is passed on unexpanded)",
                            path);
        return dsc_fail("%s: cannot be read (%s); check the path and its permissions", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode))
        return dsc_fail("%s: is a directory, not a netCDF file; give the files inside it (DIR/*.nc)", path);
    if (!S_ISREG(sb.st_mode)) return dsc_fail("%s: is not a regular file; give a netCDF file", path);
    if (access(path, R_OK) != 0)
        return dsc_fail("%s: not readable (%s); check the file permissions", path, strerror(errno));
    *size = (long long)sb.st_size;
    FILE *fp = fopen(path, "rb");
    if (!fp) return dsc_fail("%s: not readable (%s); check the file permissions", path, strerror(errno));
    nc_kind kind = nc_file_sniff(fp, *size);
    /* A header whose counts do not fit in the file can crash PnetCDF. */
    char why[256] = "";
    int is_cdf = kind == NC_KIND_CDF1 || kind == NC_KIND_CDF2 || kind == NC_KIND_CDF5;
    int header_bad = is_cdf && nc_header_check(fp, *size, NULL, why, sizeof why) != 0;
    fclose(fp);
    switch (kind) {
    case NC_KIND_CDF1: case NC_KIND_CDF2: case NC_KIND_CDF5:
        if (header_bad) return dsc_fail("%s: truncated or damaged netCDF header (%s); download or convert it again", path, why);
        return DSC_OK;
    case NC_KIND_HDF5:
        if (nc_file_have_netcdf4()) {
            *netcdf4 = 1;
            return DSC_OK;
        }
        return dsc_fail("%s: is netCDF-4/HDF5 (the new CDS format), which this build of dsc cannot read (it was built "
                        "without netcdf-c's parallel API: rebuild with libnetcdf-mpi-dev, see doc/install.md); or "
                        "convert it with 'nccopy -k cdf5 -V number,valid_time,latitude,longitude,VARS in.nc out.nc' "
                        "(VARS = the variables, e.g. t2m; leave out the string variable expver)",
                        path);
    case NC_KIND_EMPTY: return dsc_fail("%s: empty file (0 bytes); download or convert it again", path);
    case NC_KIND_ZIP:
        return dsc_fail("%s: is a zip archive (the CDS zips the files of one request, such as the instant and accum "
                        "files of a netCDF request, even under a .nc name); unzip it ('unzip -d DIR %s') and give the "
                        ".nc files inside",
                        path, path);
    case NC_KIND_GRIB:
        return dsc_fail("%s: is a GRIB file, not netCDF; convert it with 'cdo -f nc5 copy in.grib out.nc'", path);
    case NC_KIND_CDF_TRUNCATED:
        return dsc_fail("%s: truncated netCDF file (%lld bytes); download or convert it again", path, *size);
    default:
        return dsc_fail("%s: not a netCDF file (it does not start with the netCDF or HDF5 signature); give netCDF "
                        "classic, 64-bit offset, CDF-5 or netCDF-4 files",
                        path);
    }
}

/* The file starts with a netCDF or HDF5 signature (precheck_file), so a
 * header the library cannot parse is one cut short or damaged. */
static int open_error(const nc_file *nc, const char *path, int err)
{
    if (err == NC_ENOENT || err == NC_EACCESS || err == NC_EFILE || err == NC_ENOMEM)
        return dsc_fail("%s: cannot be opened (%s); check the path and its permissions", path, nc_file_strerror(nc, err));
    return dsc_fail("%s: truncated or damaged %s (%s); download or convert it again", path,
                    nc->netcdf4 ? "netCDF-4/HDF5 file" : "netCDF header", nc_file_strerror(nc, err));
}

static const char *find_name(const nc_file *nc, const char *const *names, int *dimid)
{
    for (int k = 0; names[k]; k++)
        if (nc_file_inq_dimid(nc, names[k], dimid) == NC_NOERR) return names[k];
    return NULL;
}

static int is_numeric(int t)
{
    return t == NC_BYTE || t == NC_SHORT || t == NC_INT || t == NC_FLOAT || t == NC_DOUBLE || t == NC_UBYTE ||
           t == NC_USHORT || t == NC_UINT || t == NC_INT64 || t == NC_UINT64;
}

/* Text attribute into buf ("" if absent or not text). */
static void get_text_att(const nc_file *nc, int varid, const char *name, char *buf, size_t len)
{
    int t;
    long long n;
    buf[0] = '\0';
    if (nc_file_inq_att(nc, varid, name, &t, &n) != NC_NOERR || t != NC_CHAR || n < 0) return;
    if ((size_t)n >= len) {
        char *tmp = malloc((size_t)n + 1);
        if (!tmp) return;
        if (nc_file_get_att_text(nc, varid, name, tmp) == NC_NOERR) {
            memcpy(buf, tmp, len - 1);
            buf[len - 1] = '\0';
        }
        free(tmp);
        return;
    }
    if (nc_file_get_att_text(nc, varid, name, buf) != NC_NOERR) n = 0;
    buf[n] = '\0';
    /* some writers include the terminating NUL in the length */
    while (n > 0 && (buf[n - 1] == '\0' || buf[n - 1] == ' ')) buf[--n] = '\0';
}

/* Numeric attribute as doubles: its number of values (up to max are
 * stored in out), 0 if absent or not numeric. */
static int get_double_atts(const nc_file *nc, int varid, const char *name, double *out, int max)
{
    int t;
    long long n;
    if (nc_file_inq_att(nc, varid, name, &t, &n) != NC_NOERR || n < 1 || !is_numeric(t) || n > INT_MAX) return 0;
    /* the library writes every value of the attribute, however many */
    double *v = malloc((size_t)n * sizeof *v);
    if (!v || nc_file_get_att_double(nc, varid, name, v) != NC_NOERR) {
        free(v);
        return 0;
    }
    for (long long i = 0; i < n && i < max; i++) out[i] = v[i];
    free(v);
    return (int)n;
}

/* Numeric attribute as double (its first value); 0 if absent. */
static int get_double_att(const nc_file *nc, int varid, const char *name, double *out)
{
    return get_double_atts(nc, varid, name, out, 1) > 0;
}

/* netCDF's default fill value of a type: data never written read as this,
 * and the netCDF conventions say readers treat it as missing (except bytes). */
static int default_fill(int t, double *out)
{
    switch (t) {
    case NC_SHORT: *out = NC_FILL_SHORT; return 1;
    case NC_USHORT: *out = NC_FILL_USHORT; return 1;
    case NC_INT: *out = NC_FILL_INT; return 1;
    case NC_UINT: *out = NC_FILL_UINT; return 1;
    case NC_FLOAT: *out = NC_FILL_FLOAT; return 1;
    case NC_DOUBLE: *out = NC_FILL_DOUBLE; return 1;
    case NC_INT64: *out = (double)NC_FILL_INT64; return 1;
    case NC_UINT64: *out = (double)NC_FILL_UINT64; return 1;
    default: return 0;
    }
}

/* ncmpi_inq_var for variables of at most VAR_DIMS_MAX dimensions; more
 * dimensions: ndims is set, dimids not (no such variable is of interest). */
static int inquire_var(const nc_file *nc, int varid, char *name, int *t, int *ndims, int dimids[VAR_DIMS_MAX])
{
    int err = nc_file_inq_varndims(nc, varid, ndims);
    if (err != NC_NOERR) return err;
    if (*ndims > VAR_DIMS_MAX) return nc_file_inq_var(nc, varid, name, t, NULL);
    return nc_file_inq_var(nc, varid, name, t, dimids);
}

static MPI_Offset type_size(int t)
{
    switch (t) {
    case NC_BYTE: case NC_UBYTE: case NC_CHAR: return 1;
    case NC_SHORT: case NC_USHORT: return 2;
    case NC_INT: case NC_UINT: case NC_FLOAT: return 4;
    case NC_DOUBLE: case NC_INT64: case NC_UINT64: return 8;
    default: return 0;
    }
}

/* The smallest size the file must have for its header to be right: the end
 * of the last byte of data any variable has.  A download cut short (head -c)
 * keeps a valid header but loses data, which PnetCDF would read as zeros. */
static long long expected_file_size(const nc_file *nc)
{
    const int ncid = nc->ncid; /* a classic file: PnetCDF */
    MPI_Offset header = 0, recsize = 0, numrecs = 0;
    int nvars = 0, unlimdim = -1;
    ncmpi_inq_header_size(ncid, &header);
    ncmpi_inq_recsize(ncid, &recsize);
    ncmpi_inq_nvars(ncid, &nvars);
    ncmpi_inq_unlimdim(ncid, &unlimdim);
    if (unlimdim >= 0) ncmpi_inq_dimlen(ncid, unlimdim, &numrecs);
    long long need = (long long)header;
    for (int v = 0; v < nvars; v++) {
        MPI_Offset offset, tsize;
        int t;
        int ndims, dimids[VAR_DIMS_MAX];
        if (inquire_var(nc, v, NULL, &t, &ndims, dimids) != NC_NOERR || ndims > VAR_DIMS_MAX) continue;
        if (ncmpi_inq_varoffset(ncid, v, &offset) != NC_NOERR) continue;
        if ((tsize = type_size(t)) == 0) continue;
        int is_record = ndims > 0 && dimids[0] == unlimdim;
        /* A damaged header can declare sizes whose product overflows: such a
         * file cannot be as large as it says (LLONG_MAX, refused as truncated). */
        long long count = 1, end = 0;
        int overflow = 0;
        for (int d = is_record; d < ndims; d++) {
            MPI_Offset len = 0;
            ncmpi_inq_dimlen(ncid, dimids[d], &len);
            overflow |= __builtin_mul_overflow(count, (long long)len, &count);
        }
        if (!overflow && (count == 0 || (is_record && numrecs == 0))) continue;
        overflow |= __builtin_mul_overflow(count, (long long)tsize, &end);
        overflow |= __builtin_add_overflow(end, (long long)offset, &end);
        if (is_record) {
            long long rest;
            overflow |= __builtin_mul_overflow((long long)numrecs - 1, (long long)recsize, &rest);
            overflow |= __builtin_add_overflow(end, rest, &end);
        }
        if (overflow) return LLONG_MAX;
        if (end > need) need = end;
    }
    return need;
}

/* Local: dimensions, coordinates and field variables of an open file. */
/* Whether the file variable name is one of --vars (every one when absent). */
static int requested(const era5_options *opt, const char *name)
{
    if (!opt || opt->nvars == 0) return 1;
    for (int v = 0; v < opt->nvars; v++) {
        char base[ERA5_NAME_LEN];
        snprintf(base, sizeof base, "%.*s", (int)strcspn(opt->vars[v], "@"), opt->vars[v]);
        if (strcmp(era5_canonical_name(base), era5_canonical_name(name)) == 0) return 1;
    }
    return 0;
}

/* netCDF-4: the chunk lengths along time, expver, latitude and longitude and
 * the compression of a field (what the reader aligns its requests to, and
 * what dsc info shows); a filter this HDF5 cannot apply is refused here, not
 * at the first read. */
static int describe_storage(const nc_file *nc, const char *path, const char *name, era5_file_variable *fv)
{
    nc_file_storage st;
    int err = nc_file_inq_storage(nc, fv->varid, fv->ndims, &st);
    if (err != NC_NOERR)
        return dsc_fail("%s: variable %s: its storage cannot be read (%s); the file may be damaged", path, name,
                        nc_file_strerror(nc, err));
    if (st.filtered < 0)
        return dsc_fail("%s: variable %s is compressed with HDF5 filter %d, which this HDF5 cannot decompress; "
                        "rewrite it with 'nccopy -d 1 in.nc out.nc' (deflate) or load an HDF5 with that filter "
                        "(HDF5_PLUGIN_PATH)",
                        path, name, -st.filtered);
    for (int k = 0; k < 6; k++) fv->chunk[k] = st.chunked && fv->dim_order[k] >= 0 ? st.chunk[fv->dim_order[k]] : 0;
    fv->deflate_level = st.deflate_level;
    fv->shuffle = st.shuffle;
    fv->filter = st.filtered;
    return DSC_OK;
}

/* The dimensions of a file: time (or, in the forecast layout, initial time
 * and forecast hour), latitude, longitude, and perhaps expver and pressure
 * levels; their lengths into s->file. */
typedef struct {
    int t, y, x, e, l, h; /* dimension ids; -1 if absent */
    const char *tname, *yname, *xname;
} header_dims;

static int find_dimensions(const nc_file *nc, const char *path, file_scan *s, header_dims *d)
{
    era5_file *f = &s->file;
    d->e = d->l = d->h = -1;
    /* NCAR RDA's accumulated fluxes: (forecast_initial_time, forecast_hour, latitude, longitude) */
    if (nc_file_inq_dimid(nc, "forecast_initial_time", &d->t) == NC_NOERR && nc_file_inq_dimid(nc, "forecast_hour", &d->h) == NC_NOERR)
        d->tname = "forecast_initial_time";
    else {
        d->h = -1;
        d->tname = find_name(nc, time_names, &d->t);
    }
    d->yname = find_name(nc, lat_names, &d->y);
    d->xname = find_name(nc, lon_names, &d->x);
    if (!d->tname) return dsc_fail("%s: no time dimension (looked for time, valid_time, t); give ERA5 files with a time axis", path);
    if (!d->yname) return dsc_fail("%s: no latitude dimension (looked for latitude, lat, y); give ERA5 files on a latitude/longitude grid", path);
    if (!d->xname) return dsc_fail("%s: no longitude dimension (looked for longitude, lon, x); give ERA5 files on a latitude/longitude grid", path);
    snprintf(s->time_dim_name, sizeof s->time_dim_name, "%s", d->tname);
    snprintf(s->lat_dim_name, sizeof s->lat_dim_name, "%s", d->yname);
    snprintf(s->lon_dim_name, sizeof s->lon_dim_name, "%s", d->xname);
    if (nc_file_inq_dimid(nc, "expver", &d->e) != NC_NOERR) d->e = -1;
    const char *lname = find_name(nc, level_names, &d->l);
    if (!lname) d->l = -1;
    s->level_varid = -1;
    if (lname) {
        int ndims, dimids[VAR_DIMS_MAX], t;
        snprintf(s->level_dim_name, sizeof s->level_dim_name, "%s", lname);
        nc_file_inq_dimlen(nc, d->l, &s->nlevels);
        if (nc_file_inq_varid(nc, lname, &s->level_varid) != NC_NOERR ||
            inquire_var(nc, s->level_varid, NULL, &t, &ndims, dimids) != NC_NOERR || ndims != 1 || dimids[0] != d->l ||
            !is_numeric(t))
            return dsc_fail("%s: no numeric coordinate variable '%s' gives the pressure levels; give ERA5 files with "
                            "level values",
                            path, lname);
    }
    int unlimdim = -1;
    nc_file_inq_unlimdim(nc, &unlimdim);
    long long len;
    nc_file_inq_dimlen(nc, d->t, &len);
    f->ntime = len;
    f->ninit = f->nhours = 0;
    if (d->h >= 0) {
        nc_file_inq_dimlen(nc, d->h, &f->nhours);
        f->ninit = len;
        if (f->nhours == 0) return dsc_fail("%s: holds no forecast hours (forecast_hour has length 0); leave the file out", path);
        f->ntime = len * f->nhours;
    }
    f->time_is_record = (d->t == unlimdim);
    nc_file_inq_dimlen(nc, d->y, &len);
    f->file_nlat = len;
    nc_file_inq_dimlen(nc, d->x, &len);
    f->file_nlon = len;
    f->nexpver = 0;
    if (d->e >= 0) {
        nc_file_inq_dimlen(nc, d->e, &len);
        f->nexpver = len;
    }
    if (f->ntime == 0) return dsc_fail("%s: holds no time steps (%s has length 0); leave the file out", path, d->tname);
    if (f->file_nlat == 0 || f->file_nlon == 0)
        return dsc_fail("%s: empty grid (%lld x %lld); give ERA5 files with data", path, f->file_nlat, f->file_nlon);
    nc_file_inq_format(nc, &f->format);
    return DSC_OK;
}

/* The coordinate variables, which carry the name of their dimension
 * (forecast_hour too in the forecast layout), and the time units. */
static int find_coordinates(const nc_file *nc, const char *path, const header_dims *d, file_scan *s, int *cvar)
{
    const char *cname[4] = {d->tname, d->yname, d->xname, "forecast_hour"};
    int cdim[4] = {d->t, d->y, d->x, d->h};
    for (int k = 0; k < 4; k++) {
        int ndims, dimids[VAR_DIMS_MAX];
        int t;
        cvar[k] = -1;
        if (cdim[k] < 0) continue;
        if (nc_file_inq_varid(nc, cname[k], &cvar[k]) != NC_NOERR)
            return dsc_fail("%s: no coordinate variable '%s'; give ERA5 files with %s values", path, cname[k], cname[k]);
        inquire_var(nc, cvar[k], NULL, &t, &ndims, dimids);
        if (ndims != 1 || dimids[0] != cdim[k] || !is_numeric(t))
            return dsc_fail("%s: coordinate variable '%s' is not a numeric 1-D variable along %s", path, cname[k], cname[k]);
    }
    get_text_att(nc, cvar[0], "units", s->time_units, sizeof s->time_units);
    get_text_att(nc, cvar[0], "calendar", s->calendar, sizeof s->calendar);
    if (!s->time_units[0])
        return dsc_fail("%s: time variable '%s' has no units attribute (such as 'hours since 1900-01-01')", path, d->tname);
    return DSC_OK;
}

/* Packing, fill and missing values and storage of field i (variable v). */
static int describe_field(const nc_file *nc, const char *path, int v, int t, file_scan *s, int i)
{
    era5_file_variable *fv = &s->fields[i];
    const char *name = fv->nc_name;
    int has_scale = get_double_att(nc, v, "scale_factor", &fv->scale_factor);
    int has_offset = get_double_att(nc, v, "add_offset", &fv->add_offset);
    if (!has_scale) fv->scale_factor = 1.0;
    if (!has_offset) fv->add_offset = 0.0;
    /* a zero scale_factor turns every value into add_offset, and a
     * non-finite one or add_offset turns them into NaN or Inf: the data
     * would silently read as constant or missing */
    if (has_scale && (fv->scale_factor == 0.0 || !isfinite(fv->scale_factor)))
        return dsc_fail("%s: variable %s has scale_factor %g, which cannot unpack its data; fix the attribute "
                        "(a non-zero finite number)",
                        path, name, fv->scale_factor);
    if (has_offset && !isfinite(fv->add_offset))
        return dsc_fail("%s: variable %s has add_offset %g, which cannot unpack its data; fix the attribute "
                        "(a finite number)",
                        path, name, fv->add_offset);
    fv->packed = has_scale || has_offset;
    fv->has_fill = get_double_att(nc, v, "_FillValue", &fv->fill_value);
    if (!fv->has_fill) fv->has_fill = default_fill(t, &fv->fill_value);
    fv->has_missing = get_double_atts(nc, v, "missing_value", fv->missing_value, ERA5_MAX_MISSING);
    if (fv->has_missing > ERA5_MAX_MISSING)
        return dsc_fail("%s: variable %s lists %d values in missing_value; give at most %d", path, name,
                        fv->has_missing, ERA5_MAX_MISSING);
    if (describe_storage(nc, path, name, fv) != DSC_OK) return DSC_ERR;
    get_text_att(nc, v, "units", s->units[i], sizeof s->units[i]);
    get_text_att(nc, v, "long_name", s->long_name[i], sizeof s->long_name[i]);
    return DSC_OK;
}

/* The field variables: time, latitude, longitude and perhaps expver and a
 * pressure level (the forecast layout: initial time and forecast hour),
 * nothing else. */
static int find_fields(const nc_file *nc, const char *path, const era5_options *opt, const header_dims *dm, file_scan *s)
{
    int nvars;
    nc_file_inq_nvars(nc, &nvars);
    s->nfields = 0;
    for (int v = 0; v < nvars; v++) {
        char name[NC_MAX_NAME + 1];
        int t;
        int ndims, dimids[VAR_DIMS_MAX];
        inquire_var(nc, v, name, &t, &ndims, dimids);
        if (!is_numeric(t) || ndims < 3 || ndims > 5) continue;
        int order[6] = {-1, -1, -1, -1, -1, -1}, other = 0;
        for (int d = 0; d < ndims; d++) {
            int id = dimids[d];
            int slot = id == dm->t ? 0 : id == dm->e ? 1 : id == dm->y ? 2 : id == dm->x ? 3 : id == dm->l ? 4 : id == dm->h ? 5 : -1;
            if (slot < 0 || order[slot] >= 0) other = 1;
            else order[slot] = d;
        }
        if (other || order[0] < 0 || order[2] < 0 || order[3] < 0 || (dm->h >= 0 && order[5] < 0)) continue;
        if (strlen(name) >= ERA5_NAME_LEN) continue;
        int i = s->nfields;
        if (s->nfields == MAX_FIELDS) {
            if (!opt || opt->nvars == 0)
                return dsc_fail("%s: more than %d field variables; choose some with --vars", path, MAX_FIELDS);
            if (!requested(opt, name)) continue;
            /* a variable of --vars takes the place of one that is not */
            for (i = 0; i < MAX_FIELDS && requested(opt, s->fields[i].nc_name); i++) continue;
            if (i == MAX_FIELDS) return dsc_fail("%s: more than %d variables of --vars", path, MAX_FIELDS);
        } else {
            s->nfields++;
        }
        era5_file_variable *fv = &s->fields[i];
        memset(fv, 0, sizeof *fv);
        snprintf(fv->nc_name, sizeof fv->nc_name, "%s", name);
        snprintf(s->names[i], sizeof s->names[i], "%s", era5_canonical_name(name));
        fv->level_index = order[4] >= 0 ? -1 : 0; /* -1: its levels are chosen once they are read */
        fv->varid = v;
        fv->xtype = t;
        fv->ndims = ndims;
        memcpy(fv->dim_order, order, sizeof order);
        if (describe_field(nc, path, v, t, s, i) != DSC_OK) return DSC_ERR;
    }
    if (s->nfields == 0)
        return dsc_fail("%s: no field variables with dimensions (%s, %s, %s); give ERA5 files with gridded data", path,
                        dm->tname, dm->yname, dm->xname);
    return DSC_OK;
}

/* cvar: the coordinate variables of time (initial time), latitude,
 * longitude and forecast hour (-1 without). */
static int inspect_header(const nc_file *nc, const char *path, const era5_options *opt, file_scan *s, int cvar[4])
{
    header_dims d;
    if (find_dimensions(nc, path, s, &d) != DSC_OK) return DSC_ERR;
    if (find_coordinates(nc, path, &d, s, cvar) != DSC_OK) return DSC_ERR;
    return find_fields(nc, path, opt, &d, s);
}

/* The calendars whose dates the common axis (Gregorian, cf_time.h) holds
 * without loss: standard / gregorian (from 1582-10-15 on, checked per step),
 * proleptic_gregorian and noleap (every noleap date is a Gregorian date; the
 * leap days are simply absent).  A 360_day or all_leap date such as 30 or
 * 29 February 2001 has no Gregorian day, and a Julian date names another
 * day than the same Gregorian one: placing them by name would drop or
 * misdate steps, so such files are refused. */
static int check_calendar(const char *path, const char *attribute, cf_calendar cal)
{
    const char *why = NULL;
    if (cal == CAL_360_DAY) why = "its dates include 30 February, which no Gregorian date matches";
    else if (cal == CAL_ALL_LEAP) why = "its dates include 29 February of every year, which Gregorian dates lack in three years of four";
    else if (cal == CAL_JULIAN) why = "its dates name other days than the Gregorian dates of the same name (13 days apart in 1900-2099)";
    if (!why) return DSC_OK;
    return dsc_fail("%s: calendar '%s' is not supported: dsc dates time steps (labels, --time-range, climatology) in the "
                    "Gregorian calendar and %s; give data on the standard, proleptic_gregorian or noleap calendar",
                    path, attribute, why);
}

/* The levels of a field on pressure levels, "500, 850, 1000". */
static void list_levels(const file_scan *s, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (long long k = 0; k < s->nlevels && used + 16 < len; k++)
        used += (size_t)snprintf(buf + used, len - used, "%s%g", k ? ", " : "", s->levels[k]);
}

/* Fields on pressure levels become one field per chosen level, named
 * NAME@LEVEL: the levels named in --vars (z@500), and those of --level for a
 * field asked for by its name alone (or by reading every field).  Such a
 * field without a chosen level, or a level the file lacks, is an error that
 * lists the file's levels.  Local: every rank decides alike. */
static int expand_levels(const char *path, const era5_options *opt, file_scan *s)
{
    const int n = s->nfields;
    int has_levels = 0;
    for (int i = 0; i < n; i++) has_levels |= s->fields[i].level_index < 0;
    if (!has_levels) return DSC_OK;
    file_scan *o = dsc_malloc(sizeof *o, "pressure levels"); /* the fields before expansion */
    if (!o) return DSC_ERR;
    memcpy(o, s, sizeof *o);
    s->nfields = 0;
    char have[512];
    list_levels(s, have, sizeof have);
    int status = DSC_OK;
    for (int i = 0; i < n && status == DSC_OK; i++) {
        double want[2 * ERA5_MAX_VARS];
        int nw = 0, whole = !opt || opt->nvars == 0;
        if (o->fields[i].level_index >= 0) {
            want[nw++] = NAN; /* a field without levels: kept as it is */
        } else {
            for (int v = 0; opt && v < opt->nvars; v++) {
                char base[ERA5_NAME_LEN];
                const char *at = strchr(opt->vars[v], '@');
                snprintf(base, sizeof base, "%.*s", (int)strcspn(opt->vars[v], "@"), opt->vars[v]);
                if (strcmp(era5_canonical_name(base), o->names[i]) != 0) continue;
                if (at) want[nw++] = strtod(at + 1, NULL);
                else whole = 1;
            }
            if (whole && (!opt || opt->nlevels == 0)) {
                status = dsc_fail("%s: variable %s is on %lld pressure levels (%s hPa, dimension %s); choose levels with "
                                  "--level (e.g. --level %g) or name one in --vars as %s@%g",
                                  path, o->fields[i].nc_name, s->nlevels, have, s->level_dim_name,
                                  s->nlevels ? s->levels[0] : 500.0, o->names[i], s->nlevels ? s->levels[0] : 500.0);
                break;
            }
            for (int k = 0; whole && k < opt->nlevels; k++) want[nw++] = opt->levels[k];
        }
        for (int w = 0; w < nw && status == DSC_OK; w++) {
            long long k = 0;
            if (!isnan(want[w])) {
                while (k < s->nlevels && fabs(s->levels[k] - want[w]) > 1e-6 * fmax(1.0, fabs(want[w]))) k++;
                if (k == s->nlevels) {
                    status = dsc_fail("%s: variable %s has no level %g hPa; its levels (%s) are %s", path,
                                      o->fields[i].nc_name, want[w], s->level_dim_name, have);
                    break;
                }
            }
            if (s->nfields == MAX_FIELDS) {
                status = dsc_fail("%s: more than %d fields with the chosen levels; choose fewer with --vars or --level",
                                  path, MAX_FIELDS);
                break;
            }
            const int j = s->nfields++;
            s->fields[j] = o->fields[i];
            snprintf(s->units[j], sizeof s->units[j], "%s", o->units[i]);
            snprintf(s->long_name[j], sizeof s->long_name[j], "%s", o->long_name[i]);
            if (isnan(want[w])) {
                snprintf(s->names[j], sizeof s->names[j], "%s", o->names[i]);
                continue;
            }
            s->fields[j].level_index = k;
            s->fields[j].level = s->levels[k];
            snprintf(s->names[j], sizeof s->names[j], "%.*s@%g", ERA5_NAME_LEN - 16, o->names[i], s->levels[k]);
        }
    }
    free(o);
    return status;
}

/* The time values (s->hours, read as stored) as hours since 1900 on the
 * Gregorian axis.  In the forecast layout s->hours holds the ninit initial
 * times followed by the nhours forecast hours (hours): every step becomes
 * its valid time, initial time + forecast hour, initial time by initial
 * time. */
static int decode_times(const char *path, const cf_time_units *u, file_scan *s)
{
    const cf_time_units units = *u;
    const long long n = s->file.nhours > 0 ? s->file.ninit : s->file.ntime;
    int status = DSC_OK;
    for (long long i = 0; status == DSC_OK && i < n; i++) {
        if (!isfinite(s->hours[i])) {
            status = dsc_fail("%s: time step %lld has no valid time value; fix or leave out the file", path, i);
            break;
        }
        dsc_datetime dt;
        if (cf_time_decode(&units, s->hours[i], &dt) != DSC_OK) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", dsc_message());
            dsc_clear();
            status = dsc_fail("%s: time step %lld: %s; fix or leave out the file", path, i, msg);
            break;
        }
        if (!cf_date_is_gregorian(units.calendar, &dt)) {
            char when[32];
            datetime_format(&dt, when, sizeof when);
            status = dsc_fail("%s: time step %lld is %s, before 1582-10-15, where the standard calendar is Julian; "
                              "dsc dates time steps in the Gregorian calendar: give data from 1582-10-15 on, or set "
                              "the calendar to proleptic_gregorian if the dates are Gregorian",
                              path, i, when);
            break;
        }
        s->hours[i] = datetime_to_hours(&dt);
    }
    if (status != DSC_OK || s->file.nhours == 0) return status;
    const long long H = s->file.nhours;
    double fh[64], *hours = H <= 64 ? fh : dsc_malloc((size_t)H * sizeof(double), "forecast hours");
    if (!hours) return DSC_ERR;
    memcpy(hours, s->hours + n, (size_t)H * sizeof(double));
    for (long long h = 0; h < H && status == DSC_OK; h++)
        if (!isfinite(hours[h]) || hours[h] < 0 || (h > 0 && hours[h] <= hours[h - 1]))
            status = dsc_fail("%s: forecast hour %lld is %g; give forecast hours that increase from 0 on", path, h, hours[h]);
    /* backwards, so that no initial time is overwritten before it is used */
    for (long long i = n - 1; i >= 0 && status == DSC_OK; i--) {
        const double init = s->hours[i];
        for (long long h = H - 1; h >= 0; h--) s->hours[i * H + h] = init + hours[h];
    }
    if (hours != fh) free(hours);
    return status;
}

/* Collective: looks at one file and closes it again. */
static int scan_file(MPI_Comm comm, const char *path, const era5_options *opt, file_scan *s)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(s, 0, sizeof *s);
    long long size = 0;
    int status = DSC_OK;
    int netcdf4 = 0;
    if (rank == 0) status = precheck_file(path, &size, &netcdf4);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    MPI_Bcast(&netcdf4, 1, MPI_INT, 0, comm);

    nc_file nc;
    int err = nc_file_open(comm, path, netcdf4, &nc);
    /* A rank whose open succeeded while another's failed keeps its handle:
     * closing is collective and would wait for the failed rank. */
    if (dsc_agree(comm, err == NC_NOERR ? DSC_OK : open_error(&nc, path, err)) != DSC_OK) return DSC_ERR;
    snprintf(s->file.path, sizeof s->file.path, "%s", path);
    s->file.netcdf4 = netcdf4;

    int cvar[4] = {-1, -1, -1, -1}; /* time (initial time), latitude, longitude, forecast hour */
    cf_time_units units;
    status = inspect_header(&nc, path, opt, s, cvar);
    if (status == DSC_OK && cf_time_parse(s->time_units, s->calendar, &units) != DSC_OK) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", dsc_message());
        dsc_clear();
        status = dsc_fail("%s: %s; fix the attributes of variable %s", path, msg, s->time_dim_name);
    }
    if (status == DSC_OK) {
        s->calendar_kind = units.calendar;
        status = check_calendar(path, s->calendar[0] ? s->calendar : "standard", units.calendar);
    }
    if (status == DSC_OK && rank == 0 && !netcdf4) { /* HDF5 checks its own offsets on reading */
        long long need = expected_file_size(&nc);
        if (need == LLONG_MAX)
            status = dsc_fail("%s: truncated or damaged netCDF header (its variable sizes and offsets reach beyond what a file "
                              "can hold); download or convert it again",
                              path);
        else if (need > size)
            status = dsc_fail("%s: truncated file: %lld bytes, but its header needs %lld; download or convert it again",
                              path, size, need);
    }
    if (status == DSC_OK) {
        s->lat = dsc_malloc((size_t)s->file.file_nlat * sizeof(double), "latitudes");
        s->lon = dsc_malloc((size_t)s->file.file_nlon * sizeof(double), "longitudes");
        /* the forecast layout: room for the forecast hours after the initial times */
        s->hours = dsc_malloc((size_t)(s->file.ntime + s->file.nhours) * sizeof(double), "time steps");
        if (!s->lat || !s->lon || !s->hours) status = DSC_ERR;
        if (status == DSC_OK && s->level_varid >= 0 && s->nlevels > 0 &&
            !(s->levels = dsc_malloc((size_t)s->nlevels * sizeof(double), "pressure levels")))
            status = DSC_ERR;
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        nc_file_close(&nc);
        file_scan_destroy(s);
        return DSC_ERR;
    }

    /* every rank reads the (small) coordinates whole */
    err = nc_file_get_var_double_all(&nc, cvar[1], s->lat);
    if (err == NC_NOERR) err = nc_file_get_var_double_all(&nc, cvar[2], s->lon);
    if (err == NC_NOERR) err = nc_file_get_var_double_all(&nc, cvar[0], s->hours);
    if (err == NC_NOERR && cvar[3] >= 0)
        err = nc_file_get_var_double_all(&nc, cvar[3], s->hours + (s->file.nhours > 0 ? s->file.ninit : 0));
    if (err == NC_NOERR && s->levels) err = nc_file_get_var_double_all(&nc, s->level_varid, s->levels);
    status = err == NC_NOERR ? DSC_OK
                             : dsc_fail("%s: reading the coordinates failed (%s); the file may be damaged", path,
                                        nc_file_strerror(&nc, err));
    int cerr = nc_file_close(&nc);
    if (status == DSC_OK && cerr != NC_NOERR) status = dsc_fail("%s: closing failed (%s)", path, nc_file_strerror(&nc, cerr));

    if (status == DSC_OK) status = decode_times(path, &units, s);
    if (status == DSC_OK) status = expand_levels(path, opt, s);
    /* latitudes are degrees north: a value beyond the poles is a damaged
     * coordinate or another unit (radians go unnoticed, but not metres);
     * longitudes may be given in any turn (-180..180, 0..360, beyond) */
    for (long long j = 0; status == DSC_OK && j < s->file.file_nlat; j++) {
        if (!isfinite(s->lat[j])) status = dsc_fail("%s: latitude %lld is not a number; fix or leave out the file", path, j);
        else if (fabs(s->lat[j]) > 90)
            status = dsc_fail("%s: latitude %lld is %g, outside [-90, 90] degrees north; fix the coordinate or leave out "
                              "the file", path, j, s->lat[j]);
    }
    for (long long j = 0; status == DSC_OK && j < s->file.file_nlon; j++)
        if (!isfinite(s->lon[j])) status = dsc_fail("%s: longitude %lld is not a number; fix or leave out the file", path, j);
    if (dsc_agree(comm, status) != DSC_OK) {
        file_scan_destroy(s);
        return DSC_ERR;
    }
    return DSC_OK;
}

/* ------------------------------------------------------------------------ */
/* across files                                                             */

static int find_field(const file_scan *s, const char *canonical)
{
    for (int i = 0; i < s->nfields; i++)
        if (strcmp(s->names[i], canonical) == 0) return i;
    return -1;
}

/* The fields a name of --vars chooses (their indices into match, at most
 * MAX_FIELDS): the field of that name, or every level of a field on
 * pressure levels named without a level (z: z@500, z@850 as --level chose). */
static int matching_fields(const file_scan *s, const char *request, int *match)
{
    char key[ERA5_NAME_LEN];
    canonical_key(request, key);
    int i = find_field(s, key), n = 0;
    if (i >= 0) {
        match[n++] = i;
        return n;
    }
    if (strchr(key, '@')) return 0;
    const size_t len = strlen(key);
    for (i = 0; i < s->nfields; i++)
        if (strncmp(s->names[i], key, len) == 0 && s->names[i][len] == '@') match[n++] = i;
    return n;
}

static void list_fields(const file_scan *s, char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < s->nfields && used + 1 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", s->names[i]);
}

/* Error path of --vars: when the file has a variable of that name that is
 * no field (text, or not along time, latitude and longitude), say so. */
static void why_not_field(const char *path, int netcdf4, const char *name, char *buf, size_t len)
{
    static const char *types[] = {"", "byte", "char", "short", "int", "float", "double", "ubyte", "ushort", "uint",
                                  "int64", "uint64"};
    buf[0] = '\0';
    int varid, ndims, dimids[VAR_DIMS_MAX], t;
    char vname[NC_MAX_NAME + 1];
    nc_file nc;
    if (nc_file_open(MPI_COMM_SELF, path, netcdf4, &nc) != NC_NOERR) return;
    if (nc_file_inq_varid(&nc, name, &varid) == NC_NOERR && inquire_var(&nc, varid, vname, &t, &ndims, dimids) == NC_NOERR) {
        if (!is_numeric(t))
            snprintf(buf, len, " that holds numbers along time, latitude and longitude: its '%s' is of type %s", name,
                     t > 0 && t < (int)(sizeof types / sizeof types[0]) ? types[t] : "string");
        else snprintf(buf, len, " along time, latitude and longitude: its '%s' has other dimensions", name);
    }
    nc_file_close(&nc);
}

/* The catalog's variables from the first file and the options. */
static int choose_variables(const file_scan *first, const era5_options *opt, era5_catalog *cat, int *index)
{
    char have[1024];
    if (opt->nvars == 0) {
        cat->nvars = 0;
        for (int i = 0; i < first->nfields; i++) {
            const char *c = first->names[i];
            int dup = 0;
            for (int v = 0; v < cat->nvars; v++) dup |= strcmp(cat->vars[v].name, c) == 0;
            if (dup) continue; /* t2m and 2t in one file: the first one wins */
            if (cat->nvars == ERA5_MAX_VARS) {
                list_fields(first, have, sizeof have);
                return dsc_fail("%s: more than %d field variables (%s); choose at most %d with --vars", first->file.path,
                                ERA5_MAX_VARS, have, ERA5_MAX_VARS);
            }
            index[cat->nvars] = i;
            snprintf(cat->vars[cat->nvars].name, ERA5_NAME_LEN, "%s", c);
            cat->nvars++;
        }
    } else {
        cat->nvars = 0;
        for (int v = 0; v < opt->nvars; v++) {
            int match[MAX_FIELDS], nm = matching_fields(first, opt->vars[v], match);
            if (nm == 0) {
                char why[NC_MAX_NAME + 64];
                list_fields(first, have, sizeof have);
                why_not_field(first->file.path, first->file.netcdf4, opt->vars[v], why, sizeof why);
                return dsc_fail("%s: no variable '%s' (asked for with --vars)%s; the file has %s", first->file.path,
                                opt->vars[v], why, have);
            }
            for (int m = 0; m < nm; m++) {
                int dup = 0;
                for (int u = 0; u < cat->nvars; u++) dup |= strcmp(cat->vars[u].name, first->names[match[m]]) == 0;
                if (dup) continue;
                if (cat->nvars == ERA5_MAX_VARS)
                    return dsc_fail("%s: more than %d variables chosen with --vars and --level; choose at most %d",
                                    first->file.path, ERA5_MAX_VARS, ERA5_MAX_VARS);
                index[cat->nvars] = match[m];
                snprintf(cat->vars[cat->nvars++].name, ERA5_NAME_LEN, "%s", first->names[match[m]]);
            }
        }
    }
    for (int v = 0; v < cat->nvars; v++) {
        snprintf(cat->vars[v].units, sizeof cat->vars[v].units, "%s", first->units[index[v]]);
        snprintf(cat->vars[v].long_name, sizeof cat->vars[v].long_name, "%s", first->long_name[index[v]]);
    }
    return DSC_OK;
}

/* The same grid as the first file. */
static int match_grid(const file_scan *first, const file_scan *s)
{
    if (s->file.file_nlat != first->file.file_nlat || s->file.file_nlon != first->file.file_nlon)
        return dsc_fail("%s: grid %lldx%lld differs from %s %lldx%lld (latitudes x longitudes); give files on the same "
                        "grid (regrid with cdo remapbil)",
                        s->file.path, s->file.file_nlat, s->file.file_nlon, first->file.path, first->file.file_nlat,
                        first->file.file_nlon);
    for (long long j = 0; j < s->file.file_nlat; j++)
        if (fabs(s->lat[j] - first->lat[j]) > GRID_TOLERANCE)
            return dsc_fail("%s: latitude %lld is %g but %g in %s; give files on the same grid", s->file.path, j,
                            s->lat[j], first->lat[j], first->file.path);
    for (long long j = 0; j < s->file.file_nlon; j++)
        if (fabs(s->lon[j] - first->lon[j]) > GRID_TOLERANCE)
            return dsc_fail("%s: longitude %lld is %g but %g in %s; give files on the same grid", s->file.path, j,
                            s->lon[j], first->lon[j], first->file.path);
    return DSC_OK;
}

/* Same variables and the same grid as the first file. */
static int match_file(const file_scan *first, file_scan *s, const era5_catalog *cat, const era5_options *opt)
{
    if (match_grid(first, s) != DSC_OK) return DSC_ERR;
    for (int v = 0; v < cat->nvars; v++) {
        int i = find_field(s, cat->vars[v].name);
        if (i < 0)
            return dsc_fail("%s: no variable '%s', which %s has; give files with the same variables%s", s->file.path,
                            cat->vars[v].name, first->file.path, opt->nvars ? "" : " or choose common ones with --vars");
        s->file.vars[v] = s->fields[i];
    }
    if (opt->nvars == 0) {
        for (int i = 0; i < s->nfields; i++) {
            const char *c = s->names[i];
            if (find_field(first, c) < 0)
                return dsc_fail("%s: has variable '%s', which %s has not; give files with the same variables or choose "
                                "common ones with --vars",
                                s->file.path, s->fields[i].nc_name, first->file.path);
        }
    }
    return DSC_OK;
}

typedef struct {
    long long second;  /* seconds since 1900-01-01: exact comparisons */
    int file;          /* in time order */
    long long index;
} step_key;

static int compare_steps(const void *a, const void *b)
{
    const step_key *x = a, *y = b;
    if (x->second != y->second) return x->second < y->second ? -1 : 1;
    if (x->file != y->file) return x->file < y->file ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

typedef struct {
    double first;
    int index;
} file_order;

static int compare_files(const void *a, const void *b)
{
    const file_order *x = a, *y = b;
    if (x->first != y->first) return x->first < y->first ? -1 : 1;
    return x->index - y->index;
}

static int compare_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static void format_hours(double hours, char *buf, size_t len)
{
    dsc_datetime t;
    datetime_from_hours(hours, &t);
    datetime_format(&t, buf, len);
}

/* Index range [*first, *first + *count) of coordinates inside [lo, hi]
 * (longitudes compared modulo 360); DSC_ERR when the points inside are not
 * one contiguous run. */
static int select_range(const double *c, long long n, double lo, double hi, int periodic, int *first, int *count)
{
    int f = -1, last = -1;
    for (long long j = 0; j < n; j++) {
        int in;
        if (periodic) {
            double d = fmod(c[j] - lo, 360.0);
            if (d < 0) d += 360.0;
            in = d <= hi - lo + 1e-9 || d >= 360.0 - 1e-9;
        } else {
            in = c[j] >= lo - 1e-9 && c[j] <= hi + 1e-9;
        }
        if (!in) continue;
        if (f < 0) f = (int)j;
        else if (last != j - 1) return DSC_ERR;
        last = (int)j;
    }
    *first = f < 0 ? 0 : f;
    *count = f < 0 ? 0 : last - f + 1;
    return DSC_OK;
}

static int select_box(const file_scan *first, const era5_options *opt, era5_catalog *cat)
{
    long long ny = first->file.file_nlat, nx = first->file.file_nlon;
    int y0 = 0, nyy = (int)ny, x0 = 0, nxx = (int)nx;
    if (opt->has_box) {
        const double *lat = first->lat, *lon = first->lon;
        char grid[256];
        snprintf(grid, sizeof grid, "the grid covers latitudes %g..%g and longitudes %g..%g", lat[0], lat[ny - 1],
                 lon[0], lon[nx - 1]);
        if (select_range(lat, ny, opt->lat_min, opt->lat_max, 0, &y0, &nyy) != DSC_OK ||
            select_range(lon, nx, opt->lon_min, opt->lon_max, 1, &x0, &nxx) != DSC_OK)
            return dsc_fail("option --box %g,%g,%g,%g: the box is split by the seam of the grid (%s); give a box in "
                            "the longitude convention of the files",
                            opt->lat_min, opt->lat_max, opt->lon_min, opt->lon_max, grid);
        if (nyy == 0 || nxx == 0)
            return dsc_fail("option --box %g,%g,%g,%g: no grid point inside the box (%s); give S,N,W,E that overlap it",
                            opt->lat_min, opt->lat_max, opt->lon_min, opt->lon_max, grid);
    }
    cat->lat0 = y0;
    cat->lon0 = x0;
    cat->nlat = nyy;
    cat->nlon = nxx;
    cat->lat = dsc_malloc((size_t)nyy * sizeof(double), "latitudes");
    cat->lon = dsc_malloc((size_t)nxx * sizeof(double), "longitudes");
    if (!cat->lat || !cat->lon) return DSC_ERR;
    memcpy(cat->lat, first->lat + y0, (size_t)nyy * sizeof(double));
    memcpy(cat->lon, first->lon + x0, (size_t)nxx * sizeof(double));
    return DSC_OK;
}

/* Hours from step h0 to step h1 in the calendar of the files, for the step
 * and the gaps: a noleap record goes from 28 February to 1 March without a
 * gap, so the Gregorian leap days that lie whole between the steps do not
 * count. */
static double calendar_spacing(cf_calendar cal, double h0, double h1)
{
    double spacing = h1 - h0;
    if (cal != CAL_NOLEAP) return spacing;
    dsc_datetime a, b;
    datetime_from_hours(h0, &a);
    datetime_from_hours(h1, &b);
    for (int y = a.year; y <= b.year; y++) {
        if (days_in_month(y, 2, CAL_GREGORIAN) != 29) continue;
        dsc_datetime leap = {y, 2, 29, 0, 0, 0};
        double d = datetime_to_hours(&leap);
        if (d >= h0 && d + 24 <= h1) spacing -= 24;
    }
    return spacing;
}

/* A gap: a spacing well above the step; monthly steps (27 days or more)
 * vary with the month, so there only a spacing above 32 days. */
static double gap_limit(double step_hours) { return step_hours >= 24 * 27 ? 24 * 32 : step_hours * 1.5; }

/* The segments of the output axis for the sequence windows
 * (sample_exchange.h): a new one after every gap, found as the gap warning
 * finds them, with the day as the step of --daily-mean. */
static int set_segments(const era5_catalog *cat, const era5_options *opt)
{
    const double limit = gap_limit(opt->daily_mean && cat->step_hours < 24 ? 24 : cat->step_hours);
    long long *starts = dsc_malloc(((size_t)cat->ntime + 1) * sizeof(long long), "record segments");
    if (!starts) return DSC_ERR;
    long long n = 0;
    for (long long t = 1; t < cat->ntime; t++)
        if (calendar_spacing(cat->calendar, cat->time[t - 1], cat->time[t]) > limit + 1e-6) starts[n++] = t;
    int status = sample_set_segments(starts, n);
    free(starts);
    return status;
}

/* The steps of the files of one stream (-1: every file) in time order,
 * duplicates dropped: the same time in two files (a file given twice,
 * overlapping downloads) or twice in one; the first in file order is kept
 * (a warning on rank 0).  *out (*n of them) is freed by the caller. */
static int stream_keys(const file_scan *scans, const era5_catalog *cat, int stream, int rank, step_key **out, long long *nkept)
{
    long long total = 0;
    for (int i = 0; i < cat->nfiles; i++)
        if (stream < 0 || scans[i].file.stream == stream) total += scans[i].file.ntime;
    step_key *keys = dsc_malloc((size_t)(total ? total : 1) * sizeof(step_key), "time steps");
    if (!keys) return DSC_ERR;
    long long n = 0;
    for (int i = 0; i < cat->nfiles; i++)
        for (long long k = 0; (stream < 0 || scans[i].file.stream == stream) && k < scans[i].file.ntime; k++) {
            keys[n].second = llround(scans[i].hours[k] * 3600.0);
            keys[n].file = i;
            keys[n].index = k;
            n++;
        }
    qsort(keys, (size_t)n, sizeof *keys, compare_steps);
    long long kept = 0, ndup = 0, dup_at = -1;
    int dup_file = -1, dup_first_file = -1;
    for (long long i = 0; i < n; i++) {
        if (kept > 0 && keys[i].second == keys[kept - 1].second) {
            if (ndup++ == 0) {
                dup_at = keys[i].second;
                dup_file = keys[i].file;
                dup_first_file = keys[kept - 1].file;
            }
            continue;
        }
        keys[kept++] = keys[i];
    }
    if (ndup > 0 && rank == 0) {
        char when[32];
        format_hours((double)dup_at / 3600.0, when, sizeof when);
        dsc_warn("%lld duplicated time steps (the first: %s, in %s and again in %s); kept the first", ndup, when,
                 cat->files[dup_first_file].path, cat->files[dup_file].path);
    }
    *out = keys;
    *nkept = kept;
    return DSC_OK;
}

/* The first variable of a stream, for messages. */
static const char *stream_variable(const era5_catalog *cat, int stream)
{
    for (int v = 0; v < cat->nvars; v++)
        if (cat->vars[v].stream == stream) return cat->vars[v].name;
    return "?";
}

/* Two streams: keep the valid times both cover, k[0] and k[1] then equal
 * in length and time.  Steps at the ends that one stream lacks are left out
 * with a note on rank 0 (those inside --time-range); a step inside that one
 * lacks is an error naming its first variable and the time. */
static int join_streams(const era5_catalog *cat, const era5_options *opt, step_key *k[2], long long n[2], int rank)
{
    /* the note counts only the steps --time-range would keep */
    const long long rlo = opt->has_start ? llround(datetime_to_hours(&opt->start) * 3600.0) : LLONG_MIN;
    const long long rhi = opt->has_end ? llround(datetime_to_hours(&opt->end) * 3600.0) : LLONG_MAX;
    const long long lo = k[0][0].second > k[1][0].second ? k[0][0].second : k[1][0].second;
    const long long hi = k[0][n[0] - 1].second < k[1][n[1] - 1].second ? k[0][n[0] - 1].second : k[1][n[1] - 1].second;
    char a0[32], a1[32], b0[32], b1[32];
    if (lo > hi) {
        format_hours(k[0][0].second / 3600.0, a0, sizeof a0);
        format_hours(k[0][n[0] - 1].second / 3600.0, a1, sizeof a1);
        format_hours(k[1][0].second / 3600.0, b0, sizeof b0);
        format_hours(k[1][n[1] - 1].second / 3600.0, b1, sizeof b1);
        return dsc_fail("the files of %s (%s .. %s) and those of %s in the forecast layout (%s .. %s) have no valid time "
                        "in common; give files of the same period",
                        stream_variable(cat, 0), a0, a1, stream_variable(cat, 1), b0, b1);
    }
    /* left out: [early, early_end] before lo and [late_start, late] after hi */
    long long first[2], end[2], before = 0, after = 0;
    long long early = LLONG_MAX, early_end = LLONG_MIN, late_start = LLONG_MAX, late = LLONG_MIN;
    for (int j = 0; j < 2; j++) {
        for (first[j] = 0; k[j][first[j]].second < lo; first[j]++) {
            const long long t = k[j][first[j]].second;
            if (t < rlo || t > rhi) continue;
            before++;
            early = t < early ? t : early;
            early_end = t > early_end ? t : early_end;
        }
        for (end[j] = n[j]; k[j][end[j] - 1].second > hi; end[j]--) {
            const long long t = k[j][end[j] - 1].second;
            if (t < rlo || t > rhi) continue;
            after++;
            late = t > late ? t : late;
            late_start = t < late_start ? t : late_start;
        }
    }
    /* inside [lo, hi] every time of one stream must be in the other */
    long long i = first[0], m = first[1], kept = 0;
    while (i < end[0] || m < end[1]) {
        long long t0 = i < end[0] ? k[0][i].second : LLONG_MAX, t1 = m < end[1] ? k[1][m].second : LLONG_MAX;
        if (t0 != t1 && ((t0 < t1 ? t0 : t1) < rlo || (t0 < t1 ? t0 : t1) > rhi)) { /* outside --time-range: dropped there */
            if (t0 < t1) i++;
            else m++;
            continue;
        }
        if (t0 != t1) {
            const int lacking = t0 < t1; /* the stream that lacks the earlier time */
            format_hours((t0 < t1 ? t0 : t1) / 3600.0, a0, sizeof a0);
            format_hours(lo / 3600.0, b0, sizeof b0);
            format_hours(hi / 3600.0, b1, sizeof b1);
            return dsc_fail("variable %s has no value at %s, inside the valid times its files share with those of %s "
                            "(%s .. %s); add the file that holds it",
                            stream_variable(cat, lacking), a0, stream_variable(cat, !lacking), b0, b1);
        }
        k[0][kept] = k[0][i++];
        k[1][kept++] = k[1][m++];
    }
    n[0] = n[1] = kept;
    if (before + after > 0 && rank == 0) {
        char text[2][80] = {"", ""};
        if (before) {
            format_hours(early / 3600.0, a0, sizeof a0);
            format_hours(early_end / 3600.0, a1, sizeof a1);
            snprintf(text[0], sizeof text[0], "%s .. %s", a0, a1);
        }
        if (after) {
            format_hours(late_start / 3600.0, b0, sizeof b0);
            format_hours(late / 3600.0, b1, sizeof b1);
            snprintf(text[1], sizeof text[1], "%s .. %s", b0, b1);
        }
        fprintf(stderr, "dsc: note: left out %lld time steps at the ends that not every variable covers (%s%s%s)\n",
                before + after, text[0], before && after ? " and " : "", text[1]);
        fflush(stderr);
    }
    return DSC_OK;
}

/* --time-range applied to keys [0, kept): the steps (and those of the
 * second stream from keys1) into the catalog. */
static int select_steps(const step_key *keys, const step_key *keys1, long long kept, const era5_options *opt, era5_catalog *cat)
{
    long long lo = LLONG_MIN, hi = LLONG_MAX;
    if (opt->has_start) lo = llround(datetime_to_hours(&opt->start) * 3600.0);
    if (opt->has_end) hi = llround(datetime_to_hours(&opt->end) * 3600.0);
    long long a = 0, b = kept;
    while (a < b && keys[a].second < lo) a++;
    while (b > a && keys[b - 1].second > hi) b--;
    if (a == b) {
        char s0[32] = "", s1[32] = "", f0[32], f1[32];
        if (opt->has_start) datetime_format(&opt->start, s0, sizeof s0);
        if (opt->has_end) datetime_format(&opt->end, s1, sizeof s1);
        format_hours((double)keys[0].second / 3600.0, f0, sizeof f0);
        format_hours((double)keys[kept - 1].second / 3600.0, f1, sizeof f1);
        return dsc_fail("option --time-range: no time steps between %s and %s; the files cover %s to %s",
                        opt->has_start ? s0 : "the start", opt->has_end ? s1 : "the end", f0, f1);
    }
    cat->nsteps = b - a;
    cat->steps = dsc_malloc((size_t)cat->nsteps * sizeof(era5_step), "time steps");
    if (!cat->steps) return DSC_ERR;
    if (keys1 && !(cat->stream_steps = dsc_malloc((size_t)cat->nsteps * sizeof(era5_step), "time steps"))) return DSC_ERR;
    for (long long i = 0; i < cat->nsteps; i++) {
        cat->steps[i].hours = (double)keys[a + i].second / 3600.0;
        cat->steps[i].file = keys[a + i].file;
        cat->steps[i].index = keys[a + i].index;
        if (!keys1) continue;
        cat->stream_steps[i] = cat->steps[i];
        cat->stream_steps[i].file = keys1[a + i].file;
        cat->stream_steps[i].index = keys1[a + i].index;
    }
    return DSC_OK;
}

/* step_hours: the most common spacing of the steps (monthly data vary by a
 * few days, and a gap or two must not change the step); gaps warned about
 * on rank 0.  work: room for nsteps - 1 values. */
static void find_step_hours(era5_catalog *cat, long long *d, int rank)
{
    cat->step_hours = 0;
    long long nd = cat->nsteps - 1;
    if (nd <= 0) return;
    for (long long i = 0; i < nd; i++)
        d[i] = llround(calendar_spacing(cat->calendar, cat->steps[i].hours, cat->steps[i + 1].hours) * 3600.0);
    qsort(d, (size_t)nd, sizeof *d, compare_ll);
    long long best = d[0], best_run = 0;
    for (long long i = 0; i < nd;) {
        long long j = i;
        while (j < nd && d[j] == d[i]) j++;
        if (j - i > best_run) {
            best_run = j - i;
            best = d[i];
        }
        i = j;
    }
    cat->step_hours = (double)best / 3600.0;
    double limit = gap_limit(cat->step_hours);
    long long ngaps = 0, gap = -1;
    for (long long i = 0; i < nd; i++)
        if (calendar_spacing(cat->calendar, cat->steps[i].hours, cat->steps[i + 1].hours) > limit + 1e-6 && ngaps++ == 0)
            gap = i;
    if (ngaps > 0 && rank == 0) {
        char t0[32], t1[32];
        format_hours(cat->steps[gap].hours, t0, sizeof t0);
        format_hours(cat->steps[gap + 1].hours, t1, sizeof t1);
        dsc_warn("%lld gaps in the time steps (the first: %s to %s, %g hours where the step is %g); check for "
                 "missing files",
                 ngaps, t0, t1, cat->steps[gap + 1].hours - cat->steps[gap].hours, cat->step_hours);
    }
}

/* The output axis: the steps, or UTC days for --daily-mean. */
static int output_axis(era5_catalog *cat, const era5_options *opt)
{
    long long nt = cat->nsteps;
    if (opt->daily_mean) {
        nt = 0;
        for (long long i = 0; i < cat->nsteps; i++)
            if (i == 0 || floor(cat->steps[i].hours / 24.0) != floor(cat->steps[i - 1].hours / 24.0)) nt++;
    }
    cat->ntime = nt;
    cat->time = dsc_malloc((size_t)nt * sizeof(double), "time axis");
    cat->time_first_step = dsc_malloc((size_t)(nt + 1) * sizeof(long long), "time axis");
    if (!cat->time || !cat->time_first_step) return DSC_ERR;
    if (!opt->daily_mean) {
        for (long long i = 0; i < nt; i++) {
            cat->time[i] = cat->steps[i].hours;
            cat->time_first_step[i] = i;
        }
    } else {
        long long t = 0;
        for (long long i = 0; i < cat->nsteps; i++) {
            double day = floor(cat->steps[i].hours / 24.0);
            if (i == 0 || day != floor(cat->steps[i - 1].hours / 24.0)) {
                cat->time[t] = day * 24.0;
                cat->time_first_step[t] = i;
                t++;
            }
        }
    }
    cat->time_first_step[nt] = cat->nsteps;
    return set_segments(cat, opt);
}

/* Steps of all files in time order, duplicates dropped, (two streams:
 * joined by valid time), time range applied, step_hours, and the output
 * axis.  Warnings on rank 0. */
static int build_time_axis(file_scan *scans, const era5_options *opt, era5_catalog *cat, int rank)
{
    step_key *keys[2] = {NULL, NULL};
    long long n[2] = {0, 0};
    int status = DSC_OK;
    if (cat->nstreams == 1) status = stream_keys(scans, cat, -1, rank, &keys[0], &n[0]);
    for (int j = 0; cat->nstreams == 2 && j < 2 && status == DSC_OK; j++) status = stream_keys(scans, cat, j, rank, &keys[j], &n[j]);
    if (status == DSC_OK && cat->nstreams == 2) status = join_streams(cat, opt, keys, n, rank);
    if (status == DSC_OK) status = select_steps(keys[0], keys[1], n[0], opt, cat);
    if (status == DSC_OK) find_step_hours(cat, (long long *)keys[0], rank); /* reuse: nsteps - 1 <= n[0] */
    free(keys[0]);
    free(keys[1]);
    return status == DSC_OK ? output_axis(cat, opt) : DSC_ERR;
}

/* ------------------------------------------------------------------------ */
/* files that hold different variables: merged by variable                  */

/* Whether the files must be merged by variable: some file lacks a variable
 * of --vars, or (without --vars) the files' variables differ. */
static int needs_merge(const file_scan *scans, int n, const era5_options *opt)
{
    for (int i = 0; i < n; i++) {
        if (opt->nvars) {
            int match[MAX_FIELDS];
            for (int v = 0; v < opt->nvars; v++)
                if (matching_fields(&scans[i], opt->vars[v], match) == 0) return 1;
            continue;
        }
        for (int k = 0; k < scans[i].nfields; k++)
            if (find_field(&scans[0], scans[i].names[k]) < 0) return 1;
        for (int k = 0; k < scans[0].nfields; k++)
            if (find_field(&scans[i], scans[0].names[k]) < 0) return 1;
    }
    return 0;
}

/* Place of a canonical name in the ERA5 order (sst, sp, sshf, slhf, t2m,
 * u10, v10), the others after them. */
static int era5_order(const char *canonical)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcmp(canonical, aliases[i][0]) == 0) return (int)i;
    return (int)(sizeof aliases / sizeof aliases[0]);
}

static int compare_variables(const void *a, const void *b)
{
    const era5_variable *x = a, *y = b;
    int ox = era5_order(x->name), oy = era5_order(y->name);
    if (ox != oy) return ox - oy;
    return strcmp(x->name, y->name);
}

static int same_times(const file_scan *a, const file_scan *b)
{
    if (a->file.ntime != b->file.ntime) return 0;
    for (long long k = 0; k < a->file.ntime; k++)
        if (llround(a->hours[k] * 3600.0) != llround(b->hours[k] * 3600.0)) return 0;
    return 1;
}

static const file_scan *sort_scans; /* for compare_paths */
static int compare_paths(const void *a, const void *b)
{
    const int x = *(const int *)a, y = *(const int *)b;
    int c = strcmp(sort_scans[x].file.path, sort_scans[y].file.path);
    return c ? c : x - y;
}

/* The catalog's variables of merged files: those of --vars (each in some
 * file), or every field of every file; in ERA5 order. */
static int merged_variables(const file_scan *scans, const int *bypath, int n, const era5_options *opt, era5_catalog *cat)
{
    cat->nvars = 0;
    if (opt->nvars) {
        for (int v = 0; v < opt->nvars; v++) {
            int found = 0;
            for (int j = 0; j < n; j++) {
                const file_scan *sc = &scans[bypath[j]];
                int match[MAX_FIELDS], nm = matching_fields(sc, opt->vars[v], match);
                for (int m = 0; m < nm; m++) {
                    int dup = 0;
                    found = 1;
                    for (int u = 0; u < cat->nvars; u++) dup |= strcmp(cat->vars[u].name, sc->names[match[m]]) == 0;
                    if (dup) continue;
                    if (cat->nvars == ERA5_MAX_VARS)
                        return dsc_fail("more than %d variables chosen with --vars and --level; choose at most %d",
                                        ERA5_MAX_VARS, ERA5_MAX_VARS);
                    snprintf(cat->vars[cat->nvars++].name, ERA5_NAME_LEN, "%s", sc->names[match[m]]);
                }
            }
            if (!found) {
                char have[1024], why[NC_MAX_NAME + 64];
                list_fields(&scans[bypath[0]], have, sizeof have);
                why_not_field(scans[bypath[0]].file.path, scans[bypath[0]].file.netcdf4, opt->vars[v], why, sizeof why);
                return dsc_fail("no variable '%s' (asked for with --vars) in any of the %d files%s; %s has %s", opt->vars[v],
                                n, why, scans[bypath[0]].file.path, have);
            }
        }
    } else {
        for (int j = 0; j < n; j++) {
            const file_scan *sc = &scans[bypath[j]];
            for (int k = 0; k < sc->nfields; k++) {
                const char *c = sc->names[k];
                int dup = 0;
                for (int v = 0; v < cat->nvars; v++) dup |= strcmp(cat->vars[v].name, c) == 0;
                if (dup) continue;
                if (cat->nvars == ERA5_MAX_VARS)
                    return dsc_fail("the files hold more than %d field variables together; choose at most %d with --vars",
                                    ERA5_MAX_VARS, ERA5_MAX_VARS);
                snprintf(cat->vars[cat->nvars++].name, ERA5_NAME_LEN, "%s", c);
            }
        }
        qsort(cat->vars, (size_t)cat->nvars, sizeof cat->vars[0], compare_variables);
    }
    /* units and long name from the first file in path order that has it */
    for (int v = 0; v < cat->nvars; v++)
        for (int j = 0; j < n; j++) {
            const file_scan *sc = &scans[bypath[j]];
            int i = find_field(sc, cat->vars[v].name);
            if (i < 0) continue;
            snprintf(cat->vars[v].units, sizeof cat->vars[v].units, "%s", sc->units[i]);
            snprintf(cat->vars[v].long_name, sizeof cat->vars[v].long_name, "%s", sc->long_name[i]);
            break;
        }
    return DSC_OK;
}

/* One bundle: the files mem[0, nmem) of equal time steps become one
 * era5_file (in mem[0]) whose variables come from the first member that
 * has each; variables of another stream than stream (-1: every one) are
 * marked as not held (part -1).  Each variable of the stream must be in
 * some member. */
static int make_bundle(file_scan *scans, const int *mem, int nmem, era5_catalog *cat, int stream)
{
    file_scan *primary = &scans[mem[0]];
    era5_part parts[ERA5_MAX_VARS];
    int used[ERA5_MAX_VARS], nparts = 0;
    primary->file.stream = stream < 0 ? 0 : stream;
    for (int v = 0; v < cat->nvars; v++) {
        if (stream >= 0 && cat->vars[v].stream != stream) {
            memset(&primary->file.vars[v], 0, sizeof primary->file.vars[v]);
            primary->file.vars[v].part = -1;
            continue;
        }
        int m = 0, i = -1;
        while (m < nmem && (i = find_field(&scans[mem[m]], cat->vars[v].name)) < 0) m++;
        if (m == nmem) {
            char t0[32], t1[32];
            format_hours(primary->hours[0], t0, sizeof t0);
            format_hours(primary->hours[primary->file.ntime - 1], t1, sizeof t1);
            return dsc_fail("%s: no file given holds variable %s for its time steps (%s .. %s); add the "
                            "file that does (for a new CDS download, the 'accum' or 'instant' file of the "
                            "same request) or choose the variables with --vars",
                            primary->file.path, cat->vars[v].name, t0, t1);
        }
        era5_file_variable fv = scans[mem[m]].fields[i];
        fv.part = 0;
        if (m > 0) {
            int p = 0;
            while (p < nparts && used[p] != mem[m]) p++;
            if (p == nparts) {
                const era5_file *holder = &scans[mem[m]].file;
                used[nparts] = mem[m];
                memcpy(parts[nparts].path, holder->path, sizeof holder->path);
                parts[nparts].format = holder->format;
                parts[nparts].netcdf4 = holder->netcdf4;
                parts[nparts].nexpver = holder->nexpver;
                nparts++;
            }
            fv.part = p + 1;
        }
        primary->file.vars[v] = fv;
    }
    if (nparts > 0) {
        primary->file.parts = dsc_malloc((size_t)nparts * sizeof(era5_part), "file bundles");
        if (!primary->file.parts) return DSC_ERR;
        memcpy(primary->file.parts, parts, (size_t)nparts * sizeof(era5_part));
        primary->file.nparts = nparts;
    }
    return DSC_OK;
}

/* Files of equal time steps become one era5_file (a bundle, make_bundle);
 * the bundles are moved to scans[0, *nbundles) in path order of their first
 * file, their other files after them (kept for freeing).  The catalog's
 * variables are set already. */
static int bundle_files(file_scan *scans, int n, era5_catalog *cat, int stream, int *nbundles)
{
    int status = DSC_OK;
    int *bypath = dsc_malloc((size_t)n * sizeof(int), "file order");
    int *bundle = dsc_malloc((size_t)n * sizeof(int), "file bundles");
    int *order = dsc_malloc((size_t)n * sizeof(int), "file bundles");
    file_scan *moved = dsc_malloc((size_t)n * sizeof(file_scan), "file bundles");
    if (!bypath || !bundle || !order || !moved) status = DSC_ERR;
    int nb = 0, placed = 0;
    if (status == DSC_OK) {
        for (int i = 0; i < n; i++) bypath[i] = i;
        sort_scans = scans;
        qsort(bypath, (size_t)n, sizeof(int), compare_paths);
        for (int i = 0; i < n; i++) bundle[i] = -1;
        /* bundles in path order of their first file; their members in path order */
        for (int j = 0; j < n; j++) {
            int a = bypath[j];
            if (bundle[a] >= 0) continue;
            for (int k = j; k < n; k++)
                if (bundle[bypath[k]] < 0 && same_times(&scans[a], &scans[bypath[k]])) bundle[bypath[k]] = nb;
            nb++;
        }
        for (int b = 0; status == DSC_OK && b < nb; b++) {
            int nmem = 0, *mem = order + placed;
            for (int j = 0; j < n; j++)
                if (bundle[bypath[j]] == b) mem[nmem++] = bypath[j];
            status = make_bundle(scans, mem, nmem, cat, stream);
            placed += nmem;
        }
    }
    if (status == DSC_OK) {
        /* bundles first (order[] holds them member by member: take each first member) */
        int k = 0, rest = nb;
        for (int b = 0, pos = 0; b < nb; b++) {
            int nmem = 0;
            while (pos + nmem < n && bundle[order[pos + nmem]] == b) nmem++;
            moved[k++] = scans[order[pos]];
            for (int m = 1; m < nmem; m++) moved[rest++] = scans[order[pos + m]];
            pos += nmem;
        }
        memcpy(scans, moved, (size_t)n * sizeof *scans);
        *nbundles = nb;
    }
    free(bypath);
    free(bundle);
    free(order);
    free(moved);
    return status;
}

/* The catalog's variables of all n files (merged_variables), with every
 * file on the grid of the first. */
static int all_variables(const file_scan *scans, int n, const era5_options *opt, era5_catalog *cat)
{
    int status = DSC_OK;
    for (int i = 1; status == DSC_OK && i < n; i++) status = match_grid(&scans[0], &scans[i]);
    int *bypath = dsc_malloc((size_t)(n ? n : 1) * sizeof(int), "file order");
    if (!bypath) return DSC_ERR;
    if (status == DSC_OK) {
        for (int i = 0; i < n; i++) bypath[i] = i;
        sort_scans = scans;
        qsort(bypath, (size_t)n, sizeof(int), compare_paths);
        status = merged_variables(scans, bypath, n, opt, cat);
    }
    free(bypath);
    return status;
}

/* Files of equal time steps become one era5_file whose variables come from
 * the first file in path order that has each (bundle_files).  Every bundle
 * must have every variable. */
static int merge_by_variable(file_scan *scans, int n, const era5_options *opt, era5_catalog *cat, int *nbundles)
{
    if (all_variables(scans, n, opt, cat) != DSC_OK) return DSC_ERR;
    return bundle_files(scans, n, cat, -1, nbundles);
}

/* Files in the forecast layout beside files of a time axis (NCAR RDA): the
 * files of a time axis are moved first (*n0 of them), those of the
 * forecast layout after; the variables found in files of a time axis are
 * stream 0, the others stream 1.  *first and *count: the files the
 * variables need, all n when both streams have variables (*nstreams 2),
 * else those of the one stream that has (*nstreams 1, every variable stream 0). */
static int split_streams(file_scan *scans, int n, const era5_options *opt, era5_catalog *cat, int *n0, int *first, int *count,
                         int *nstreams)
{
    file_scan *tmp = dsc_malloc((size_t)n * sizeof *tmp, "file streams");
    if (!tmp) return DSC_ERR;
    int k = 0;
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < n; i++)
            if ((scans[i].file.nhours > 0) == pass) tmp[k++] = scans[i];
    memcpy(scans, tmp, (size_t)n * sizeof *scans);
    free(tmp);
    for (*n0 = 0; *n0 < n && scans[*n0].file.nhours == 0; (*n0)++) continue;
    if (all_variables(scans, n, opt, cat) != DSC_OK) return DSC_ERR;
    int used[2] = {0, 0};
    for (int v = 0; v < cat->nvars; v++) {
        cat->vars[v].stream = 1;
        for (int i = 0; i < *n0; i++)
            if (find_field(&scans[i], cat->vars[v].name) >= 0) cat->vars[v].stream = 0;
        used[cat->vars[v].stream] = 1;
    }
    *nstreams = used[0] + used[1];
    *first = used[0] ? 0 : *n0;
    *count = *nstreams == 2 ? n : used[0] ? *n0 : n - *n0;
    if (*nstreams == 1)
        for (int v = 0; v < cat->nvars; v++) cat->vars[v].stream = 0;
    return DSC_OK;
}

/* Both streams: each bundled by itself (bundle_files), the bundles of
 * stream 1 moved after those of stream 0. */
static int bundle_streams(file_scan *scans, int n, int n0, era5_catalog *cat, int *nbundles)
{
    int nb0 = 0, nb1 = 0;
    if (bundle_files(scans, n0, cat, 0, &nb0) != DSC_OK || bundle_files(scans + n0, n - n0, cat, 1, &nb1) != DSC_OK)
        return DSC_ERR;
    file_scan *tmp = dsc_malloc((size_t)n * sizeof *tmp, "file streams");
    if (!tmp) return DSC_ERR;
    int k = 0;
    for (int i = 0; i < nb0; i++) tmp[k++] = scans[i];
    for (int i = 0; i < nb1; i++) tmp[k++] = scans[n0 + i];
    for (int i = nb0; i < n0; i++) tmp[k++] = scans[i];
    for (int i = n0 + nb1; i < n; i++) tmp[k++] = scans[i];
    memcpy(scans, tmp, (size_t)n * sizeof *scans);
    free(tmp);
    cat->nstreams = 2;
    *nbundles = nb0 + nb1;
    return DSC_OK;
}

static int build_catalog(MPI_Comm comm, file_scan *scans, int nfiles, const era5_options *opt, era5_catalog *cat)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    /* one calendar per run; standard and proleptic_gregorian agree on every
     * date the catalog accepts (from 1582-10-15 on), as in legacy and new
     * CDS downloads */
    for (int i = 1; i < nfiles; i++) {
        cf_calendar a = scans[0].calendar_kind, b = scans[i].calendar_kind;
        int gregorian_a = a == CAL_STANDARD || a == CAL_GREGORIAN, gregorian_b = b == CAL_STANDARD || b == CAL_GREGORIAN;
        if (a != b && !(gregorian_a && gregorian_b))
            return dsc_fail("%s: calendar '%s' differs from calendar '%s' of %s; give files of one calendar",
                            scans[i].file.path, scans[i].calendar[0] ? scans[i].calendar : "standard",
                            scans[0].calendar[0] ? scans[0].calendar : "standard", scans[0].file.path);
    }
    cat->nstreams = 1;
    int nforecast = 0;
    for (int i = 0; i < nfiles; i++) nforecast += scans[i].file.nhours > 0;
    if (nforecast > 0 && nforecast < nfiles) { /* the forecast layout beside a time axis: two streams? */
        int n0, first, count, nstreams;
        if (split_streams(scans, nfiles, opt, cat, &n0, &first, &count, &nstreams) != DSC_OK) return DSC_ERR;
        if (nstreams == 2 && bundle_streams(scans, nfiles, n0, cat, &nfiles) != DSC_OK) return DSC_ERR;
        if (nstreams == 1) { /* the variables asked for are in one stream: the other files are not read */
            scans += first;
            nfiles = count;
        }
    }
    if (cat->nstreams == 2) {
        /* bundled above */
    } else if (nfiles > 1 && needs_merge(scans, nfiles, opt)) {
        if (merge_by_variable(scans, nfiles, opt, cat, &nfiles) != DSC_OK) return DSC_ERR;
    } else {
        int index[ERA5_MAX_VARS];
        if (choose_variables(&scans[0], opt, cat, index) != DSC_OK) return DSC_ERR;
        for (int v = 0; v < cat->nvars; v++) scans[0].file.vars[v] = scans[0].fields[index[v]];
        for (int i = 1; i < nfiles; i++)
            if (match_file(&scans[0], &scans[i], cat, opt) != DSC_OK) return DSC_ERR;
    }
    if (select_box(&scans[0], opt, cat) != DSC_OK) return DSC_ERR;

    /* files in the order of their first time step (stable for equal times) */
    file_order *order = dsc_malloc((size_t)nfiles * sizeof *order, "file order");
    file_scan *sorted = dsc_malloc((size_t)nfiles * sizeof *sorted, "file order");
    cat->files = dsc_calloc((size_t)nfiles, sizeof(era5_file), "file table");
    if (!order || !sorted || !cat->files) {
        free(order);
        free(sorted);
        return DSC_ERR;
    }
    for (int i = 0; i < nfiles; i++) {
        double first = scans[i].hours[0];
        for (long long k = 1; k < scans[i].file.ntime; k++)
            if (scans[i].hours[k] < first) first = scans[i].hours[k];
        order[i].first = first;
        order[i].index = i;
    }
    qsort(order, (size_t)nfiles, sizeof *order, compare_files);
    for (int i = 0; i < nfiles; i++) sorted[i] = scans[order[i].index];
    memcpy(scans, sorted, (size_t)nfiles * sizeof *scans);
    free(order);
    free(sorted);
    cat->nfiles = nfiles;
    for (int i = 0; i < nfiles; i++) {
        cat->files[i] = scans[i].file;
        scans[i].file.parts = NULL; /* the catalog owns them now */
        scans[i].file.nparts = 0;
    }
    cat->calendar = scans[0].calendar_kind; /* of the earliest file */
    return build_time_axis(scans, opt, cat, rank);
}

int era5_catalog_open(MPI_Comm comm, char **paths, int npaths, const era5_options *opt, era5_catalog *cat)
{
    memset(cat, 0, sizeof *cat);
    if (npaths <= 0) return dsc_agree(comm, dsc_fail("no input files; give one or more ERA5 netCDF files"));
    file_scan *scans = dsc_calloc((size_t)npaths, sizeof *scans, "file table");
    if (dsc_agree(comm, scans ? DSC_OK : DSC_ERR) != DSC_OK) return DSC_ERR;
    int status = DSC_OK;
    int nscanned = 0;
    for (int i = 0; i < npaths && status == DSC_OK; i++) {
        status = scan_file(comm, paths[i], opt, &scans[i]);
        if (status == DSC_OK) nscanned++;
    }
    if (status == DSC_OK) status = dsc_agree(comm, build_catalog(comm, scans, npaths, opt, cat));
    for (int i = 0; i < nscanned; i++) file_scan_destroy(&scans[i]);
    free(scans);
    if (status != DSC_OK) era5_catalog_destroy(cat);
    return status;
}

void era5_catalog_destroy(era5_catalog *cat)
{
    for (int i = 0; cat->files && i < cat->nfiles; i++) free(cat->files[i].parts);
    free(cat->files);
    free(cat->lat);
    free(cat->lon);
    free(cat->steps);
    free(cat->stream_steps);
    free(cat->time);
    free(cat->time_first_step);
    memset(cat, 0, sizeof *cat);
}
