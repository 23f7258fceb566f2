/*
 * nc_file_netcdf4.c - the netcdf-c side of nc_file.h: netCDF-4 files read
 * in parallel through netcdf-c's parallel API over parallel HDF5
 * (nc_open_par, nc_var_par_access(NC_COLLECTIVE)).
 *
 * Reads of field data are collective: HDF5 then lets MPI-IO merge the
 * ranks' requests, and a rank with nothing to read joins with an empty
 * selection (netcdf-c passes a zero count on as one).  Compressed (deflated)
 * data are inflated a whole chunk at a time, so the reader asks for whole
 * runs of time steps per call (era5_reader.c) and the chunk cache of each
 * variable is made large enough for the chunks that one call touches
 * (nc4_file_begin_reads).
 *
 * Built only when configure finds netcdf_par.h and nc_open_par
 * (HAVE_NETCDF_PAR); otherwise every call says so.
 */
#include "config.h"
#include "nc_file.h"

#include <stdio.h>
#include <string.h>

#ifdef HAVE_NETCDF_PAR
#include <netcdf.h>
#include <netcdf_filter.h>
#include <netcdf_par.h>
#include <stdlib.h>

int nc4_file_have(void) { return 1; }

void nc4_file_version(char *buf, size_t len)
{
    char v[64];
    snprintf(v, sizeof v, "%s", nc_inq_libvers());
    v[strcspn(v, " ")] = '\0';
    snprintf(buf, len, "netCDF %s (parallel HDF5)", v);
}

int nc4_file_open(MPI_Comm comm, const char *path, int *ncid)
{
    return nc_open_par(path, NC_NOWRITE, comm, MPI_INFO_NULL, ncid);
}

int nc4_file_close(int ncid) { return nc_close(ncid); }
const char *nc4_file_strerror(int err) { return nc_strerror(err); }
int nc4_file_inq_format(int ncid, int *format) { return nc_inq_format(ncid, format); }
int nc4_file_inq_dimid(int ncid, const char *name, int *dimid) { return nc_inq_dimid(ncid, name, dimid); }

int nc4_file_inq_dimlen(int ncid, int dimid, long long *len)
{
    size_t n = 0;
    int err = nc_inq_dimlen(ncid, dimid, &n);
    *len = (long long)n;
    return err;
}

int nc4_file_inq_unlimdim(int ncid, int *dimid) { return nc_inq_unlimdim(ncid, dimid); }
int nc4_file_inq_nvars(int ncid, int *nvars) { return nc_inq_nvars(ncid, nvars); }
int nc4_file_inq_varndims(int ncid, int varid, int *ndims) { return nc_inq_varndims(ncid, varid, ndims); }

int nc4_file_inq_var(int ncid, int varid, char *name, int *xtype, int *dimids)
{
    nc_type t = 0;
    int err = nc_inq_var(ncid, varid, name, &t, NULL, dimids, NULL);
    if (xtype) *xtype = (int)t;
    return err;
}

int nc4_file_inq_varid(int ncid, const char *name, int *varid) { return nc_inq_varid(ncid, name, varid); }

/* A text attribute stored as one variable-length string (what some writers
 * make of units and calendar) answers as text of its length. */
int nc4_file_inq_att(int ncid, int varid, const char *name, int *xtype, long long *len)
{
    nc_type t = 0;
    size_t n = 0;
    int err = nc_inq_att(ncid, varid, name, &t, &n);
    *xtype = (int)t;
    *len = (long long)n;
    if (err == NC_NOERR && t == NC_STRING && n == 1) {
        char *s = NULL;
        if (nc_get_att_string(ncid, varid, name, &s) == NC_NOERR) {
            *xtype = NC_CHAR;
            *len = s ? (long long)strlen(s) : 0;
            nc_free_string(1, &s);
        }
    }
    return err;
}

int nc4_file_get_att_text(int ncid, int varid, const char *name, char *buf)
{
    nc_type t = 0;
    size_t n = 0;
    int err = nc_inq_att(ncid, varid, name, &t, &n);
    if (err != NC_NOERR) return err;
    if (t != NC_STRING) return nc_get_att_text(ncid, varid, name, buf);
    if (n != 1) return NC_ECHAR;
    char *s = NULL;
    err = nc_get_att_string(ncid, varid, name, &s);
    if (err == NC_NOERR && s) memcpy(buf, s, strlen(s)); /* the length nc4_file_inq_att gave, no NUL (as text) */
    if (s) nc_free_string(1, &s);
    return err;
}

int nc4_file_get_att_double(int ncid, int varid, const char *name, double *buf)
{
    return nc_get_att_double(ncid, varid, name, buf);
}

int nc4_file_inq_storage(int ncid, int varid, int ndims, nc_file_storage *st)
{
    memset(st, 0, sizeof *st);
    if (ndims < 0 || ndims > 8) return NC_EINVAL;
    int storage = NC_CONTIGUOUS;
    size_t chunks[NC_MAX_VAR_DIMS > 8 ? 8 : NC_MAX_VAR_DIMS];
    int err = nc_inq_var_chunking(ncid, varid, &storage, ndims > 0 ? chunks : NULL);
    if (err != NC_NOERR) return err;
    st->chunked = storage == NC_CHUNKED;
    for (int d = 0; st->chunked && d < ndims; d++) st->chunk[d] = (long long)chunks[d];
    int deflate = 0, level = 0;
    err = nc_inq_var_deflate(ncid, varid, &st->shuffle, &deflate, &level);
    if (err != NC_NOERR) return err;
    st->deflate_level = deflate ? level : 0;
    /* any other filter: one this HDF5 cannot apply makes every read fail */
    size_t nfilters = 0;
    unsigned int ids[16];
    if (nc_inq_var_filter_ids(ncid, varid, &nfilters, NULL) == NC_NOERR && nfilters > 0 && nfilters <= 16 &&
        nc_inq_var_filter_ids(ncid, varid, &nfilters, ids) == NC_NOERR) {
        for (size_t i = 0; i < nfilters; i++)
            if (ids[i] != 1 /* deflate */ && ids[i] != 2 /* shuffle */ && ids[i] != 3 /* fletcher32 */) {
                st->filtered = (int)ids[i];
                if (nc_inq_filter_avail(ncid, ids[i]) != NC_NOERR) st->filtered = -(int)ids[i];
            }
    }
    return NC_NOERR;
}

int nc4_file_get_var_double_all(int ncid, int varid, double *buf)
{
    int err = nc_var_par_access(ncid, varid, NC_COLLECTIVE);
    if (err != NC_NOERR) return err;
    return nc_get_var_double(ncid, varid, buf);
}

int nc4_file_begin_reads(int ncid, int varid, long long cache_bytes)
{
    int err = nc_var_par_access(ncid, varid, NC_COLLECTIVE);
    if (err != NC_NOERR || cache_bytes <= 0) return err;
    size_t size = 0, nelems = 0;
    float preemption = 0;
    err = nc_get_var_chunk_cache(ncid, varid, &size, &nelems, &preemption);
    if (err != NC_NOERR || (long long)size >= cache_bytes) return err;
    /* the slots of HDF5's hash table: a prime well above the chunks held */
    return nc_set_var_chunk_cache(ncid, varid, (size_t)cache_bytes, nelems > 1009 ? nelems : 1009, preemption);
}

int nc4_file_get_vara_all(int ncid, int varid, int ndims, const long long *start, const long long *count, void *buf)
{
    size_t s[8], c[8];
    for (int d = 0; d < ndims; d++) {
        s[d] = (size_t)start[d];
        c[d] = (size_t)count[d];
    }
    return nc_get_vara(ncid, varid, s, c, buf);
}

int nc4_file_create(MPI_Comm comm, const char *path, int *ncid)
{
    return nc_create_par(path, NC_NETCDF4 | NC_CLOBBER, comm, MPI_INFO_NULL, ncid);
}

int nc4_file_def_dim(int ncid, const char *name, long long len, int *dimid)
{
    return nc_def_dim(ncid, name, (size_t)len, dimid);
}

int nc4_file_def_var(int ncid, const char *name, int xtype, int ndims, const int *dimids, int deflate_level, int *varid)
{
    int err = nc_def_var(ncid, name, (nc_type)xtype, ndims, dimids, varid);
    if (err == NC_NOERR && deflate_level > 0) err = nc_def_var_deflate(ncid, *varid, 1, 1, deflate_level);
    return err;
}

int nc4_file_put_att(int ncid, int varid, const char *name, int xtype, long long len, const void *value)
{
    if (xtype == NC_CHAR) return nc_put_att_text(ncid, varid, name, (size_t)len, value);
    return nc_put_att(ncid, varid, name, (nc_type)xtype, (size_t)len, value);
}

int nc4_file_enddef(int ncid) { return nc_enddef(ncid); }

int nc4_file_put_vara_all(int ncid, int varid, int ndims, const long long *start, const long long *count, const void *buf)
{
    int err = nc_var_par_access(ncid, varid, NC_COLLECTIVE); /* compressed data: collective writes only */
    if (err != NC_NOERR) return err;
    size_t s[8], c[8];
    for (int d = 0; d < ndims && d < 8; d++) {
        s[d] = (size_t)start[d];
        c[d] = (size_t)count[d];
    }
    return nc_put_vara(ncid, varid, s, c, buf);
}

int nc4_file_add_string_var(const char *path, const char *name, const char *dim, const char *value,
                            const char *long_name)
{
    int ncid, dimid, varid;
    size_t n = 0;
    int err = nc_open(path, NC_WRITE, &ncid);
    if (err != NC_NOERR) return err;
    if ((err = nc_inq_dimid(ncid, dim, &dimid)) == NC_NOERR && (err = nc_inq_dimlen(ncid, dimid, &n)) == NC_NOERR &&
        (err = nc_redef(ncid)) == NC_NOERR && (err = nc_def_var(ncid, name, NC_STRING, 1, &dimid, &varid)) == NC_NOERR &&
        (err = nc_put_att_text(ncid, varid, "long_name", strlen(long_name), long_name)) == NC_NOERR &&
        (err = nc_enddef(ncid)) == NC_NOERR) {
        const char **values = malloc((n ? n : 1) * sizeof *values);
        if (!values) err = NC_ENOMEM;
        for (size_t i = 0; values && i < n; i++) values[i] = value;
        if (values) err = nc_put_var_string(ncid, varid, values);
        free(values);
    }
    int cerr = nc_close(ncid);
    return err != NC_NOERR ? err : cerr;
}

#else /* no parallel netCDF-4 */

int nc4_file_have(void) { return 0; }
void nc4_file_version(char *buf, size_t len) { snprintf(buf, len, "netCDF-4: not built"); }
int nc4_file_open(MPI_Comm comm, const char *path, int *ncid)
{
    (void)comm;
    (void)path;
    *ncid = -1;
    return NC_FILE_ENOTBUILT;
}
int nc4_file_close(int ncid) { return ncid < 0 ? 0 : NC_FILE_ENOTBUILT; }
const char *nc4_file_strerror(int err) { return err ? "netCDF-4 is not built" : "no error"; }
int nc4_file_inq_format(int ncid, int *format) { (void)ncid; *format = 0; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_dimid(int ncid, const char *name, int *dimid) { (void)ncid; (void)name; *dimid = -1; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_dimlen(int ncid, int dimid, long long *len) { (void)ncid; (void)dimid; *len = 0; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_unlimdim(int ncid, int *dimid) { (void)ncid; *dimid = -1; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_nvars(int ncid, int *nvars) { (void)ncid; *nvars = 0; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_varndims(int ncid, int varid, int *ndims) { (void)ncid; (void)varid; *ndims = 0; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_var(int ncid, int varid, char *name, int *xtype, int *dimids)
{
    (void)ncid; (void)varid; (void)name; (void)xtype; (void)dimids;
    return NC_FILE_ENOTBUILT;
}
int nc4_file_inq_varid(int ncid, const char *name, int *varid) { (void)ncid; (void)name; *varid = -1; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_att(int ncid, int varid, const char *name, int *xtype, long long *len)
{
    (void)ncid; (void)varid; (void)name;
    *xtype = 0;
    *len = 0;
    return NC_FILE_ENOTBUILT;
}
int nc4_file_get_att_text(int ncid, int varid, const char *name, char *buf) { (void)ncid; (void)varid; (void)name; (void)buf; return NC_FILE_ENOTBUILT; }
int nc4_file_get_att_double(int ncid, int varid, const char *name, double *buf) { (void)ncid; (void)varid; (void)name; (void)buf; return NC_FILE_ENOTBUILT; }
int nc4_file_inq_storage(int ncid, int varid, int ndims, nc_file_storage *st) { (void)ncid; (void)varid; (void)ndims; memset(st, 0, sizeof *st); return NC_FILE_ENOTBUILT; }
int nc4_file_get_var_double_all(int ncid, int varid, double *buf) { (void)ncid; (void)varid; (void)buf; return NC_FILE_ENOTBUILT; }
int nc4_file_begin_reads(int ncid, int varid, long long cache_bytes) { (void)ncid; (void)varid; (void)cache_bytes; return NC_FILE_ENOTBUILT; }
int nc4_file_get_vara_all(int ncid, int varid, int ndims, const long long *start, const long long *count, void *buf)
{
    (void)ncid; (void)varid; (void)ndims; (void)start; (void)count; (void)buf;
    return NC_FILE_ENOTBUILT;
}

int nc4_file_create(MPI_Comm comm, const char *path, int *ncid) { (void)comm; (void)path; *ncid = -1; return NC_FILE_ENOTBUILT; }
int nc4_file_def_dim(int ncid, const char *name, long long len, int *dimid) { (void)ncid; (void)name; (void)len; (void)dimid; return NC_FILE_ENOTBUILT; }
int nc4_file_def_var(int ncid, const char *name, int xtype, int ndims, const int *dimids, int deflate_level, int *varid)
{
    (void)ncid; (void)name; (void)xtype; (void)ndims; (void)dimids; (void)deflate_level; (void)varid;
    return NC_FILE_ENOTBUILT;
}
int nc4_file_put_att(int ncid, int varid, const char *name, int xtype, long long len, const void *value)
{
    (void)ncid; (void)varid; (void)name; (void)xtype; (void)len; (void)value;
    return NC_FILE_ENOTBUILT;
}
int nc4_file_enddef(int ncid) { (void)ncid; return NC_FILE_ENOTBUILT; }
int nc4_file_put_vara_all(int ncid, int varid, int ndims, const long long *start, const long long *count, const void *buf)
{
    (void)ncid; (void)varid; (void)ndims; (void)start; (void)count; (void)buf;
    return NC_FILE_ENOTBUILT;
}
int nc4_file_add_string_var(const char *path, const char *name, const char *dim, const char *value, const char *long_name)
{
    (void)path; (void)name; (void)dim; (void)value; (void)long_name;
    return NC_FILE_ENOTBUILT;
}

#endif
