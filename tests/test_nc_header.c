/*
 * test_nc_header.c - the header walk of src/data/nc_header.c on headers built
 * here from the netCDF format specification, in CDF-1, CDF-2 and CDF-5.
 * PnetCDF opens each built file and reports the same dimensions, variables
 * and attributes (so the builder follows the format as PnetCDF reads it);
 * the walk accepts it, finds where the header ends, and refuses every
 * truncation of it and every damaged count, tag, type and dimension id, with
 * a reason that names what is wrong.
 */
#include "nc_header.h"
#include "tap.h"

#include <pnetcdf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- a header, written as the specification says */
typedef struct {
    unsigned char b[4096];
    size_t n;
    int version;
    /* offsets of the fields the tests damage */
    size_t dim_tag, ndims_at, lat_name_len, gatt_count, att_type, att_nelems, t2m_rank, t2m_dimid, t2m_type,
        t2m_vsize;
} header;

static size_t put_bytes(header *h, int bytes, unsigned long long v)
{
    size_t at = h->n;
    for (int i = bytes - 1; i >= 0; i--) h->b[h->n++] = (unsigned char)(v >> (8 * i));
    return at;
}
static size_t put32(header *h, unsigned long long v) { return put_bytes(h, 4, v); }
static size_t put_count(header *h, unsigned long long v) { return put_bytes(h, h->version == 5 ? 8 : 4, v); }
static size_t put_name(header *h, const char *name)
{
    size_t at = put_count(h, strlen(name));
    memcpy(h->b + h->n, name, strlen(name));
    h->n += strlen(name);
    while (h->n % 4) h->b[h->n++] = 0;
    return at;
}
static void put_text_att(header *h, const char *name, const char *text)
{
    put_name(h, name);
    put32(h, NC_CHAR);
    put_count(h, strlen(text));
    memcpy(h->b + h->n, text, strlen(text));
    h->n += strlen(text);
    while (h->n % 4) h->b[h->n++] = 0;
}

/* time(time) double "hours since ..."; t2m(time, lat, lon) short with a
 * double scale_factor; lat = 2, lon = 3, time the record dimension with 2
 * records; one global attribute.  With empty = 1: no dimensions, no
 * attributes, no variables (ABSENT lists). */
static void build(header *h, int version, int empty)
{
    memset(h, 0, sizeof *h);
    h->version = version;
    put32(h, 0x43444600u | (unsigned)version);
    put_count(h, empty ? 0 : 2); /* numrecs */
    if (empty) {
        for (int k = 0; k < 3; k++) put32(h, 0), put_count(h, 0);
        return;
    }
    h->dim_tag = put32(h, 0x0A);
    h->ndims_at = put_count(h, 3);
    put_name(h, "time"), put_count(h, 0);
    h->lat_name_len = put_name(h, "latitude"), put_count(h, 2);
    put_name(h, "longitude"), put_count(h, 3);
    put32(h, 0x0C);
    h->gatt_count = put_count(h, 1);
    put_text_att(h, "Conventions", "CF-1.6");
    put32(h, 0x0B);
    put_count(h, 2);
    /* time: 8 bytes a record; t2m: 2 x 3 shorts = 12 bytes a record */
    int ob = version == 1 ? 4 : 8;
    size_t begins[2];
    put_name(h, "time");
    put_count(h, 1), put_count(h, 0);
    put32(h, 0x0C), put_count(h, 1);
    put_text_att(h, "units", "hours since 1900-01-01 00:00:00.0");
    put32(h, NC_DOUBLE), put_count(h, 8);
    begins[0] = put_bytes(h, ob, 0);
    put_name(h, "t2m");
    h->t2m_rank = put_count(h, 3);
    put_count(h, 0), h->t2m_dimid = put_count(h, 1), put_count(h, 2);
    put32(h, 0x0C), put_count(h, 1);
    put_name(h, "scale_factor");
    h->att_type = put32(h, NC_DOUBLE);
    h->att_nelems = put_count(h, 1);
    put_bytes(h, 8, 0x3FE0000000000000ULL); /* 0.5 */
    h->t2m_type = put32(h, NC_SHORT);
    h->t2m_vsize = put_count(h, 12);
    begins[1] = put_bytes(h, ob, 0);
    /* the data: records of time then t2m */
    size_t end = h->n;
    size_t save = h->n;
    h->n = begins[0], put_bytes(h, ob, end);
    h->n = begins[1], put_bytes(h, ob, end + 8);
    h->n = save;
    for (int r = 0; r < 2; r++) {
        put_bytes(h, 8, 0x4125000000000000ULL + (unsigned long long)r); /* some double */
        for (int k = 0; k < 6; k++) put_bytes(h, 2, (unsigned long long)(100 * r + k));
    }
    /* the records start where the header ends */
    (void)end;
}

static size_t header_bytes(const header *h, int empty)
{
    if (empty) return h->version == 5 ? 4 + 8 + 3 * 12 : 4 + 4 + 3 * 8;
    return h->n - 2 * (8 + 12);
}

/* The walk on bytes b[0..n) (the file is n bytes long). */
static int walk(const unsigned char *b, size_t n, long long *end, char *why, size_t len)
{
    FILE *fp = fmemopen((void *)b, n ? n : 1, "rb");
    if (!fp) return -2;
    int rc = nc_header_check(fp, (long long)n, end, why, len);
    fclose(fp);
    return rc;
}

static const char *version_name(int v) { return v == 1 ? "CDF-1" : v == 2 ? "CDF-2" : "CDF-5"; }

/* PnetCDF's view of the built file. */
static void pnetcdf_agrees(const header *h, int empty)
{
    char path[] = "/tmp/dsc-nc-header-XXXXXX";
    int fd = mkstemp(path);
    int ok = fd >= 0 && write(fd, h->b, h->n) == (ssize_t)h->n;
    if (fd >= 0) close(fd);
    int ncid, ndims = -1, nvars = -1, ngatts = -1, unlim = -2, natts_t2m = -1, dims[3] = {-1, -1, -1}, varid = -1;
    MPI_Offset nrec = -1, nlat = -1;
    short v[6] = {0};
    if (ok && ncmpi_open(MPI_COMM_SELF, path, NC_NOWRITE, MPI_INFO_NULL, &ncid) == NC_NOERR) {
        ncmpi_inq(ncid, &ndims, &nvars, &ngatts, &unlim);
        if (!empty) {
            ncmpi_inq_dimlen(ncid, 0, &nrec);
            ncmpi_inq_dimlen(ncid, 1, &nlat);
            ncmpi_inq_varid(ncid, "t2m", &varid);
            ncmpi_inq_varnatts(ncid, varid, &natts_t2m);
            ncmpi_inq_vardimid(ncid, varid, dims);
            MPI_Offset start[3] = {1, 0, 0}, count[3] = {1, 2, 3};
            if (ncmpi_get_vara_short_all(ncid, varid, start, count, v) != NC_NOERR) v[5] = -1;
        }
        ncmpi_close(ncid);
    } else ok = 0;
    unlink(path);
    if (empty)
        tap_check(ok && ndims == 0 && nvars == 0 && ngatts == 0, "%s, empty lists: PnetCDF opens the built file (%d dims, "
                  "%d vars, %d attributes)", version_name(h->version), ndims, nvars, ngatts);
    else
        tap_check(ok && ndims == 3 && nvars == 2 && ngatts == 1 && unlim == 0 && nrec == 2 && nlat == 2 && natts_t2m == 1 &&
                      dims[0] == 0 && dims[1] == 1 && dims[2] == 2 && v[0] == 100 && v[5] == 105,
                  "%s: PnetCDF opens the built file: 3 dimensions (2 records), 2 variables, t2m(time, lat, lon) with "
                  "its attribute and data",
                  version_name(h->version));
}

/* Damage one field; the walk must refuse, saying 'expect'. */
static void refuses(const header *good, size_t at, int bytes, unsigned long long value, const char *expect,
                    const char *what)
{
    header h = *good;
    size_t save = h.n;
    h.n = at;
    put_bytes(&h, bytes, value);
    h.n = save;
    char why[256] = "";
    int rc = walk(h.b, h.n, NULL, why, sizeof why);
    tap_check(rc == -1 && strstr(why, expect) != NULL, "%s, %s: refused (%s)", version_name(h.version), what, why);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    static header h;
    char why[256];
    for (int version = 1; version <= 5; version += version == 2 ? 3 : 1) {
        const char *vn = version_name(version);
        for (int empty = 1; empty >= 0; empty--) {
            build(&h, version, empty);
            pnetcdf_agrees(&h, empty);
            long long end = -1;
            int rc = walk(h.b, h.n, &end, why, sizeof why);
            tap_check(rc == 0 && end == (long long)header_bytes(&h, empty),
                      "%s%s: accepted, the header ends at byte %lld (expected %zu) %s", vn, empty ? ", empty lists" : "",
                      end, header_bytes(&h, empty), why);
            /* every file cut inside the header is refused */
            int cuts = 0, refused = 0;
            for (size_t n = 0; n < header_bytes(&h, empty); n++, cuts++) refused += walk(h.b, n, NULL, why, sizeof why) == -1;
            tap_check(refused == cuts, "%s%s: all %d files cut short inside the header refused (%d)", vn,
                      empty ? ", empty lists" : "", cuts, refused);
        }
        int cb = version == 5 ? 8 : 4;
        unsigned long long top = 1ULL << (8 * cb - 1);
        refuses(&h, 3, 1, 3, "format version 3", "signature CDF\\003");
        refuses(&h, h.dim_tag, 4, 0x0B, "tag 11 where 10", "variable tag for the dimension list");
        refuses(&h, h.ndims_at, cb, 3000, "claims 3000 dimensions", "3000 dimensions in a small file");
        refuses(&h, h.ndims_at, cb, top | 3, "negative count", "a negative dimension count");
        refuses(&h, h.lat_name_len, cb, 100000, "name of dimension 2 claims 100000 bytes", "a dimension name too long");
        refuses(&h, h.gatt_count, cb, 1ULL << 30, "claims 1073741824 attributes", "2^30 global attributes");
        refuses(&h, h.t2m_rank, cb, 0x65010000ULL, "variable 2 claims 1694564352 dimensions",
                "a variable of 1694564352 dimensions (the libFuzzer input that crashed PnetCDF)");
        refuses(&h, h.t2m_dimid, cb, 7, "dimension id 7; the file has 3", "dimension id 7 of 3");
        refuses(&h, h.att_type, 4, 0, "type 0", "attribute type 0");
        refuses(&h, h.att_type, 4, 12, "type 12", "attribute type 12");
        refuses(&h, h.att_nelems, cb, 1ULL << 40 >> (version == 5 ? 0 : 10), "values", "an attribute of more values than the file holds");
        refuses(&h, h.t2m_type, 4, 99, "type 99", "variable type 99");
        if (version != 5) refuses(&h, h.att_type, 4, 10, "type 10", "CDF-5's int64 in a classic file");

        /* what a valid file may hold */
        header u = h;
        size_t save = u.n;
        u.n = u.t2m_vsize, put_count(&u, version == 5 ? (1ULL << 40) : 0xFFFFFFFFULL), u.n = save;
        tap_check(walk(u.b, u.n, NULL, why, sizeof why) == 0, "%s: a vsize of %s (a variable too large for the field) "
                  "accepted %s", vn, version == 5 ? "2^40" : "2^32 - 1", why);
        if (version == 5) {
            u = h;
            u.n = u.att_type, put32(&u, NC_UINT64), u.n = save;
            tap_check(walk(u.b, u.n, NULL, why, sizeof why) == 0, "CDF-5: a uint64 attribute accepted %s", why);
        }
    }
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
