/*
 * nc_file.c - PnetCDF or netcdf-c behind one interface (see nc_file.h).
 *
 * This file holds the sniffing of a file's first bytes and the PnetCDF
 * side; nc_file_netcdf4.c holds the netcdf-c side, in a file of its own
 * because pnetcdf.h and netcdf.h define the same names.
 */
#include "nc_file.h"

#include <limits.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <string.h>

nc_kind nc_file_sniff(FILE *fp, long long size)
{
    unsigned char magic[8] = {0};
    if (size <= 0) return NC_KIND_EMPTY;
    if (fseek(fp, 0, SEEK_SET) != 0) return NC_KIND_UNKNOWN;
    size_t n = fread(magic, 1, sizeof magic, fp);
    /* HDF5 puts its signature at 0, or after a user block of 512, 1024, ... bytes */
    static const unsigned char hdf5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
    if (n == 8 && memcmp(magic, hdf5, 8) == 0) return NC_KIND_HDF5;
    for (long off = 512; off < size && off <= 8192; off *= 2) {
        unsigned char m2[8];
        if (fseek(fp, off, SEEK_SET) == 0 && fread(m2, 1, 8, fp) == 8 && memcmp(m2, hdf5, 8) == 0) return NC_KIND_HDF5;
    }
    if (n >= 4 && memcmp(magic, "CDF", 3) == 0) {
        if (magic[3] == 1) return NC_KIND_CDF1;
        if (magic[3] == 2) return NC_KIND_CDF2;
        if (magic[3] == 5) return NC_KIND_CDF5;
    }
    if (n < 4 && memcmp(magic, "CDF", n) == 0) return NC_KIND_CDF_TRUNCATED;
    if (n >= 4 && memcmp(magic, "PK\003\004", 4) == 0) return NC_KIND_ZIP;
    if (n >= 4 && memcmp(magic, "GRIB", 4) == 0) return NC_KIND_GRIB;
    return NC_KIND_UNKNOWN;
}

int nc_file_have_netcdf4(void) { return nc4_file_have(); }

void nc_file_versions(char *buf, size_t len)
{
    char nc4[128];
    nc4_file_version(nc4, sizeof nc4);
    snprintf(buf, len, "PnetCDF %s; %s", ncmpi_inq_libvers(), nc4);
}

int nc_file_open(MPI_Comm comm, const char *path, int netcdf4, nc_file *f)
{
    f->netcdf4 = netcdf4;
    f->ncid = -1;
    if (netcdf4) return nc4_file_open(comm, path, &f->ncid);
    return ncmpi_open(comm, path, NC_NOWRITE, MPI_INFO_NULL, &f->ncid);
}

int nc_file_close(nc_file *f)
{
    int err = f->netcdf4 ? nc4_file_close(f->ncid) : ncmpi_close(f->ncid);
    f->ncid = -1;
    return err;
}

const char *nc_file_strerror(const nc_file *f, int err)
{
    static char text[256];
    if (err == NC_FILE_ENOTBUILT)
        snprintf(text, sizeof text, "this dsc was built without parallel netCDF-4 (configure found no netcdf_par.h)");
    else snprintf(text, sizeof text, "%s", f && f->netcdf4 ? nc4_file_strerror(err) : ncmpi_strerror(err));
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '.' || text[n - 1] == ' ')) text[--n] = '\0';
    return text;
}

int nc_file_inq_format(const nc_file *f, int *format)
{
    return f->netcdf4 ? nc4_file_inq_format(f->ncid, format) : ncmpi_inq_format(f->ncid, format);
}

int nc_file_inq_dimid(const nc_file *f, const char *name, int *dimid)
{
    return f->netcdf4 ? nc4_file_inq_dimid(f->ncid, name, dimid) : ncmpi_inq_dimid(f->ncid, name, dimid);
}

int nc_file_inq_dimlen(const nc_file *f, int dimid, long long *len)
{
    if (f->netcdf4) return nc4_file_inq_dimlen(f->ncid, dimid, len);
    MPI_Offset n = 0;
    int err = ncmpi_inq_dimlen(f->ncid, dimid, &n);
    *len = err == NC_NOERR ? (long long)n : 0;
    return err;
}

int nc_file_inq_unlimdim(const nc_file *f, int *dimid)
{
    *dimid = -1;
    return f->netcdf4 ? nc4_file_inq_unlimdim(f->ncid, dimid) : ncmpi_inq_unlimdim(f->ncid, dimid);
}

int nc_file_inq_nvars(const nc_file *f, int *nvars)
{
    return f->netcdf4 ? nc4_file_inq_nvars(f->ncid, nvars) : ncmpi_inq_nvars(f->ncid, nvars);
}

int nc_file_inq_varndims(const nc_file *f, int varid, int *ndims)
{
    return f->netcdf4 ? nc4_file_inq_varndims(f->ncid, varid, ndims) : ncmpi_inq_varndims(f->ncid, varid, ndims);
}

int nc_file_inq_var(const nc_file *f, int varid, char *name, int *xtype, int *dimids)
{
    if (f->netcdf4) return nc4_file_inq_var(f->ncid, varid, name, xtype, dimids);
    nc_type t;
    int err = ncmpi_inq_var(f->ncid, varid, name, &t, NULL, dimids, NULL);
    if (xtype) *xtype = err == NC_NOERR ? (int)t : 0;
    return err;
}

int nc_file_inq_varid(const nc_file *f, const char *name, int *varid)
{
    return f->netcdf4 ? nc4_file_inq_varid(f->ncid, name, varid) : ncmpi_inq_varid(f->ncid, name, varid);
}

int nc_file_inq_att(const nc_file *f, int varid, const char *name, int *xtype, long long *len)
{
    if (f->netcdf4) return nc4_file_inq_att(f->ncid, varid, name, xtype, len);
    nc_type t = 0;
    MPI_Offset n = 0;
    int err = ncmpi_inq_att(f->ncid, varid, name, &t, &n);
    *xtype = (int)t;
    *len = (long long)n;
    return err;
}

int nc_file_get_att_text(const nc_file *f, int varid, const char *name, char *buf)
{
    return f->netcdf4 ? nc4_file_get_att_text(f->ncid, varid, name, buf) : ncmpi_get_att_text(f->ncid, varid, name, buf);
}

int nc_file_get_att_double(const nc_file *f, int varid, const char *name, double *buf)
{
    return f->netcdf4 ? nc4_file_get_att_double(f->ncid, varid, name, buf)
                      : ncmpi_get_att_double(f->ncid, varid, name, buf);
}

int nc_file_inq_storage(const nc_file *f, int varid, int ndims, nc_file_storage *st)
{
    memset(st, 0, sizeof *st);
    if (f->netcdf4) return nc4_file_inq_storage(f->ncid, varid, ndims, st);
    return NC_NOERR; /* classic files store every variable contiguously, uncompressed */
}

int nc_file_get_var_double_all(const nc_file *f, int varid, double *buf)
{
    return f->netcdf4 ? nc4_file_get_var_double_all(f->ncid, varid, buf) : ncmpi_get_var_double_all(f->ncid, varid, buf);
}

int nc_file_begin_reads(const nc_file *f, int varid, long long cache_bytes)
{
    return f->netcdf4 ? nc4_file_begin_reads(f->ncid, varid, cache_bytes) : NC_NOERR;
}

/* The MPI datatype of a stored type, for PnetCDF's flexible API. */
static MPI_Datatype mpi_type_of(int xtype)
{
    switch (xtype) {
    case NC_BYTE: return MPI_SIGNED_CHAR;
    case NC_UBYTE: return MPI_UNSIGNED_CHAR;
    case NC_SHORT: return MPI_SHORT;
    case NC_USHORT: return MPI_UNSIGNED_SHORT;
    case NC_INT: return MPI_INT;
    case NC_UINT: return MPI_UNSIGNED;
    case NC_FLOAT: return MPI_FLOAT;
    case NC_DOUBLE: return MPI_DOUBLE;
    case NC_INT64: return MPI_LONG_LONG;
    case NC_UINT64: return MPI_UNSIGNED_LONG_LONG;
    default: return MPI_DATATYPE_NULL;
    }
}

int nc_file_get_vara_all(const nc_file *f, int varid, int ndims, const long long *start, const long long *count,
                         void *buf, long long nelems, int xtype)
{
    if (ndims < 0 || ndims > 8) return NC_EINVAL;
    if (f->netcdf4) return nc4_file_get_vara_all(f->ncid, varid, ndims, start, count, buf);
    MPI_Offset s[8], c[8];
    for (int d = 0; d < ndims; d++) {
        s[d] = (MPI_Offset)start[d];
        c[d] = (MPI_Offset)count[d];
    }
    return ncmpi_get_vara_all(f->ncid, varid, s, c, buf, (MPI_Offset)nelems, mpi_type_of(xtype));
}
