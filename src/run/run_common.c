/*
 * run_common.c - output folder, input loading and gathers shared by the
 * clustering commands (see run_common.h).
 */
#include "run_common.h"
#include "labels.h"
#include "metrics.h"
#include "model_inputs.h"
#include "output_file.h"
#include "partition.h"
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- reading options (ERA5_CLI_OPTIONS) -------------------------------- */

static int parse_doubles(const char *text, double *out, int n)
{
    const char *p = text;
    for (int k = 0; k < n; k++) {
        char *end;
        errno = 0;
        out[k] = strtod(p, &end);
        if (errno || end == p || !isfinite(out[k])) return -1;
        while (*end == ' ') end++;
        if (k < n - 1) {
            if (*end != ',') return -1;
            p = end + 1;
        } else if (*end != '\0') {
            return -1;
        }
    }
    return 0;
}

static int parse_vars(const cli_command *cmd, const char *text, era5_options *opt)
{
    const char *p = text;
    opt->nvars = 0;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n > 0 && *p == ' ') { p++; n--; }
        while (n > 0 && p[n - 1] == ' ') n--;
        if (n == 0)
            return dsc_fail("dsc %s: option --vars: '%s' has an empty name; give names separated by commas (t2m,sst,sp)",
                            cmd->command, text);
        if (n >= ERA5_NAME_LEN)
            return dsc_fail("dsc %s: option --vars: a name in '%s' is longer than %d characters", cmd->command, text,
                            ERA5_NAME_LEN - 1);
        if (opt->nvars == ERA5_MAX_VARS)
            return dsc_fail("dsc %s: option --vars: more than %d variables; give at most %d", cmd->command,
                            ERA5_MAX_VARS, ERA5_MAX_VARS);
        char *name = opt->vars[opt->nvars];
        memcpy(name, p, n);
        name[n] = '\0';
        for (int v = 0; v < opt->nvars; v++)
            if (strcmp(era5_canonical_name(opt->vars[v]), era5_canonical_name(name)) == 0)
                return dsc_fail("dsc %s: option --vars: '%s' and '%s' are the same variable; give it once", cmd->command,
                                opt->vars[v], name);
        opt->nvars++;
        if (!comma) break;
        p = comma + 1;
    }
    return DSC_OK;
}

/* --level 500,850: positive pressures in hPa, each once. */
static int parse_levels(const cli_command *cmd, const char *text, era5_options *opt)
{
    const char *p = text;
    opt->nlevels = 0;
    while (1) {
        char *end;
        double lev = strtod(p, &end);
        while (*end == ' ') end++;
        if (end == p || (*end != ',' && *end != '\0') || !(lev > 0) || lev > 2000)
            return dsc_fail("dsc %s: option --level: '%s' is not a list of pressure levels in hPa; give numbers "
                            "such as 500 or 500,850",
                            cmd->command, text);
        if (opt->nlevels == ERA5_MAX_VARS)
            return dsc_fail("dsc %s: option --level: more than %d levels; give at most %d", cmd->command, ERA5_MAX_VARS,
                            ERA5_MAX_VARS);
        for (int k = 0; k < opt->nlevels; k++)
            if (opt->levels[k] == lev)
                return dsc_fail("dsc %s: option --level: level %g is given twice", cmd->command, lev);
        opt->levels[opt->nlevels++] = lev;
        if (*end == '\0') break;
        p = end + 1;
    }
    return DSC_OK;
}

static int parse_time_range(const cli_command *cmd, const char *text, era5_options *opt)
{
    const char *slash = strchr(text, '/');
    if (!slash || strchr(slash + 1, '/'))
        return dsc_fail("dsc %s: option --time-range: '%s' is not START/END; give two ISO 8601 dates such as "
                        "1980-01-01/1989-12-31 (either may be left out: 1980-01-01/)",
                        cmd->command, text);
    char start[64], end[64];
    size_t ns = (size_t)(slash - text), ne = strlen(slash + 1);
    if (ns >= sizeof start || ne >= sizeof end)
        return dsc_fail("dsc %s: option --time-range: '%s' is too long", cmd->command, text);
    memcpy(start, text, ns);
    start[ns] = '\0';
    memcpy(end, slash + 1, ne + 1);
    if (ns == 0 && ne == 0)
        return dsc_fail("dsc %s: option --time-range: '%s' gives neither START nor END", cmd->command, text);
    if (ns > 0) {
        if (datetime_parse(start, &opt->start) != DSC_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", dsc_message());
            dsc_clear();
            return dsc_fail("dsc %s: option --time-range: START %s", cmd->command, msg);
        }
        opt->has_start = 1;
    }
    if (ne > 0) {
        if (datetime_parse(end, &opt->end) != DSC_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", dsc_message());
            dsc_clear();
            return dsc_fail("dsc %s: option --time-range: END %s", cmd->command, msg);
        }
        /* A date without a time of day means the whole day: 1989-12-31 ends
         * at 23:59:59, so START/END with plain dates includes both days. */
        if (strchr(end, 'T') == NULL && strchr(end, ' ') == NULL) {
            opt->end.hour = 23;
            opt->end.minute = 59;
            opt->end.second = 59;
        }
        opt->has_end = 1;
    }
    if (opt->has_start && opt->has_end && datetime_to_hours(&opt->start) > datetime_to_hours(&opt->end))
        return dsc_fail("dsc %s: option --time-range: START %s is after END %s; give START/END in that order",
                        cmd->command, start, end);
    return DSC_OK;
}

static int parse_process_grid(const cli_command *cmd, const char *text, era5_options *opt)
{
    opt->process_grid[0] = opt->process_grid[1] = opt->process_grid[2] = 0;
    if (strcmp(text, "auto") == 0) return DSC_OK;
    long tyx[3];
    if (cli_parse_dims(text, 3, tyx) != DSC_OK || tyx[0] > 1000000 || tyx[1] > 1000000 || tyx[2] > 1000000)
        return dsc_fail("dsc %s: option --process-grid: '%s' is not TxYxX; give three rank counts such as 4x1x1 "
                        "(0 = choose) or auto",
                        cmd->command, text);
    for (int k = 0; k < 3; k++) opt->process_grid[k] = (int)tyx[k];
    return DSC_OK;
}

int era5_options_from_cli(const cli_command *cmd, era5_options *opt)
{
    memset(opt, 0, sizeof *opt);
    const char *v = cli_get(cmd, "vars");
    if (v && parse_vars(cmd, v, opt) != DSC_OK) return DSC_ERR;

    v = cli_get(cmd, "box");
    if (v) {
        double b[4];
        if (parse_doubles(v, b, 4) != 0)
            return dsc_fail("dsc %s: option --box: '%s' is not S,N,W,E; give four numbers in degrees such as "
                            "50,58,-10,2",
                            cmd->command, v);
        if (b[0] < -90 || b[1] > 90 || b[0] > b[1])
            return dsc_fail("dsc %s: option --box: '%s': latitudes must satisfy -90 <= S <= N <= 90", cmd->command, v);
        if (b[2] < -360 || b[3] > 360 || b[2] > b[3] || b[3] - b[2] > 360)
            return dsc_fail("dsc %s: option --box: '%s': longitudes must satisfy W <= E, within -360..360 and at "
                            "most 360 degrees apart",
                            cmd->command, v);
        opt->has_box = 1;
        opt->lat_min = b[0];
        opt->lat_max = b[1];
        opt->lon_min = b[2];
        opt->lon_max = b[3];
    }

    v = cli_get(cmd, "time-range");
    if (v && parse_time_range(cmd, v, opt) != DSC_OK) return DSC_ERR;

    opt->daily_mean = cli_flag(cmd, "daily-mean");

    v = cli_get(cmd, "level");
    if (v && parse_levels(cmd, v, opt) != DSC_OK) return DSC_ERR;

    v = cli_get(cmd, "process-grid");
    if (v && parse_process_grid(cmd, v, opt) != DSC_OK) return DSC_ERR;
    return DSC_OK;
}

static int folder_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)) != NULL) any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

static int check_folder(const char *dir, int force, const char *command, char **inputs, int ninputs)
{
    struct stat st;
    char option[64];
    snprintf(option, sizeof option, "dsc %s: -o", command);
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return dsc_fail("dsc %s: -o %s is not a folder; give a folder for the outputs", command, dir);
        if (!force && folder_has_files(dir))
            return dsc_fail("dsc %s: output folder %s is not empty; choose a new folder, or add --force to overwrite its outputs",
                            command, dir);
    } else if (mkdir(dir, 0777) != 0) {
        int e = errno;
        /* the folder is made, never its parents: name the one that is missing */
        int n = (int)strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        while (n > 0 && dir[n - 1] != '/') n--;
        while (n > 1 && dir[n - 1] == '/') n--;
        if (e == ENOENT && n > 0)
            return dsc_fail("dsc %s: cannot create output folder %s: %s: the folder %.*s does not exist; create it first "
                            "(mkdir -p %.*s)", command, dir, strerror(e), n, dir, n, dir);
        return dsc_fail("dsc %s: cannot create output folder %s: %s; check the path and permissions", command, dir, strerror(e));
    }
    return output_check(dir, OUTPUT_FOLDER, option, inputs, ninputs);
}

int run_check_sample(const char *command, long sample, long k)
{
    if (sample != 0 && sample < k + 1)
        return dsc_fail("dsc %s: option --sample: %ld time steps are too few for %ld clusters (the silhouette needs more "
                        "samples than clusters); give 0 (all time steps) or at least %ld", command, sample, k, k + 1);
    return DSC_OK;
}

int run_folder_spares(MPI_Comm comm, const char *dir, const char *command, const char *option, const char *input)
{
    static const char *written[] = {"labels.csv", "labels.nc", "latent.nc", "centroids.nc", "composites.nc",
                                    "metrics.json", "model.ckpt", "checkpoint.ckpt", "config.txt"};
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    for (size_t i = 0; rank == 0 && input && status == DSC_OK && i < sizeof written / sizeof written[0]; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", dir, written[i]);
        if (output_same_file(path, input))
            status = dsc_fail("dsc %s: -o %s would overwrite the %s file %s (as %s); choose another folder", command, dir,
                              option, input, written[i]);
    }
    return dsc_agree(comm, status);
}

int run_folder_prepare(MPI_Comm comm, const char *dir, int force, const char *command, char **inputs, int ninputs)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = rank == 0 ? check_folder(dir, force, command, inputs, ninputs) : DSC_OK;
    return dsc_agree(comm, status);
}

int run_input_load(MPI_Comm comm, char **files, int nfiles, const era5_options *eo, const preprocess_options *po,
                   const preprocess_stats *given, run_input *in)
{
    memset(in, 0, sizeof *in);
    if (era5_catalog_open(comm, files, nfiles, eo, &in->cat) != DSC_OK) return DSC_ERR;
    in->have_cat = 1;
    return run_input_read(comm, eo, po, given, in);
}

int run_input_read(MPI_Comm comm, const era5_options *eo, const preprocess_options *po, const preprocess_stats *given,
                   run_input *in)
{
    double t0 = MPI_Wtime();
    int status = era5_read_samples(comm, &in->cat, eo, &in->samples);
    if (status != DSC_OK) goto fail;
    in->have_samples = 1;
    double t1 = MPI_Wtime();
    const era5_samples *s = &in->samples;
    if (given) {
        status = DSC_OK;
        if (given->nvars != s->nvars || given->nlat != s->nlat || given->nlon != s->nlon)
            status = dsc_fail("the model was trained on %d variables on a %dx%d grid, the data have %d on %dx%d; select the "
                              "same --vars and --box as in training", given->nvars, given->nlat, given->nlon, s->nvars,
                              s->nlat, s->nlon);
        if (dsc_agree(comm, status) != DSC_OK) goto fail;
        size_t n = preprocess_stats_packed_size(given);
        double *buf = dsc_malloc(n * sizeof(double), "statistics");
        status = buf ? DSC_OK : DSC_ERR;
        if (buf) {
            preprocess_stats_pack(given, buf);
            status = preprocess_stats_unpack(&in->stats, buf, n);
        }
        free(buf);
        if (dsc_agree(comm, status) != DSC_OK) goto fail;
    } else if (preprocess_fit(comm, s, po, &in->stats) != DSC_OK) {
        goto fail;
    } else if (dsc_agree(comm, model_inputs_describe(&in->stats, &in->cat)) != DSC_OK) { /* saved with a model */
        preprocess_stats_destroy(&in->stats);
        goto fail;
    }
    in->have_stats = 1;
    in->F = (size_t)in->stats.nvars * in->stats.height * in->stats.width;
    in->x = dsc_malloc(((size_t)s->nt * in->F + 1) * sizeof(float), "normalised samples");
    status = in->x ? preprocess_apply(&in->stats, s, in->x) : DSC_ERR;
    if (dsc_agree(comm, status) != DSC_OK) goto fail;
    in->t_read = t1 - t0;
    in->t_preprocess = MPI_Wtime() - t1;
    return DSC_OK;
fail:
    run_input_destroy(in);
    return DSC_ERR;
}

void run_input_destroy(run_input *in)
{
    free(in->x);
    if (in->have_stats) preprocess_stats_destroy(&in->stats);
    if (in->have_samples) era5_samples_destroy(&in->samples);
    if (in->have_cat) era5_catalog_destroy(&in->cat);
    memset(in, 0, sizeof *in);
}

int run_truth_load(MPI_Comm comm, const char *path, const era5_catalog *cat, int daily_mean, int *truth, int *kt)
{
    label_table tab;
    if (labels_read(comm, path, &tab) != DSC_OK) return DSC_ERR;
    int status = labels_match(truth, &tab, path, cat->time, cat->ntime, daily_mean);
    labels_destroy(&tab);
    if (status == DSC_OK && (*kt = metrics_encode_labels(truth, truth, cat->ntime)) < 0)
        status = dsc_fail("out of memory encoding the labels of %s", path);
    return dsc_agree(comm, status);
}

void run_block_counts(long long T, int P, int per_row, int *counts, int *displs)
{
    for (int r = 0; r < P; r++) {
        long long a, c;
        block_range(T, P, r, &a, &c);
        counts[r] = (int)(c * per_row);
        displs[r] = (int)(a * per_row);
    }
}

void run_allgather_ints(MPI_Comm comm, const int *mine, long long T, int *all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int *counts = malloc((size_t)2 * P * sizeof(int));
    if (!counts) MPI_Abort(comm, 1);
    run_block_counts(T, P, 1, counts, counts + P);
    MPI_Allgatherv(mine, counts[rank], MPI_INT, all, counts, counts + P, MPI_INT, comm);
    free(counts);
}

void run_gather_rows(MPI_Comm comm, const double *mine, long long T, int K, double *all)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    int *counts = malloc((size_t)2 * P * sizeof(int));
    if (!counts) MPI_Abort(comm, 1);
    run_block_counts(T, P, K, counts, counts + P);
    MPI_Gatherv(mine, counts[rank], MPI_DOUBLE, all, counts, counts + P, MPI_DOUBLE, 0, comm);
    free(counts);
}

int run_stats_blob(const preprocess_stats *st, void **blob, size_t *bytes)
{
    size_t n = preprocess_stats_packed_size(st);
    double *buf = dsc_malloc(n * sizeof(double), "normalisation statistics");
    if (!buf) return DSC_ERR;
    preprocess_stats_pack(st, buf);
    *blob = buf;
    *bytes = n * sizeof(double);
    return DSC_OK;
}

int run_stats_blob_matches(const void *saved, size_t saved_bytes, const void *blob, size_t blob_bytes)
{
    if (saved_bytes == blob_bytes && memcmp(saved, blob, blob_bytes) == 0) return 1;
    /* a record without the inputs (an older dsc): the same normalisation? */
    preprocess_stats st;
    if (preprocess_stats_unpack(&st, blob, blob_bytes / sizeof(double)) != DSC_OK) {
        dsc_clear();
        return 0;
    }
    free(st.lat);
    free(st.lon);
    st.lat = st.lon = NULL;
    st.has_inputs = 0;
    size_t n = preprocess_stats_packed_size(&st);
    double *buf = malloc(n * sizeof(double));
    int same = buf && n * sizeof(double) == saved_bytes;
    if (same) {
        preprocess_stats_pack(&st, buf);
        same = memcmp(buf, saved, saved_bytes) == 0;
    }
    free(buf);
    preprocess_stats_destroy(&st);
    return same;
}
