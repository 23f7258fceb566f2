/*
 * output_file.c - output paths that never destroy data, unique temporary
 * names, and small files written to a temporary name then renamed when
 * complete (see output_file.h).
 */
#include "output_file.h"
#include "status.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pnetcdf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What to do after a failed write, from errno. */
static const char *write_advice(int e)
{
    if (e == ENOSPC || e == EDQUOT || e == EFBIG) return "free some space on that device or write elsewhere";
    if (e == EACCES || e == EPERM || e == EROFS) return "choose a folder you can write to";
    if (e == EISDIR) return "give a file name, not a folder";
    return "check the output location";
}

int output_temp_name(char *tmp, size_t len, const char *path)
{
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r) /* very early boot: mix time and address */
        r = (uint64_t)time(NULL) * 6364136223846793005ULL ^ (uint64_t)(uintptr_t)&r ^ (uint64_t)clock();
    const char *slash = strrchr(path, '/');
    int dirlen = slash ? (int)(slash - path + 1) : 0; /* with the slash */
    if (snprintf(tmp, len, "%.*s.%s.tmp.%ld.%016llx", dirlen, path, path + dirlen, (long)getpid(), (unsigned long long)r) >=
        (int)len)
        return dsc_fail("%s: path too long; use a shorter name", path);
    return DSC_OK;
}

int output_file_open(output_file *o, const char *path, const char *mode)
{
    o->f = NULL;
    o->tmp[0] = '\0';
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
        return dsc_fail("%s: path too long; use a shorter name", path);
    if (output_temp_name(o->tmp, sizeof o->tmp, path) != DSC_OK) return DSC_ERR;
    o->f = fopen(o->tmp, mode);
    if (!o->f)
        return dsc_fail("%s: cannot create %s: %s; check that the folder exists and is writable", path, o->tmp,
                        strerror(errno));
    return DSC_OK;
}

int output_file_commit(output_file *o)
{
    int bad = fflush(o->f) != 0 || ferror(o->f);
    int e = errno;
    long long written = bad ? 0 : (long long)ftello(o->f);
    if (!bad && fsync(fileno(o->f)) != 0 && errno != EINVAL && errno != EROFS) { /* delayed allocation errors */
        bad = 1;
        e = errno;
    }
    if (fclose(o->f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->f = NULL;
    if (bad) {
        unlink(o->tmp);
        return dsc_fail("%s: cannot write: %s; %s", o->path, strerror(e), write_advice(e));
    }
    if (output_check_size(o->tmp, o->path, written) != DSC_OK) {
        unlink(o->tmp);
        return DSC_ERR;
    }
    if (rename(o->tmp, o->path) != 0) {
        e = errno;
        unlink(o->tmp);
        return dsc_fail("%s: cannot replace it: %s; %s", o->path, strerror(e), write_advice(e));
    }
    return DSC_OK;
}

void output_file_abort(output_file *o)
{
    if (o->f) fclose(o->f);
    o->f = NULL;
    if (o->tmp[0]) unlink(o->tmp);
}

int output_check_size(const char *tmp, const char *path, long long expected)
{
    struct stat st;
    if (stat(tmp, &st) != 0)
        return dsc_fail("%s: the temporary file %s vanished after closing: %s; check that no other program cleans the folder",
                        path, tmp, strerror(errno));
    if ((long long)st.st_size < expected)
        return dsc_fail("%s: only %lld of %lld bytes reached the disk (device full?); free some space on that device or "
                        "write elsewhere", path, (long long)st.st_size, expected);
    return DSC_OK;
}

/* ---- output paths ---------------------------------------------------------- */

/* Local: the folder part of path ("." when there is none). */
static void folder_of(char *dir, size_t len, const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, len, ".");
    else if (slash == path) snprintf(dir, len, "/");
    else snprintf(dir, len, "%.*s", (int)(slash - path), path);
}

/* Local: the resolved location of path, whose last part need not exist:
 * realpath of the folder + "/" + the name.  0 when the folder is missing. */
static int resolve(char *out, const char *path)
{
    char dir[PATH_MAX], real[PATH_MAX];
    if (realpath(path, out)) return 1;
    folder_of(dir, sizeof dir, path);
    if (!realpath(dir, real)) return 0;
    const char *slash = strrchr(path, '/');
    const char *name = slash ? slash + 1 : path;
    return snprintf(out, PATH_MAX, "%s/%s", strcmp(real, "/") == 0 ? "" : real, name) < PATH_MAX;
}

int output_same_file(const char *a, const char *b)
{
    struct stat sa, sb;
    if (stat(a, &sa) == 0 && stat(b, &sb) == 0) return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    char ra[PATH_MAX], rb[PATH_MAX];
    return resolve(ra, a) && resolve(rb, b) && strcmp(ra, rb) == 0;
}

/* Local: creates and removes a probe file in dir. */
static int probe_folder(const char *dir, const char *option, const char *path)
{
    char name[PATH_MAX + 16], probe[PATH_MAX + 200];
    snprintf(name, sizeof name, "%s/.dsc-write-test", dir);
    if (output_temp_name(probe, sizeof probe, name) != DSC_OK) return DSC_ERR;
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0)
        return dsc_fail("%s %s: cannot write in the folder %s: %s; choose a writable folder", option, path, dir,
                        strerror(errno));
    close(fd);
    unlink(probe);
    return DSC_OK;
}

static int check_file(const char *path, const char *option, char *const *inputs, int ninputs)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (S_ISLNK(st.st_mode))
            return dsc_fail("%s %s is a symbolic link; give the name of a regular file (the link would be replaced)", option,
                            path);
        if (S_ISDIR(st.st_mode))
            return dsc_fail("%s %s is a folder; give a file name such as %s/metrics.json", option, path, path);
        if (!S_ISREG(st.st_mode))
            return dsc_fail("%s %s is not a regular file (a device, pipe or socket); give the name of a regular file", option,
                            path);
    }
    for (int i = 0; i < ninputs; i++)
        if (inputs[i] && output_same_file(path, inputs[i]))
            return dsc_fail("%s %s is also an input (%s) of the command; give another output name", option, path, inputs[i]);
    char dir[PATH_MAX];
    folder_of(dir, sizeof dir, path);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return dsc_fail("%s %s: the folder %s does not exist; create it first", option, path, dir);
    return probe_folder(dir, option, path);
}

static int check_folder(const char *dir, const char *option, char *const *inputs, int ninputs)
{
    struct stat st;
    if (stat(dir, &st) != 0)
        return dsc_fail("%s %s: %s; give an existing folder or a new folder name", option, dir, strerror(errno));
    if (!S_ISDIR(st.st_mode)) return dsc_fail("%s %s is not a folder; give a folder for the outputs", option, dir);
    char real_dir[PATH_MAX];
    if (!realpath(dir, real_dir)) return dsc_fail("%s %s: cannot resolve the folder: %s", option, dir, strerror(errno));
    for (int i = 0; i < ninputs; i++) {
        char real_in[PATH_MAX], parent[PATH_MAX];
        if (!inputs[i] || !realpath(inputs[i], real_in)) continue; /* the readers name missing inputs */
        folder_of(parent, sizeof parent, real_in);
        if (strcmp(parent, real_dir) == 0)
            return dsc_fail("%s %s holds the input file %s; write the outputs to another folder", option, dir, inputs[i]);
    }
    return probe_folder(dir, option, dir);
}

int output_check(const char *path, output_kind kind, const char *option, char *const *inputs, int ninputs)
{
    if (!path || !path[0]) return dsc_fail("%s: empty name; give a %s", option, kind == OUTPUT_FILE ? "file name" : "folder");
    if (strlen(path) >= PATH_MAX - 64) return dsc_fail("%s %.64s...: path too long; use a shorter name", option, path);
    return kind == OUTPUT_FILE ? check_file(path, option, inputs, ninputs) : check_folder(path, option, inputs, ninputs);
}

int output_prepare(MPI_Comm comm, const char *path, output_kind kind, const char *option, char *const *inputs, int ninputs)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    return dsc_agree(comm, rank == 0 ? output_check(path, kind, option, inputs, ninputs) : DSC_OK);
}

/* ---- netCDF sizes ---------------------------------------------------------- */

static long long type_size(nc_type t)
{
    switch (t) {
    case NC_BYTE: case NC_UBYTE: case NC_CHAR: return 1;
    case NC_SHORT: case NC_USHORT: return 2;
    case NC_DOUBLE: case NC_INT64: case NC_UINT64: return 8;
    default: return 4;
    }
}

int output_nc_expected_size(int ncid, long long *size)
{
    int unlimdim, err;
    MPI_Offset numrecs = 0;
    if ((err = ncmpi_inq_unlimdim(ncid, &unlimdim)) != NC_NOERR ||
        (unlimdim >= 0 && (err = ncmpi_inq_dimlen(ncid, unlimdim, &numrecs)) != NC_NOERR))
        return dsc_fail("reading back the header: %s", ncmpi_strerror(err));
    return output_nc_size_for(ncid, numrecs, size);
}

int output_reserve(const char *path, const char *final, long long size)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0) return dsc_fail("%s: cannot open %s: %s; check the output folder", final, path, strerror(errno));
    int e = posix_fallocate(fd, 0, (off_t)size);
    close(fd);
    if (e != 0)
        return dsc_fail("%s: cannot reserve %lld bytes: %s; %s", final, size, strerror(e), write_advice(e));
    return DSC_OK;
}

int output_nc_size_for(int ncid, long long nrecs, long long *size)
{
    int nvars, unlimdim, err;
    MPI_Offset numrecs = nrecs, recsize = 0;
    *size = 0;
    if ((err = ncmpi_inq_nvars(ncid, &nvars)) != NC_NOERR || (err = ncmpi_inq_unlimdim(ncid, &unlimdim)) != NC_NOERR)
        return dsc_fail("reading back the header: %s", ncmpi_strerror(err));
    if (unlimdim >= 0 && (err = ncmpi_inq_recsize(ncid, &recsize)) != NC_NOERR)
        return dsc_fail("reading back the header: %s", ncmpi_strerror(err));
    for (int v = 0; v < nvars; v++) {
        nc_type type;
        int ndims, dims[16]; /* NC_MAX_VAR_DIMS is INT_MAX in PnetCDF */
        MPI_Offset begin, len, n = 1;
        if ((err = ncmpi_inq_varndims(ncid, v, &ndims)) != NC_NOERR)
            return dsc_fail("reading back the header: %s", ncmpi_strerror(err));
        if (ndims > 16) return dsc_fail("variable %d has %d dimensions; at most 16 are supported", v, ndims);
        if ((err = ncmpi_inq_var(ncid, v, NULL, &type, &ndims, dims, NULL)) != NC_NOERR ||
            (err = ncmpi_inq_varoffset(ncid, v, &begin)) != NC_NOERR)
            return dsc_fail("reading back the header: %s", ncmpi_strerror(err));
        int record = ndims > 0 && dims[0] == unlimdim;
        for (int d = record; d < ndims; d++) {
            if ((err = ncmpi_inq_dimlen(ncid, dims[d], &len)) != NC_NOERR)
                return dsc_fail("reading back the header: %s", ncmpi_strerror(err));
            n *= len;
        }
        long long end = record ? (numrecs > 0 ? begin + (numrecs - 1) * recsize + n * type_size(type) : 0)
                               : begin + n * type_size(type);
        if (end > *size) *size = end;
    }
    return DSC_OK;
}
