/*
 * nc_header.c - walks the header of a netCDF classic (CDF-1), 64-bit offset
 * (CDF-2) or CDF-5 file and checks that everything it declares fits in the
 * file (see nc_header.h).  The grammar, from the netCDF file format
 * specification:
 *
 *   header    = magic numrecs dim_list gatt_list var_list
 *   dim_list  = ABSENT | NC_DIMENSION nelems [dim ...]
 *   gatt_list = att_list = ABSENT | NC_ATTRIBUTE nelems [attr ...]
 *   var_list  = ABSENT | NC_VARIABLE nelems [var ...]
 *   dim       = name dim_length
 *   attr      = name nc_type nelems [values ...]     (padded to 4 bytes)
 *   var       = name nelems [dimid ...] vatt_list nc_type vsize begin
 *   name      = nelems namestring                    (padded to 4 bytes)
 *
 * Big-endian throughout.  Tags and nc_type are 4 bytes; nelems, dim_length,
 * dimid and vsize are 4 bytes in CDF-1/2 and 8 in CDF-5; numrecs likewise
 * (0xFFFFFFFF = streaming in CDF-1/2); begin is 4 bytes in CDF-1 and 8 in
 * CDF-2/5.  ABSENT is a zero tag and a zero count.
 */
#include "nc_header.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

enum { TAG_DIMENSION = 0x0A, TAG_VARIABLE = 0x0B, TAG_ATTRIBUTE = 0x0C };

typedef struct {
    FILE *fp;
    unsigned long long pos, size; /* bytes read so far, file size */
    int count_bytes;              /* 4 (CDF-1/2) or 8 (CDF-5) */
    int offset_bytes;             /* 4 (CDF-1) or 8 (CDF-2/5) */
    int max_type;                 /* 6 (CDF-1/2) or 11 (CDF-5) */
    char *why;
    size_t len;
} walker;

__attribute__((format(printf, 2, 3))) static int refuse(walker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (w->len) vsnprintf(w->why, w->len, fmt, ap);
    va_end(ap);
    return -1;
}

static unsigned long long left(const walker *w) { return w->size - w->pos; }

static int read_uint(walker *w, int bytes, unsigned long long *v, const char *what)
{
    unsigned char b[8];
    if (left(w) < (unsigned long long)bytes)
        return refuse(w, "the header ends inside %s, at byte %llu of %llu", what, w->pos, w->size);
    if (fread(b, 1, (size_t)bytes, w->fp) != (size_t)bytes)
        return refuse(w, "read error inside %s, at byte %llu", what, w->pos);
    w->pos += (unsigned long long)bytes;
    *v = 0;
    for (int i = 0; i < bytes; i++) *v = (*v << 8) | b[i];
    return 0;
}

/* A NON_NEG: a signed count that must not be negative. */
static int read_count(walker *w, unsigned long long *v, const char *what)
{
    if (read_uint(w, w->count_bytes, v, what) != 0) return -1;
    unsigned long long sign = 1ULL << (8 * w->count_bytes - 1);
    if (*v & sign) return refuse(w, "%s has a negative count or length", what);
    return 0;
}

static int skip(walker *w, unsigned long long n, const char *what)
{
    if (n > left(w))
        return refuse(w, "%s needs %llu bytes, but the file has %llu left after byte %llu", what, n, left(w), w->pos);
    /* fseeko takes a signed offset: skip in steps a long long holds */
    while (n > 0) {
        unsigned long long step = n > (1ULL << 62) ? (1ULL << 62) : n;
        if (fseeko(w->fp, (off_t)step, SEEK_CUR) != 0) return refuse(w, "cannot seek inside %s", what);
        w->pos += step;
        n -= step;
    }
    return 0;
}

static unsigned long long padded(unsigned long long n) { return n + (4 - n % 4) % 4; }

static int read_name(walker *w, const char *what)
{
    unsigned long long n = 0;
    if (read_count(w, &n, what) != 0) return -1;
    if (n > left(w))
        return refuse(w, "the name of %s claims %llu bytes, but the file has %llu left", what, n, left(w));
    return skip(w, padded(n), what);
}

/* The list's tag and count; *n = 0 for ABSENT.  min_size: the fewest bytes
 * one element takes, so that a count the file cannot hold is refused before
 * PnetCDF allocates for it. */
static int read_list_head(walker *w, unsigned tag, const char *list, const char *element, unsigned long long min_size,
                          unsigned long long *n)
{
    unsigned long long t = 0;
    if (read_uint(w, 4, &t, list) != 0 || read_count(w, n, list) != 0) return -1;
    if (t == 0 && *n == 0) return 0;
    if (t != tag) return refuse(w, "%s has tag %llu where %u or 0 belongs", list, t, tag);
    if (*n > left(w) / min_size)
        return refuse(w, "%s claims %llu %ss; the %llu bytes left hold at most %llu", list, *n, element, left(w),
                      left(w) / min_size);
    return 0;
}

static int type_size(int type)
{
    static const int sizes[12] = {0, 1, 1, 2, 4, 4, 8, 1, 2, 4, 8, 8};
    return type >= 1 && type <= 11 ? sizes[type] : 0;
}

static int read_attributes(walker *w, const char *owner)
{
    char what[96];
    unsigned long long n = 0;
    unsigned long long min_attr = 4 + 2ULL * (unsigned long long)w->count_bytes;
    snprintf(what, sizeof what, "the attribute list of %s", owner);
    if (read_list_head(w, TAG_ATTRIBUTE, what, "attribute", min_attr, &n) != 0) return -1;
    for (unsigned long long a = 0; a < n; a++) {
        snprintf(what, sizeof what, "attribute %llu of %s", a + 1, owner);
        unsigned long long type = 0, count = 0;
        if (read_name(w, what) != 0 || read_uint(w, 4, &type, what) != 0) return -1;
        if (type < 1 || type > (unsigned long long)w->max_type)
            return refuse(w, "%s has type %llu, not a netCDF type of this format", what, type);
        if (read_count(w, &count, what) != 0) return -1;
        unsigned long long size = (unsigned long long)type_size((int)type);
        if (count > left(w) / size)
            return refuse(w, "%s claims %llu values; the %llu bytes left hold at most %llu", what, count, left(w),
                          left(w) / size);
        if (skip(w, padded(count * size), what) != 0) return -1;
    }
    return 0;
}

int nc_header_check(FILE *fp, long long size, long long *header_end, char *why, size_t len)
{
    walker w = {fp, 0, size > 0 ? (unsigned long long)size : 0, 4, 4, 6, why, len};
    if (len) why[0] = '\0';
    if (fseeko(fp, 0, SEEK_SET) != 0) return refuse(&w, "cannot seek to the start of the file");
    unsigned long long magic = 0;
    if (read_uint(&w, 4, &magic, "the signature") != 0) return -1;
    if ((magic >> 8) != 0x434446ULL) return refuse(&w, "no netCDF signature (CDF)");
    int version = (int)(magic & 0xff);
    if (version != 1 && version != 2 && version != 5)
        return refuse(&w, "format version %d; netCDF classic files have 1, 2 or 5", version);
    if (version == 2) w.offset_bytes = 8;
    if (version == 5) w.count_bytes = w.offset_bytes = 8, w.max_type = 11;
    const unsigned long long c = (unsigned long long)w.count_bytes;

    unsigned long long numrecs = 0;
    if (read_uint(&w, w.count_bytes, &numrecs, "the record count") != 0) return -1;

    /* dimensions: name, length */
    unsigned long long ndims = 0;
    if (read_list_head(&w, TAG_DIMENSION, "the dimension list", "dimension", 2 * c, &ndims) != 0) return -1;
    for (unsigned long long d = 0; d < ndims; d++) {
        char what[64];
        unsigned long long length = 0;
        snprintf(what, sizeof what, "dimension %llu", d + 1);
        if (read_name(&w, what) != 0 || read_count(&w, &length, what) != 0) return -1;
    }

    if (read_attributes(&w, "the file") != 0) return -1;

    /* variables: name, dimension ids, attributes, type, vsize, begin */
    unsigned long long nvars = 0;
    unsigned long long min_var = 4 * c + 8 + (unsigned long long)w.offset_bytes;
    if (read_list_head(&w, TAG_VARIABLE, "the variable list", "variable", min_var, &nvars) != 0) return -1;
    for (unsigned long long v = 0; v < nvars; v++) {
        char what[64];
        unsigned long long rank = 0, type = 0, vsize = 0, begin = 0;
        snprintf(what, sizeof what, "variable %llu", v + 1);
        if (read_name(&w, what) != 0 || read_count(&w, &rank, what) != 0) return -1;
        if (rank > left(&w) / c)
            return refuse(&w, "%s claims %llu dimensions; the %llu bytes left hold at most %llu", what, rank, left(&w),
                          left(&w) / c);
        for (unsigned long long k = 0; k < rank; k++) {
            unsigned long long id = 0;
            if (read_count(&w, &id, what) != 0) return -1;
            if (id >= ndims)
                return refuse(&w, "%s uses dimension id %llu; the file has %llu dimensions", what, id, ndims);
        }
        if (read_attributes(&w, what) != 0 || read_uint(&w, 4, &type, what) != 0) return -1;
        if (type < 1 || type > (unsigned long long)w.max_type)
            return refuse(&w, "%s has type %llu, not a netCDF type of this format", what, type);
        /* vsize is unsigned: 2^32 - 1 in CDF-1/2 stands for "too large" */
        if (read_uint(&w, w.count_bytes, &vsize, what) != 0 || read_uint(&w, w.offset_bytes, &begin, what) != 0)
            return -1;
    }
    (void)numrecs;
    if (header_end) *header_end = (long long)w.pos;
    return 0;
}
