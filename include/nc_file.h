/*
 * nc_file.h - one interface to the two libraries that read ERA5 files in
 * parallel: PnetCDF for netCDF classic, 64-bit offset and CDF-5 files, and
 * netcdf-c's parallel API over parallel HDF5 for netCDF-4 files (what the
 * new CDS and NCAR's RDA deliver).  The file's first bytes choose the
 * library (nc_file_sniff); the catalog and the reader then ask the same
 * questions of either.
 *
 * Every function returns a netCDF status: NC_NOERR (0) or the library's
 * error code, whose text nc_file_strerror gives.  Type codes are netCDF's
 * (NC_BYTE 1 ... NC_UINT64 11, NC_STRING 12), which both libraries share.
 * Calls marked collective must be made by every rank of the communicator
 * the file was opened on; the others are local.
 *
 * Without netcdf-c's parallel API at build time (configure says so),
 * netCDF-4 files cannot be opened: nc_file_have_netcdf4() is 0 and the
 * catalog gives the conversion command instead.
 */
#ifndef DSC_NC_FILE_H
#define DSC_NC_FILE_H

#include <mpi.h>
#include <stddef.h>
#include <stdio.h>

/* What a file's first bytes say it is. */
typedef enum {
    NC_KIND_EMPTY = 0,     /* no bytes */
    NC_KIND_UNKNOWN,       /* none of the below */
    NC_KIND_CDF_TRUNCATED, /* a prefix of "CDF" */
    NC_KIND_CDF1,          /* classic */
    NC_KIND_CDF2,          /* 64-bit offset */
    NC_KIND_CDF5,          /* 64-bit data */
    NC_KIND_HDF5,          /* netCDF-4 (or any HDF5 file): signature at 0 or after a user block */
    NC_KIND_ZIP,
    NC_KIND_GRIB
} nc_kind;

/* The formats an open file reports (netCDF's NC_FORMAT_* numbers). */
#define NC_FILE_FORMAT_CLASSIC 1
#define NC_FILE_FORMAT_64BIT 2
#define NC_FILE_FORMAT_NETCDF4 3
#define NC_FILE_FORMAT_NETCDF4_CLASSIC 4
#define NC_FILE_FORMAT_CDF5 5

/* Status of an open call on a netCDF-4 file in a build without parallel
 * netCDF-4 (not a library code). */
#define NC_FILE_ENOTBUILT (-1000)

typedef struct {
    int netcdf4; /* 1: netcdf-c over HDF5; 0: PnetCDF */
    int ncid;
} nc_file;

/* Local: the kind of file from its first bytes (fp open for reading,
 * positioned anywhere; size its size in bytes). */
nc_kind nc_file_sniff(FILE *fp, long long size);

/* Whether this build reads netCDF-4 files. */
int nc_file_have_netcdf4(void);
/* The library versions, for dsc info and --version ("PnetCDF 1.12.3",
 * "netCDF 4.9.0 (parallel HDF5)" or "netCDF-4: not built"). */
void nc_file_versions(char *buf, size_t len);

/* Collective over comm: opens path read-only with PnetCDF (netcdf4 = 0) or
 * netcdf-c (netcdf4 = 1). */
int nc_file_open(MPI_Comm comm, const char *path, int netcdf4, nc_file *f);
/* Collective. */
int nc_file_close(nc_file *f);
/* The library's text for err, without a final full stop. */
const char *nc_file_strerror(const nc_file *f, int err);

int nc_file_inq_format(const nc_file *f, int *format);
int nc_file_inq_dimid(const nc_file *f, const char *name, int *dimid);
int nc_file_inq_dimlen(const nc_file *f, int dimid, long long *len);
/* -1 when there is no unlimited dimension. */
int nc_file_inq_unlimdim(const nc_file *f, int *dimid);
int nc_file_inq_nvars(const nc_file *f, int *nvars);
int nc_file_inq_varndims(const nc_file *f, int varid, int *ndims);
/* name (NC_MAX_NAME + 1 bytes), type and dimids may be NULL; dimids must
 * hold the variable's ndims entries. */
int nc_file_inq_var(const nc_file *f, int varid, char *name, int *xtype, int *dimids);
int nc_file_inq_varid(const nc_file *f, const char *name, int *varid);
int nc_file_inq_att(const nc_file *f, int varid, const char *name, int *xtype, long long *len);
int nc_file_get_att_text(const nc_file *f, int varid, const char *name, char *buf);
int nc_file_get_att_double(const nc_file *f, int varid, const char *name, double *buf);

/* How a variable is stored: chunk lengths along each dimension (contiguous
 * storage, and every classic file: *chunked = 0) and compression (deflate
 * level 0 = none; shuffle). */
typedef struct {
    int chunked;
    long long chunk[8];
    int shuffle, deflate_level;
    int filtered; /* another filter than deflate (szip, zstd, ...) */
} nc_file_storage;
int nc_file_inq_storage(const nc_file *f, int varid, int ndims, nc_file_storage *st);

/* Collective: the whole of a (small) variable as doubles, every rank. */
int nc_file_get_var_double_all(const nc_file *f, int varid, double *buf);
/* Collective, before the reads of a variable: collective access (netCDF-4)
 * and a chunk cache of at least cache_bytes (0: the library's default), so
 * that the chunks one read touches are inflated once.  PnetCDF: nothing. */
int nc_file_begin_reads(const nc_file *f, int varid, long long cache_bytes);
/* Collective: the values start/count (ndims entries) of a variable, in its
 * stored type xtype, into buf; a rank with nothing to read passes count
 * all 0 and joins.  nelems is the number of values asked for. */
int nc_file_get_vara_all(const nc_file *f, int varid, int ndims, const long long *start, const long long *count,
                         void *buf, long long nelems, int xtype);

/* The netcdf-c side (nc_file_netcdf4.c), called through the above. */
int nc4_file_have(void);
void nc4_file_version(char *buf, size_t len);
int nc4_file_open(MPI_Comm comm, const char *path, int *ncid);
int nc4_file_close(int ncid);
const char *nc4_file_strerror(int err);
int nc4_file_inq_format(int ncid, int *format);
int nc4_file_inq_dimid(int ncid, const char *name, int *dimid);
int nc4_file_inq_dimlen(int ncid, int dimid, long long *len);
int nc4_file_inq_unlimdim(int ncid, int *dimid);
int nc4_file_inq_nvars(int ncid, int *nvars);
int nc4_file_inq_varndims(int ncid, int varid, int *ndims);
int nc4_file_inq_var(int ncid, int varid, char *name, int *xtype, int *dimids);
int nc4_file_inq_varid(int ncid, const char *name, int *varid);
int nc4_file_inq_att(int ncid, int varid, const char *name, int *xtype, long long *len);
int nc4_file_get_att_text(int ncid, int varid, const char *name, char *buf);
int nc4_file_get_att_double(int ncid, int varid, const char *name, double *buf);
int nc4_file_inq_storage(int ncid, int varid, int ndims, nc_file_storage *st);
int nc4_file_get_var_double_all(int ncid, int varid, double *buf);
int nc4_file_begin_reads(int ncid, int varid, long long cache_bytes);
int nc4_file_get_vara_all(int ncid, int varid, int ndims, const long long *start, const long long *count, void *buf);

/* Writing netCDF-4 (dsc synth --encoding newcds), collective over comm
 * unless said otherwise; xtype codes as above; NC_GLOBAL is -1. */
int nc4_file_create(MPI_Comm comm, const char *path, int *ncid);
int nc4_file_def_dim(int ncid, const char *name, long long len, int *dimid);
/* deflate_level 0: no compression; else zlib at that level with shuffle. */
int nc4_file_def_var(int ncid, const char *name, int xtype, int ndims, const int *dimids, int deflate_level, int *varid);
/* len values of type xtype (NC_CHAR: len characters). */
int nc4_file_put_att(int ncid, int varid, const char *name, int xtype, long long len, const void *value);
int nc4_file_enddef(int ncid);
/* Collective: every rank calls it, a rank with nothing to write with count
 * all 0; buf in the variable's type. */
int nc4_file_put_vara_all(int ncid, int varid, int ndims, const long long *start, const long long *count, const void *buf);
/* Local (one rank, the file closed by all): adds the string variable
 * name(dim) holding n copies of value, as the new CDS's expver; parallel
 * HDF5 cannot write variable-length strings, so this reopens the file
 * serially. */
int nc4_file_add_string_var(const char *path, const char *name, const char *dim, const char *value,
                            const char *long_name);

#endif
