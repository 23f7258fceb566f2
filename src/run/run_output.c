/*
 * run_output.c - the files of a clustering run: labels.csv, labels.nc,
 * latent.nc, centroids.nc and composites.nc (contents in run_output.h).
 *
 * Every netCDF file goes through nc_out:
 *   1. rank 0 picks a temporary name in the destination folder,
 *      ".NAME.tmp.PID.RANDOM" (output_temp_name), and broadcasts it (PnetCDF opens one name on
 *      all ranks);
 *   2. the header is defined identically on every rank, the ranks agree
 *      before every collective call (a rank that failed locally never leaves
 *      the others waiting), and every PnetCDF return code is checked,
 *      ncmpi_close included;
 *   3. before closing, the size the file must have is worked out from the
 *      header (offset + size of every variable); after closing rank 0
 *      compares it with the size on disk, because MPI-IO can lose writes on
 *      a full disk without an error; then it renames the file to its final
 *      name, or removes it on any failure.
 * Files written by rank 0 alone (labels, centroids) use MPI_COMM_SELF; the
 * others are opened by all ranks.  Each public function ends with one
 * dsc_agree, so the failure is printed once, naming the final file.
 *
 * Byte-identical files at any rank count: no attribute depends on the run
 * (date, rank count), every value of every variable is written, and the
 * composites are sums of values quantised to a per-variable grid 2^q fine
 * enough (52 - log2 T bits below the largest magnitude) that every partial
 * sum is an integer multiple of 2^q below 2^53: exact in double, so the
 * MPI_Reduce gives the same bits whatever the order of the additions.
 *
 * Dimension letters: T time steps, N held here, K clusters, L latent size,
 * D features, V variables, Y latitudes, X longitudes.
 */
#include "run_output.h"
#include "config.h"
#include "labels.h"
#include "nc_file.h"
#include "output_file.h"
#include "status.h"

#include <errno.h>
#include <math.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIME_UNITS "hours since 1900-01-01 00:00:00"
#define TIME_CALENDAR "proleptic_gregorian" /* the catalog's axis (cf_time.h); = standard after 1582 */
#define SOURCE "dsc " PACKAGE_VERSION

typedef struct {
    MPI_Comm comm;        /* ranks that open the file */
    int rank;             /* in comm */
    char path[4096];      /* final name */
    char tmp[4096 + 64];  /* DIR/.NAME.tmp.PID.RANDOM while writing */
    int ncid, opened;
    int status;           /* DSC_ERR after the first failure on this rank */
} nc_out;

/* Collective: 1 if status is not DSC_OK on some rank.  Messages stay with
 * the failing ranks until the final dsc_agree prints one. */
static int any_failed(MPI_Comm comm, int status)
{
    int mine = status != DSC_OK, any = 0;
    MPI_Allreduce(&mine, &any, 1, MPI_INT, MPI_MAX, comm);
    return any;
}

/* Records the first PnetCDF error of this rank; returns whether all is well. */
static int nc_check(nc_out *o, int err, const char *what)
{
    if (err != NC_NOERR && o->status == DSC_OK)
        o->status = dsc_fail("%s: %s: %s; check that the folder is writable and the space left on the device", o->path,
                             what, nc_file_strerror(NULL, err));
    return o->status == DSC_OK;
}

/* Collective over comm: creates the temporary file of path, in its folder. */
static void nc_out_create(nc_out *o, MPI_Comm comm, const char *path)
{
    memset(o, 0, sizeof *o);
    o->comm = comm;
    o->ncid = -1;
    o->status = DSC_OK;
    MPI_Comm_rank(comm, &o->rank);
    if (snprintf(o->path, sizeof o->path, "%s", path) >= (int)sizeof o->path)
        o->status = dsc_fail("%s: path too long; use a shorter name", path);
    else if (o->rank == 0)
        o->status = output_temp_name(o->tmp, sizeof o->tmp, o->path);
    MPI_Bcast(o->tmp, (int)sizeof o->tmp, MPI_CHAR, 0, comm);
    if (any_failed(comm, o->status)) return;
    int err = ncmpi_create(comm, o->tmp, NC_CLOBBER | NC_64BIT_OFFSET, MPI_INFO_NULL, &o->ncid);
    if (err == NC_NOERR) o->opened = 1;
    else
        o->status = dsc_fail("%s: cannot create it: %s; check that the folder exists and is writable", o->path,
                             nc_file_strerror(NULL, err));
}

/* path = dir/name, or DSC_ERR with a message. */
static int join_path(char *path, size_t len, const char *dir, const char *name)
{
    if (snprintf(path, len, "%s/%s", dir, name) >= (int)len)
        return dsc_fail("%s/%s: path too long; use a shorter folder name", dir, name);
    return DSC_OK;
}

static void put_text(nc_out *o, int varid, const char *name, const char *text)
{
    if (o->status == DSC_OK) nc_check(o, ncmpi_put_att_text(o->ncid, varid, name, (MPI_Offset)strlen(text), text), "writing an attribute");
}

/* Defines a variable with its units and long_name; -1 after a failure. */
static int def_var(nc_out *o, const char *name, nc_type type, int ndims, const int *dims, const char *units,
                   const char *long_name)
{
    int id = -1;
    if (o->status != DSC_OK) return -1;
    if (!nc_check(o, ncmpi_def_var(o->ncid, name, type, ndims, dims, &id), "defining a variable")) return -1;
    put_text(o, id, "units", units);
    put_text(o, id, "long_name", long_name);
    return id;
}

static int def_dim(nc_out *o, const char *name, MPI_Offset len)
{
    int id = -1;
    if (o->status == DSC_OK) nc_check(o, ncmpi_def_dim(o->ncid, name, len, &id), "defining a dimension");
    return id;
}

/* time(time) as the CF coordinate of the catalog's axis. */
static int def_time(nc_out *o, int dim_time)
{
    int id = def_var(o, "time", NC_DOUBLE, 1, &dim_time, TIME_UNITS, "time");
    put_text(o, id, "standard_name", "time");
    put_text(o, id, "calendar", TIME_CALENDAR);
    put_text(o, id, "axis", "T");
    return id;
}

/* Global attributes: what the file is and which program wrote it. */
static void put_globals(nc_out *o, const char *title)
{
    put_text(o, NC_GLOBAL, "Conventions", "CF-1.8");
    put_text(o, NC_GLOBAL, "title", title);
    put_text(o, NC_GLOBAL, "source", SOURCE);
    put_text(o, NC_GLOBAL, "history", "written by " SOURCE " (Deep Spatiotemporal Clustering)");
}

/* Collective: leaves define mode when every rank defined the header; then
 * rank 0 reserves the file's size on disk, so that a full device is found
 * here, with one message, rather than by MPI-IO, which prints its own.  The
 * callers agree before writing. */
static void nc_out_enddef(nc_out *o)
{
    if (any_failed(o->comm, o->status)) return; /* the callers check again before writing */
    nc_check(o, ncmpi_enddef(o->ncid), "ending the header definition");
    long long size = 0;
    if (o->rank == 0 && o->status == DSC_OK) {
        if (output_nc_expected_size(o->ncid, &size) != DSC_OK) dsc_clear(); /* nc_out_finish asks again */
        else o->status = output_reserve(o->tmp, o->path, size);
    }
}

/* Collective over o->comm: closes, checks the size on disk, renames (rank
 * 0), or removes the temporary file after a failure anywhere.  Returns this
 * rank's status (the caller agrees). */
static int nc_out_finish(nc_out *o)
{
    long long expected = 0;
    int failed = any_failed(o->comm, o->status);
    if (o->opened) {
        if (!failed && o->status == DSC_OK && output_nc_expected_size(o->ncid, &expected) != DSC_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", dsc_message());
            dsc_clear();
            o->status = dsc_fail("%s: %s", o->path, why);
        }
        nc_check(o, ncmpi_close(o->ncid), "closing");
        o->opened = 0;
    }
    failed = any_failed(o->comm, o->status);
    if (o->rank == 0) {
        if (!failed && o->status == DSC_OK) o->status = output_check_size(o->tmp, o->path, expected);
        if (!failed && o->status == DSC_OK && rename(o->tmp, o->path) != 0)
            o->status = dsc_fail("%s: cannot replace it: %s; remove it or choose another output folder", o->path,
                                 strerror(errno));
        if (failed || o->status != DSC_OK) unlink(o->tmp);
    }
    return o->status;
}

/* ---- labels ---------------------------------------------------------------- */

/* The life-cycle variables of labels.nc (regime_stats.h). */
typedef struct {
    int dim_month, dim_to, dim_episode;
    int v_month, v_freq, v_trans, v_mean, v_median, v_count, v_start, v_days, v_elabel;
} regime_ids;

static const double regime_fill = NC_FILL_DOUBLE;

/* A double variable whose undefined values (a month without steps, a
 * regime without episodes) are _FillValue. */
static int def_filled(nc_out *o, const char *name, int ndims, const int *dims, const char *units, const char *long_name)
{
    int id = def_var(o, name, NC_DOUBLE, ndims, dims, units, long_name);
    if (o->status == DSC_OK)
        nc_check(o, ncmpi_put_att_double(o->ncid, id, "_FillValue", NC_DOUBLE, 1, &regime_fill), "writing an attribute");
    return id;
}

static void regimes_define(nc_out *o, const regime_stats *st, int dim_cluster, regime_ids *id)
{
    id->dim_month = def_dim(o, "month", 12);
    id->dim_to = def_dim(o, "cluster_to", st->k);
    id->dim_episode = def_dim(o, "episode", st->total_episodes);
    id->v_month = def_var(o, "month", NC_INT, 1, &id->dim_month, "1", "calendar month");
    int mc[2] = {id->dim_month, dim_cluster}, cc[2] = {dim_cluster, id->dim_to};
    id->v_freq = def_filled(o, "month_frequency", 2, mc, "1", "share of the calendar month's time steps in each cluster");
    id->v_trans = def_var(o, "transitions", NC_INT, 2, cc, "1",
                          "consecutive time steps inside a segment of the record in cluster, then in cluster_to");
    id->v_mean = def_filled(o, "episode_mean_days", 1, &dim_cluster, "days", "mean duration of the cluster's episodes");
    id->v_median = def_filled(o, "episode_median_days", 1, &dim_cluster, "days", "median duration of the cluster's episodes");
    id->v_count = def_var(o, "episodes", NC_INT, 1, &dim_cluster, "1",
                          "episodes of the cluster (maximal runs of its label, ended by a gap in the record)");
    id->v_start = def_var(o, "episode_start", NC_INT, 1, &id->dim_episode, "1", "index of the first time step of the episode");
    id->v_days = def_var(o, "episode_days", NC_DOUBLE, 1, &id->dim_episode, "days", "duration of the episode");
    id->v_elabel = def_var(o, "episode_label", NC_INT, 1, &id->dim_episode, "1", "cluster of the episode");
}

static double filled(double v) { return isnan(v) ? regime_fill : v; }

/* Every value of the life-cycle variables; buf and ibuf each hold
 * 12 * K + K * K + 3 * E + 12 numbers (E episodes). */
static void regimes_put(nc_out *o, const regime_stats *st, const regime_ids *id, double *buf, int *ibuf)
{
    const int K = st->k;
    const long long E = st->total_episodes;
    MPI_Offset start[2] = {0, 0}, count[2] = {12, K};
    for (int m = 0; m < 12; m++) ibuf[m] = m + 1;
    nc_check(o, ncmpi_put_vara_int_all(o->ncid, id->v_month, start, count, ibuf), "writing month");
    for (int i = 0; i < 12 * K; i++) buf[i] = filled(st->frequency[i]);
    nc_check(o, ncmpi_put_vara_double_all(o->ncid, id->v_freq, start, count, buf), "writing month_frequency");
    for (int i = 0; i < K * K; i++) ibuf[i] = (int)st->transitions[i];
    count[0] = K;
    nc_check(o, ncmpi_put_vara_int_all(o->ncid, id->v_trans, start, count, ibuf), "writing transitions");
    for (int c = 0; c < K; c++) buf[c] = filled(st->mean_duration[c]);
    nc_check(o, ncmpi_put_vara_double_all(o->ncid, id->v_mean, start, count, buf), "writing episode_mean_days");
    for (int c = 0; c < K; c++) buf[c] = filled(st->median_duration[c]);
    nc_check(o, ncmpi_put_vara_double_all(o->ncid, id->v_median, start, count, buf), "writing episode_median_days");
    for (int c = 0; c < K; c++) ibuf[c] = (int)st->episodes[c];
    nc_check(o, ncmpi_put_vara_int_all(o->ncid, id->v_count, start, count, ibuf), "writing episodes");
    count[0] = E;
    long long first = 0;
    for (long long e = 0; e < E; e++) {
        ibuf[e] = (int)first;
        first += st->episode_steps[e];
    }
    nc_check(o, ncmpi_put_vara_int_all(o->ncid, id->v_start, start, count, ibuf), "writing episode_start");
    for (long long e = 0; e < E; e++) buf[e] = (double)st->episode_steps[e] * st->step_days;
    nc_check(o, ncmpi_put_vara_double_all(o->ncid, id->v_days, start, count, buf), "writing episode_days");
    nc_check(o, ncmpi_put_vara_int_all(o->ncid, id->v_elabel, start, count, st->episode_label), "writing episode_label");
}

/* Rank 0 alone: labels.nc. */
static int write_labels_nc(const char *path, const era5_catalog *cat, const int *labels, const double *q, int k,
                           const regime_stats *st)
{
    const long long T = cat->ntime;
    int *clusters = dsc_malloc((size_t)k * sizeof(int), "cluster numbers"); /* (K) */
    const size_t nbuf = st ? (size_t)12 * k + (size_t)k * k + 3 * (size_t)st->total_episodes + 12 : 0;
    double *buf = st ? dsc_malloc(nbuf * sizeof(double), "regime statistics") : NULL;
    int *ibuf = st ? dsc_malloc(nbuf * sizeof(int), "regime statistics") : NULL;
    nc_out o;
    nc_out_create(&o, MPI_COMM_SELF, path);
    if (!clusters || (st && (!buf || !ibuf))) o.status = DSC_ERR;
    int dim_time = def_dim(&o, "time", T), dim_cluster = q || st ? def_dim(&o, "cluster", k) : -1;
    int v_time = def_time(&o, dim_time), v_cluster = -1, v_q = -1;
    int v_label = def_var(&o, "label", NC_INT, 1, &dim_time, "1", "cluster of the time step");
    int range[2] = {0, k - 1};
    if (o.status == DSC_OK) nc_check(&o, ncmpi_put_att_int(o.ncid, v_label, "valid_range", NC_INT, 2, range), "writing an attribute");
    if (q || st) v_cluster = def_var(&o, "cluster", NC_INT, 1, &dim_cluster, "1", "cluster number");
    if (q) {
        int dims[2] = {dim_time, dim_cluster};
        v_q = def_var(&o, "q", NC_FLOAT, 2, dims, "1", "soft assignment of the time step to each cluster (Student-t kernel)");
    }
    regime_ids rid;
    if (st) regimes_define(&o, st, dim_cluster, &rid);
    put_globals(&o, "cluster labels of the time steps");
    nc_out_enddef(&o);
    if (o.status == DSC_OK) {
        MPI_Offset start[2] = {0, 0}, count[2] = {T, k};
        nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_time, start, count, cat->time), "writing time");
        nc_check(&o, ncmpi_put_vara_int_all(o.ncid, v_label, start, count, labels), "writing label");
        for (int c = 0; c < k; c++) clusters[c] = c;
        if (q || st) nc_check(&o, ncmpi_put_vara_int_all(o.ncid, v_cluster, start, &count[1], clusters), "writing cluster");
        if (q) nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_q, start, count, q), "writing q");
        if (st && o.status == DSC_OK) regimes_put(&o, st, &rid, buf, ibuf);
    }
    free(clusters);
    free(buf);
    free(ibuf);
    return nc_out_finish(&o);
}

/* Local: labels (T) all in 0..k-1. */
static int check_labels(const int *labels, long long n, int k, const char *dir, const char *file)
{
    if (k < 1) return dsc_fail("%s/%s: %d clusters; at least 1 is needed", dir, file, k);
    for (long long t = 0; t < n; t++)
        if (labels[t] < 0 || labels[t] >= k)
            return dsc_fail("%s/%s: label %d of time step %lld is outside 0..%d", dir, file, labels[t], t, k - 1);
    return DSC_OK;
}

int run_output_labels(MPI_Comm comm, const char *dir, const era5_catalog *cat, const int *labels, const double *q, int k)
{
    return run_output_labels_regimes(comm, dir, cat, labels, q, k, NULL);
}

int run_output_labels_regimes(MPI_Comm comm, const char *dir, const era5_catalog *cat, const int *labels, const double *q,
                              int k, const regime_stats *st)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = DSC_OK;
    if (rank == 0) {
        char csv[4096], nc[4096];
        status = check_labels(labels, cat->ntime, k, dir, "labels.nc");
        if (status == DSC_OK) status = join_path(csv, sizeof csv, dir, "labels.csv");
        if (status == DSC_OK) status = join_path(nc, sizeof nc, dir, "labels.nc");
        if (status == DSC_OK) status = labels_write(csv, cat->time, labels, cat->ntime);
        if (status == DSC_OK) status = write_labels_nc(nc, cat, labels, q, k, st);
    }
    return dsc_agree(comm, status);
}

/* ---- latent features ------------------------------------------------------- */

int run_output_latent(MPI_Comm comm, const char *dir, const era5_catalog *cat, const float *z, long long t0, long long n,
                      int L)
{
    char path[4096];
    if (dsc_agree(comm, join_path(path, sizeof path, dir, "latent.nc")) != DSC_OK) return DSC_ERR;
    return run_output_latent_file(comm, path, cat, z, t0, n, L);
}

int run_output_latent_file(MPI_Comm comm, const char *path, const era5_catalog *cat, const float *z, long long t0,
                           long long n, int L)
{
    const long long T = cat->ntime;
    long long held = n;
    MPI_Allreduce(MPI_IN_PLACE, &held, 1, MPI_LONG_LONG, MPI_SUM, comm);
    int lmin = L, lmax = L;
    MPI_Allreduce(MPI_IN_PLACE, &lmin, 1, MPI_INT, MPI_MIN, comm);
    MPI_Allreduce(MPI_IN_PLACE, &lmax, 1, MPI_INT, MPI_MAX, comm);
    int status = DSC_OK;
    if (t0 < 0 || n < 0 || t0 + n > T)
        status = dsc_fail("%s: rows [%lld, %lld) are outside the %lld time steps", path, t0, t0 + n, T);
    else if (held != T)
        status = dsc_fail("%s: the ranks hold %lld rows for %lld time steps", path, held, T);
    else if (lmin != lmax || L < 1)
        status = dsc_fail("%s: latent sizes %d..%d differ between ranks", path, lmin, lmax);
    if (any_failed(comm, status)) return dsc_agree(comm, status);

    nc_out o;
    nc_out_create(&o, comm, path);
    int dim_time = def_dim(&o, "time", T), dim_latent = def_dim(&o, "latent", L);
    int v_time = def_time(&o, dim_time);
    int dims[2] = {dim_time, dim_latent};
    int v_z = def_var(&o, "z", NC_FLOAT, 2, dims, "1", "latent features of the encoder");
    put_globals(&o, "latent features of the time steps");
    nc_out_enddef(&o);
    if (!any_failed(comm, o.status)) {
        float dummy_f = 0.0f;
        MPI_Offset start[2] = {t0, 0}, count[2] = {n, L};
        nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_time, start, count, n ? cat->time + t0 : &(double){0}), "writing time");
        nc_check(&o, ncmpi_put_vara_float_all(o.ncid, v_z, start, count, n ? z : &dummy_f), "writing z");
    }
    return dsc_agree(comm, nc_out_finish(&o));
}

/* ---- centroids ------------------------------------------------------------- */

int run_output_centroids(MPI_Comm comm, const char *dir, const double *centroids, int k, int d, const char *space)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = DSC_OK;
    if (rank == 0) {
        int *clusters = dsc_malloc((size_t)(k > 0 ? k : 1) * sizeof(int), "cluster numbers"); /* (K) */
        if (k < 1 || d < 1) status = dsc_fail("%s/centroids.nc: %d centroids of %d features", dir, k, d);
        else if (strcmp(space, "latent") != 0 && strcmp(space, "input") != 0 && strcmp(space, "pca") != 0 &&
                 strcmp(space, "unit") != 0 && strcmp(space, "pca-unit") != 0)
            status = dsc_fail("%s/centroids.nc: feature space '%s' is not 'latent', 'input', 'pca', 'unit' or 'pca-unit'", dir,
                              space);
        if (!clusters) status = DSC_ERR;
        char path[4096];
        if (status == DSC_OK) status = join_path(path, sizeof path, dir, "centroids.nc");
        if (status == DSC_OK) {
            nc_out o;
            nc_out_create(&o, MPI_COMM_SELF, path);
            int dim_cluster = def_dim(&o, "cluster", k), dim_feature = def_dim(&o, "feature", d);
            int v_cluster = def_var(&o, "cluster", NC_INT, 1, &dim_cluster, "1", "cluster number");
            int dims[2] = {dim_cluster, dim_feature};
            int v_c = def_var(&o, "centroid", NC_DOUBLE, 2, dims, "1",
                              strcmp(space, "latent") == 0     ? "cluster centroid in the latent space"
                              : strcmp(space, "pca") == 0      ? "cluster centroid in the space of the principal components"
                              : strcmp(space, "unit") == 0     ? "cluster centroid of the unit-length rows of the normalised input"
                              : strcmp(space, "pca-unit") == 0 ? "cluster centroid of the unit-length rows of the principal components"
                                                               : "cluster centroid in the normalised input space");
            put_text(&o, v_c, "feature_space", space);
            put_globals(&o, "cluster centroids");
            nc_out_enddef(&o);
            if (o.status == DSC_OK) {
                for (int c = 0; c < k; c++) clusters[c] = c;
                MPI_Offset start[2] = {0, 0}, count[2] = {k, d};
                nc_check(&o, ncmpi_put_vara_int_all(o.ncid, v_cluster, start, count, clusters), "writing cluster");
                nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_c, start, count, centroids), "writing centroid");
            }
            status = nc_out_finish(&o);
        }
        free(clusters);
    }
    return dsc_agree(comm, status);
}

/* ---- composites ------------------------------------------------------------ */

/* Exponent q of the quantisation grid of a variable whose largest magnitude
 * is maxabs, for sums of up to T values: |x| / 2^q < 2^(52 - bits(T)), so
 * any sum of T quantised values stays below 2^52 and is exact. */
static int quantum_exponent(double maxabs, long long T)
{
    int e = 0, bits = 0;
    if (maxabs > 0.0) frexp(maxabs, &e); /* maxabs < 2^e */
    while ((1LL << bits) < T) bits++;
    return e + bits - 52;
}

/* The buffers of composites.nc. */
typedef struct {
    int *count, *clusters;         /* (K) members, cluster numbers */
    double *sum, *valid;           /* (K + 1, Y, X) quantised sums and valid counts; row K: all time steps */
    float *mean, *anom;            /* (K, Y, X) */
} composites_buffers;

static int composites_alloc(composites_buffers *b, int k, size_t YX)
{
    const size_t KYX = (size_t)k * YX;
    b->count = dsc_calloc((size_t)(k > 0 ? k : 1), sizeof(int), "cluster sizes");
    b->clusters = dsc_malloc((size_t)(k > 0 ? k : 1) * sizeof(int), "cluster numbers");
    b->sum = dsc_malloc((KYX + YX) * sizeof(double), "composite sums");
    b->valid = dsc_malloc((KYX + YX) * sizeof(double), "composite counts");
    b->mean = dsc_malloc((KYX ? KYX : 1) * sizeof(float), "composite means");
    b->anom = dsc_malloc((KYX ? KYX : 1) * sizeof(float), "composite anomalies");
    return b->count && b->clusters && b->sum && b->valid && b->mean && b->anom ? DSC_OK : DSC_ERR;
}

static void composites_free(composites_buffers *b)
{
    free(b->count);
    free(b->clusters);
    free(b->sum);
    free(b->valid);
    free(b->mean);
    free(b->anom);
}

/* The variables of composites.nc. */
typedef struct {
    int v_cluster, v_lat, v_lon, v_count;
    int v_mean[ERA5_MAX_VARS], v_anom[ERA5_MAX_VARS];
} composites_ids;

static const float composites_fill = NC_FILL_FLOAT;

/* The header: cluster, latitude, longitude, count and per variable
 * VAR_mean and VAR_anomaly (cluster, latitude, longitude). */
static void composites_define(nc_out *o, const era5_catalog *cat, int k, composites_ids *id)
{
    int dim_cluster = def_dim(o, "cluster", k), dim_lat = def_dim(o, "latitude", cat->nlat),
        dim_lon = def_dim(o, "longitude", cat->nlon);
    id->v_cluster = def_var(o, "cluster", NC_INT, 1, &dim_cluster, "1", "cluster number");
    id->v_lat = def_var(o, "latitude", NC_DOUBLE, 1, &dim_lat, "degrees_north", "latitude");
    put_text(o, id->v_lat, "standard_name", "latitude");
    put_text(o, id->v_lat, "axis", "Y");
    id->v_lon = def_var(o, "longitude", NC_DOUBLE, 1, &dim_lon, "degrees_east", "longitude");
    put_text(o, id->v_lon, "standard_name", "longitude");
    put_text(o, id->v_lon, "axis", "X");
    id->v_count = def_var(o, "count", NC_INT, 1, &dim_cluster, "1", "time steps in the cluster");
    int dims[3] = {dim_cluster, dim_lat, dim_lon};
    for (int v = 0; v < cat->nvars; v++) {
        char name[ERA5_NAME_LEN + 16], long_name[256];
        const era5_variable *var = &cat->vars[v];
        const char *what = var->long_name[0] ? var->long_name : var->name;
        snprintf(name, sizeof name, "%s_mean", var->name);
        snprintf(long_name, sizeof long_name, "%s, mean over the time steps of the cluster", what);
        id->v_mean[v] = def_var(o, name, NC_FLOAT, 3, dims, var->units, long_name);
        if (o->status == DSC_OK)
            nc_check(o, ncmpi_put_att_float(o->ncid, id->v_mean[v], "_FillValue", NC_FLOAT, 1, &composites_fill), "writing an attribute");
        snprintf(name, sizeof name, "%s_anomaly", var->name);
        snprintf(long_name, sizeof long_name, "%s, cluster mean minus the mean of all time steps", what);
        id->v_anom[v] = def_var(o, name, NC_FLOAT, 3, dims, var->units, long_name);
        if (o->status == DSC_OK)
            nc_check(o, ncmpi_put_att_float(o->ncid, id->v_anom[v], "_FillValue", NC_FLOAT, 1, &composites_fill), "writing an attribute");
    }
    put_globals(o, "composites of the input variables per cluster");
}

/* Collective: b->mean and b->anom (K, Y, X) of variable v on rank 0, from
 * sums quantised to a grid the same on every rank (exact in any order). */
static void composites_of_variable(MPI_Comm comm, const era5_catalog *cat, const era5_samples *s, const int *labels, int k,
                                   int v, composites_buffers *b)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    const int V = cat->nvars;
    const size_t YX = (size_t)cat->nlat * cat->nlon, KYX = (size_t)k * YX;
    double *sum = b->sum, *valid = b->valid;
    double maxabs = 0.0;
    for (long long i = 0; i < s->nt; i++) {
        const float *f = s->data + ((size_t)i * V + v) * YX;
        for (size_t j = 0; j < YX; j++)
            if (!isnan(f[j]) && fabs(f[j]) > maxabs) maxabs = fabs(f[j]);
    }
    MPI_Allreduce(MPI_IN_PLACE, &maxabs, 1, MPI_DOUBLE, MPI_MAX, comm);
    const int q = quantum_exponent(maxabs, cat->ntime);
    memset(sum, 0, KYX * sizeof(double));
    memset(valid, 0, KYX * sizeof(double));
    for (long long i = 0; i < s->nt; i++) {
        const float *f = s->data + ((size_t)i * V + v) * YX;
        const size_t row = (size_t)labels[s->t0 + i] * YX;
        for (size_t j = 0; j < YX; j++)
            if (!isnan(f[j])) {
                sum[row + j] += nearbyint(ldexp(f[j], -q));
                valid[row + j] += 1.0;
            }
    }
    /* integers below 2^53: the sums are exact in any order */
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : sum, sum, (int)KYX, MPI_DOUBLE, MPI_SUM, 0, comm);
    MPI_Reduce(rank == 0 ? MPI_IN_PLACE : valid, valid, (int)KYX, MPI_DOUBLE, MPI_SUM, 0, comm);
    if (rank != 0) return;
    double *all = sum + KYX, *nall = valid + KYX; /* (Y, X) over every time step */
    memset(all, 0, YX * sizeof(double));
    memset(nall, 0, YX * sizeof(double));
    for (int c = 0; c < k; c++)
        for (size_t j = 0; j < YX; j++) {
            all[j] += sum[c * YX + j];
            nall[j] += valid[c * YX + j];
        }
    for (int c = 0; c < k; c++)
        for (size_t j = 0; j < YX; j++) {
            size_t e = c * YX + j;
            if (valid[e] > 0.0) {
                double m = ldexp(sum[e], q) / valid[e];
                b->mean[e] = (float)m;
                b->anom[e] = (float)(m - ldexp(all[j], q) / nall[j]);
            } else {
                b->mean[e] = b->anom[e] = composites_fill;
            }
        }
}

int run_output_composites(MPI_Comm comm, const char *dir, const era5_catalog *cat, const era5_samples *s,
                          const int *labels, int k)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    const int V = cat->nvars, Y = cat->nlat, X = cat->nlon;
    const long long T = cat->ntime;
    int status = DSC_OK;
    if (s->nvars != V || s->nlat != Y || s->nlon != X || s->ntime != T)
        status = dsc_fail("%s/composites.nc: the samples (%lld x %d x %d x %d) do not match the catalog (%lld x %d x %d x %d)",
                          dir, s->ntime, s->nvars, s->nlat, s->nlon, T, V, Y, X);
    else status = check_labels(labels, T, k, dir, "composites.nc");
    composites_buffers b;
    if (composites_alloc(&b, k, (size_t)Y * X) != DSC_OK) status = DSC_ERR;
    char path[4096];
    if (status == DSC_OK) status = join_path(path, sizeof path, dir, "composites.nc");
    if (any_failed(comm, status)) {
        composites_free(&b);
        return dsc_agree(comm, status);
    }
    for (long long t = 0; t < T; t++) b.count[labels[t]]++;
    for (int c = 0; c < k; c++) b.clusters[c] = c;

    nc_out o;
    nc_out_create(&o, comm, path);
    composites_ids id;
    composites_define(&o, cat, k, &id);
    nc_out_enddef(&o);
    if (!any_failed(comm, o.status)) {
        MPI_Offset start[3] = {0, 0, 0};
        MPI_Offset ck = rank == 0 ? k : 0, cy = rank == 0 ? Y : 0, cx = rank == 0 ? X : 0;
        nc_check(&o, ncmpi_put_vara_int_all(o.ncid, id.v_cluster, start, &ck, b.clusters), "writing cluster");
        nc_check(&o, ncmpi_put_vara_double_all(o.ncid, id.v_lat, start, &cy, cat->lat), "writing latitude");
        nc_check(&o, ncmpi_put_vara_double_all(o.ncid, id.v_lon, start, &cx, cat->lon), "writing longitude");
        nc_check(&o, ncmpi_put_vara_int_all(o.ncid, id.v_count, start, &ck, b.count), "writing count");
        for (int v = 0; v < V; v++) {
            composites_of_variable(comm, cat, s, labels, k, v, &b);
            MPI_Offset count3[3] = {ck, cy, cx};
            nc_check(&o, ncmpi_put_vara_float_all(o.ncid, id.v_mean[v], start, count3, b.mean), "writing a composite mean");
            nc_check(&o, ncmpi_put_vara_float_all(o.ncid, id.v_anom[v], start, count3, b.anom), "writing a composite anomaly");
        }
    }
    status = nc_out_finish(&o);
    composites_free(&b);
    return dsc_agree(comm, status);
}

/* ---- EOF patterns and principal components (dsc kmeans / ward --pca) ---- */

/* mode(mode) and the explained variance (ratio) of every mode. */
static void def_modes(nc_out *o, int dim_mode, int *v_mode, int *v_var, int *v_ratio)
{
    *v_mode = def_var(o, "mode", NC_INT, 1, &dim_mode, "1", "EOF mode number, from 0, in decreasing explained variance");
    *v_var = def_var(o, "explained_variance", NC_DOUBLE, 1, &dim_mode, "1",
                     "variance of the principal component (normalised input units squared)");
    *v_ratio = def_var(o, "explained_variance_ratio", NC_DOUBLE, 1, &dim_mode, "1",
                       "fraction of the total variance explained by the mode");
}

static void put_modes(nc_out *o, int v_mode, int v_var, int v_ratio, const double *variance, const double *ratio, int c,
                      int mine)
{
    int *modes = dsc_malloc((size_t)c * sizeof(int), "mode numbers");
    if (!modes) {
        o->status = DSC_ERR;
        return;
    }
    for (int i = 0; i < c; i++) modes[i] = i;
    MPI_Offset start = 0, count = mine ? c : 0;
    nc_check(o, ncmpi_put_vara_int_all(o->ncid, v_mode, &start, &count, modes), "writing mode");
    nc_check(o, ncmpi_put_vara_double_all(o->ncid, v_var, &start, &count, variance), "writing explained_variance");
    nc_check(o, ncmpi_put_vara_double_all(o->ncid, v_ratio, &start, &count, ratio), "writing explained_variance_ratio");
    free(modes);
}

int run_output_eofs(MPI_Comm comm, const char *dir, const era5_catalog *cat, const double *patterns, const double *variance,
                    const double *ratio, int c)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = DSC_OK;
    if (rank == 0) {
        const int V = cat->nvars, Y = cat->nlat, X = cat->nlon;
        const size_t YX = (size_t)Y * X, D = (size_t)V * YX;
        float *map = dsc_malloc((size_t)c * YX * sizeof(float), "EOF maps"); /* (C, Y, X) */
        char path[4096];
        if (!map) status = DSC_ERR;
        if (status == DSC_OK) status = join_path(path, sizeof path, dir, "eofs.nc");
        if (status == DSC_OK) {
            nc_out o;
            nc_out_create(&o, MPI_COMM_SELF, path);
            int dim_mode = def_dim(&o, "mode", c), dim_lat = def_dim(&o, "latitude", Y), dim_lon = def_dim(&o, "longitude", X);
            int v_mode, v_var, v_ratio;
            def_modes(&o, dim_mode, &v_mode, &v_var, &v_ratio);
            int v_lat = def_var(&o, "latitude", NC_DOUBLE, 1, &dim_lat, "degrees_north", "latitude");
            put_text(&o, v_lat, "standard_name", "latitude");
            put_text(&o, v_lat, "axis", "Y");
            int v_lon = def_var(&o, "longitude", NC_DOUBLE, 1, &dim_lon, "degrees_east", "longitude");
            put_text(&o, v_lon, "standard_name", "longitude");
            put_text(&o, v_lon, "axis", "X");
            int v_eof[ERA5_MAX_VARS], dims[3] = {dim_mode, dim_lat, dim_lon};
            for (int v = 0; v < V; v++) {
                char name[ERA5_NAME_LEN + 16], long_name[256];
                const era5_variable *var = &cat->vars[v];
                snprintf(name, sizeof name, "%s_eof", var->name);
                snprintf(long_name, sizeof long_name,
                         "%s, empirical orthogonal function (loading of the normalised input; unit length over all variables)",
                         var->long_name[0] ? var->long_name : var->name);
                v_eof[v] = def_var(&o, name, NC_FLOAT, 3, dims, "1", long_name);
            }
            put_globals(&o, "empirical orthogonal functions (EOFs) of the normalised input");
            nc_out_enddef(&o);
            if (o.status == DSC_OK) {
                MPI_Offset start[3] = {0, 0, 0}, count[3] = {c, Y, X};
                put_modes(&o, v_mode, v_var, v_ratio, variance, ratio, c, 1);
                nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_lat, start, &count[1], cat->lat), "writing latitude");
                nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_lon, start, &count[2], cat->lon), "writing longitude");
                for (int v = 0; v < V && o.status == DSC_OK; v++) {
                    for (int i = 0; i < c; i++)
                        for (size_t j = 0; j < YX; j++) map[i * YX + j] = (float)patterns[i * D + v * YX + j];
                    nc_check(&o, ncmpi_put_vara_float_all(o.ncid, v_eof[v], start, count, map), "writing an EOF");
                }
            }
            status = nc_out_finish(&o);
        }
        free(map);
    }
    return dsc_agree(comm, status);
}

int run_output_pcs(MPI_Comm comm, const char *dir, const era5_catalog *cat, const float *scores, long long t0, long long n,
                   const double *variance, const double *ratio, int c)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    const long long T = cat->ntime;
    char path[4096];
    if (dsc_agree(comm, join_path(path, sizeof path, dir, "pcs.nc")) != DSC_OK) return DSC_ERR;
    nc_out o;
    nc_out_create(&o, comm, path);
    int dim_time = def_dim(&o, "time", T), dim_mode = def_dim(&o, "mode", c);
    int v_time = def_time(&o, dim_time), v_mode, v_var, v_ratio;
    def_modes(&o, dim_mode, &v_mode, &v_var, &v_ratio);
    int dims[2] = {dim_time, dim_mode};
    int v_pc = def_var(&o, "pc", NC_FLOAT, 2, dims, "1", "principal component: the centred normalised input times the EOF");
    put_globals(&o, "principal component time series of the EOFs");
    nc_out_enddef(&o);
    if (!any_failed(comm, o.status)) {
        float dummy_f = 0.0f;
        MPI_Offset start[2] = {t0, 0}, count[2] = {n, c};
        put_modes(&o, v_mode, v_var, v_ratio, variance, ratio, c, rank == 0);
        nc_check(&o, ncmpi_put_vara_double_all(o.ncid, v_time, start, count, n ? cat->time + t0 : &(double){0}), "writing time");
        nc_check(&o, ncmpi_put_vara_float_all(o.ncid, v_pc, start, count, n ? scores : &dummy_f), "writing pc");
    }
    return dsc_agree(comm, nc_out_finish(&o));
}
