/*
 * cmd_train.c - dsc train: Deep Spatiotemporal Clustering end to end.
 *
 *   mpirun -n 64 dsc train -k 7 -o run1 era5_*.nc
 *
 * Reads and normalises the files as `dsc eval` does (every rank a block of
 * time steps), builds the CNN-LSTM autoencoder with its clustering layer,
 * trains it data parallel (train.c), labels every time step and writes the
 * run's outputs (run_output.h) and model.ckpt, which `dsc predict` and
 * `dsc eval --metric-space latent` read.  SIGTERM or SIGUSR1 make every rank
 * stop at the next step, write checkpoint.ckpt and exit with status 3;
 * `dsc train --resume DIR` goes on from it.
 */
#include "commands.h"
#include "hash.h"
#include "checkpoint.h"
#include "cli.h"
#include "clustering.h"
#include "era5_catalog.h"
#include "json.h"
#include "labels.h"
#include "latent_pass.h"
#include "metrics.h"
#include "metrics_report.h"
#include "model.h"
#include "optimizer.h"
#include "output_file.h"
#include "partition.h"
#include "preprocess.h"
#include "run_common.h"
#include "run_output.h"
#include "status.h"
#include "train.h"
#include "train_folder.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

static const cli_option train_option_table[] = {
    ERA5_CLI_OPTIONS,
    PREPROCESS_CLI_OPTIONS,
    {"clusters", 'k', "K", "7", "number of clusters (weather regimes)"},
    {"output", 'o', "DIR", NULL, "output folder (required unless --resume): labels, composites, metrics, model.ckpt"},
    {"seed", 0, "N", "1", "seed of the weights, batch order, dropout and k-means"},
    {"batch", 'b', "B", "32", "global batch: samples per step over all ranks, at most the number of time steps (the authors: 8)"},
    {"optimizer", 0, "sgd|adam", "adam", "optimizer (the authors: sgd)"},
    {"lr", 0, "RATE", "3e-4", "learning rate of the pre-training (the authors: 1e-7 with sgd, which leaves the network where it started)"},
    {"joint-lr", 0, "RATE", "1e-5", "learning rate of the joint training (0: the same as --lr)"},
    {"momentum", 0, "M", "0.9", "SGD momentum"},
    {"max-iter", 0, "N", "1000", "joint training steps at most (0: autoencoder + k-means only)"},
    {"pretrain-epochs", 0, "N|auto", "auto", "autoencoder pre-training epochs on the reconstruction loss; auto: 20, or more "
                                              "on a short record: enough for 96000 samples (the authors: 0)"},
    {"update-interval", 0, "N", "50", "steps between updates of the target distribution (eq. 4)"},
    {"tol", 0, "FRACTION", "0.001", "stop when the fraction of labels changed between updates stays below this ..."},
    {"patience", 0, "N", "3", "... for this many consecutive updates"},
    {"alpha", 0, "A", "1", "degrees of freedom of the Student-t soft assignment (eq. 3)"},
    {"gamma", 0, "G", "0.1", "weight of the clustering loss in L_rec + gamma L_clus (eq. 7; the paper: 1)"},
    {"variant", 0, "NAME", "dsc", "cnn-encoder, cnn-autoencoder, cnn-lstm-encoder or cnn-lstm-autoencoder (dsc); the "
                                  "encoders train on the clustering loss alone (paper Table 3); dec: the dense DEC "
                                  "autoencoder, whose joint training drops the decoder (paper Table 2); dtc: the DTC "
                                  "baseline"},
    {"steps", 0, "S", "1", "sequence window: S consecutive time steps through the LSTMs, labelling the last; never "
                           "across a gap in the record"},
    {"conv", 0, "C1,..,C5", "64,64,128,256,512", "widths of the five encoder convolutions"},
    {"lstm", 0, "H1,H2", "512,512", "sizes of the two LSTMs"},
    {"latent", 0, "L", "256", "latent size m (dec: 10 unless given)"},
    {"dense", 0, "D1,D2,D3", "500,500,2000", "widths of the three hidden layers of the dec encoder (the decoder mirrors them)"},
    {"dropout", 0, "P", "0.1", "LSTM dropout and recurrent dropout"},
    {"dtc-filters", 0, "F", "50", "--variant dtc: filters of the 1-D convolution"},
    {"dtc-kernel", 0, "K", "10", "--variant dtc: kernel size of the 1-D convolutions"},
    {"dtc-pool", 0, "P", "10", "--variant dtc: max-pooling size (latent sequence of ceil(V*H*W/P) positions)"},
    {"dtc-lstm", 0, "H1,H2", "50,1", "--variant dtc: units per direction of the two BiLSTMs"},
    {"kmeans-init", 0, "N", "20", "k-means restarts for the centroid initialisation"},
    {"config", 0, "FILE", NULL, "read options from FILE ('key = value' lines, 'input = FILE' for inputs); the command line wins"},
    {"resume", 0, "DIR", NULL, "continue the run in DIR from its checkpoint.ckpt (options and inputs from DIR/config.txt; "
                               "only --max-iter (not below the joint steps done), --checkpoint-every, --process-grid, "
                               "--truth, --sample, --quiet, --verbose, --check-replicas and the input files (the same "
                               "data) may differ; they are recorded in config.txt)"},
    {"checkpoint-every", 0, "N", "0", "write DIR/checkpoint.ckpt every N steps (0: only on a signal)"},
    {"check-replicas", 0, NULL, NULL, "debug: verify after every step that all replicas hold bitwise identical parameters"},
    {"verbose", 'v', NULL, NULL, "also print one line per training step (losses of rank 0's share, step and allreduce time)"},
    RUN_CLI_OPTIONS,
};

static int parse_ints(const cli_command *cmd, const char *name, int *out, int n)
{
    const char *s = cli_get(cmd, name);
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        while (end != s && (*end == ' ' || *end == '\t')) end++; /* as cli_long: spaces around a number are ignored */
        if (errno || end == s || v < 1 || v > 65536 || (i < n - 1 ? *end != ',' : *end != '\0'))
            return dsc_fail("dsc train: option --%s: '%s' is not %d positive integers separated by commas", name,
                            cli_get(cmd, name), n);
        out[i] = (int)v;
        s = end + 1;
    }
    return DSC_OK;
}

/* --dtc-* into the fields model_dtc.h reads. */
static int read_dtc_settings(const cli_command *cmd, model_config *mc)
{
    long filters = 0, kernel = 0, pool = 0;
    int st = cli_long(cmd, "dtc-filters", 1, 65536, &filters);
    if (st == DSC_OK) st = cli_long(cmd, "dtc-kernel", 1, 65536, &kernel);
    if (st == DSC_OK) st = cli_long(cmd, "dtc-pool", 1, 1 << 20, &pool);
    if (st == DSC_OK) st = parse_ints(cmd, "dtc-lstm", mc->lstm, MODEL_NLSTM);
    mc->conv[0] = (int)filters;
    mc->kernel = (int)kernel;
    mc->pool = (int)pool;
    return st;
}

/* --variant dec with --latent left at the table's default: DEC's own
 * default (10), set as the option's value so that config.txt records it and
 * --resume rebuilds the same model. */
static void dec_latent_default(cli_command *cmd)
{
    static char value[16];
    model_variant v;
    if (model_variant_parse(cli_get(cmd, "variant"), &v) != DSC_OK) {
        dsc_clear(); /* read_settings reports it */
        return;
    }
    for (int i = 0; v == MODEL_DEC && i < cmd->noptions; i++)
        if (!strcmp(cmd->options[i].name, "latent") && !cmd->given[i] && cmd->values[i] &&
            !strcmp(cmd->values[i], cmd->options[i].default_value)) {
            snprintf(value, sizeof value, "%d", model_config_dec().latent);
            cmd->values[i] = value;
        }
}

/* Options into the model, optimizer and training settings. */
static int read_settings(const cli_command *cmd, model_config *mc, optimizer_config *oc, train_options *to)
{
    long k, batch, seed, maxit, pre, upd, pat, steps = 1, latent, kinit, every;
    double lr, jlr, mom, tol, alpha, gamma, dropout;
    optimizer_kind ok;
    int st = DSC_OK;
    *mc = model_config_default();
    memset(to, 0, sizeof *to);
    if (st == DSC_OK) st = cli_long(cmd, "clusters", 2, 1000000, &k);
    if (st == DSC_OK) st = cli_long(cmd, "batch", 1, 1 << 20, &batch);
    if (st == DSC_OK) st = cli_long(cmd, "seed", 0, 1L << 62, &seed);
    if (st == DSC_OK) st = cli_long(cmd, "max-iter", 0, 1L << 40, &maxit);
    if (st == DSC_OK && !strcmp(cli_get(cmd, "pretrain-epochs"), "auto")) pre = -1; /* set from T by train_auto_epochs */
    else if (st == DSC_OK && cli_long(cmd, "pretrain-epochs", 0, 1000000, &pre) != DSC_OK) {
        dsc_clear();
        st = dsc_fail("dsc train: option --pretrain-epochs: '%s' is not auto or an integer in [0, 1000000]",
                      cli_get(cmd, "pretrain-epochs"));
    }
    if (st == DSC_OK) st = cli_long(cmd, "update-interval", 1, 1L << 30, &upd);
    if (st == DSC_OK) st = cli_long(cmd, "patience", 1, 1L << 30, &pat);
    if (st == DSC_OK) st = cli_long(cmd, "steps", 1, 366, &steps);
    if (st == DSC_OK) st = cli_long(cmd, "latent", 1, 65536, &latent);
    if (st == DSC_OK) st = cli_long(cmd, "kmeans-init", 1, 10000, &kinit);
    if (st == DSC_OK) st = cli_long(cmd, "checkpoint-every", 0, 1L << 40, &every);
    if (st == DSC_OK) st = cli_double(cmd, "lr", 0, 1e6, &lr);
    if (st == DSC_OK) st = cli_double(cmd, "joint-lr", 0, 1e6, &jlr);
    if (st == DSC_OK) st = cli_double(cmd, "momentum", 0, 1, &mom);
    if (st == DSC_OK) st = cli_double(cmd, "tol", 0, 1, &tol);
    if (st == DSC_OK) st = cli_double(cmd, "alpha", 1e-6, 1e6, &alpha);
    if (st == DSC_OK) st = cli_double(cmd, "gamma", 0, 1e6, &gamma);
    if (st == DSC_OK) st = cli_double(cmd, "dropout", 0, 0.99, &dropout);
    if (st == DSC_OK) st = optimizer_kind_parse(cli_get(cmd, "optimizer"), &ok);
    if (st == DSC_OK && model_variant_parse(cli_get(cmd, "variant"), &mc->variant) != DSC_OK) {
        dsc_clear();
        st = dsc_fail("dsc train: option --variant: '%s' is not cnn-encoder, cnn-autoencoder, cnn-lstm-encoder, "
                      "cnn-lstm-autoencoder (dsc), dec or dtc", cli_get(cmd, "variant"));
    }
    if (st == DSC_OK) st = parse_ints(cmd, "conv", mc->conv, MODEL_NCONV);
    if (st == DSC_OK) st = parse_ints(cmd, "lstm", mc->lstm, MODEL_NLSTM);
    int dense[MODEL_NDENSE];
    if (st == DSC_OK) st = parse_ints(cmd, "dense", dense, MODEL_NDENSE);
    if (st == DSC_OK && mc->variant == MODEL_DTC) st = read_dtc_settings(cmd, mc);
    if (st == DSC_OK && mc->variant == MODEL_DTC && steps != 1)
        st = dsc_fail("dsc train: option --steps %ld: --variant dtc reads one time step per sample (its field flattened "
                      "to one row); use --steps 1", steps);
    if (st == DSC_OK && mc->variant == MODEL_DEC && steps != 1)
        st = dsc_fail("dsc train: option --steps %ld: dec labels single time steps; use --steps 1 with --variant dec", steps);
    if (st != DSC_OK) return st;
    mc->steps = (int)steps;
    mc->latent = (int)latent;
    mc->dropout = mc->recurrent_dropout = (float)dropout;
    if (mc->variant == MODEL_DEC) { /* Xie et al.: ReLU, linear embedding of 10, no dropout while fine-tuning */
        model_config dec = model_config_dec();
        memcpy(mc->dense, dense, sizeof dense);
        mc->activation = dec.activation;
        mc->latent_activation = dec.latent_activation;
        mc->dropout = mc->recurrent_dropout = 0.0f;
        to->drop_decoder = 1;
    }
    mc->clusters = (int)k;
    *oc = optimizer_defaults(ok);
    oc->learning_rate = (float)lr;
    if (ok == OPTIMIZER_SGD) oc->momentum = (float)mom;
    to->k = (int)k;
    to->batch = (int)batch;
    to->seed = (uint64_t)seed;
    to->pretrain_epochs = (int)pre; /* -1: auto */
    to->max_iter = maxit;
    to->update_interval = (int)upd;
    to->tol = tol;
    to->patience = (int)pat;
    to->alpha = alpha;
    to->gamma = gamma;
    to->pretrain_lr = lr;
    to->joint_lr = jlr > 0 ? jlr : lr;
    to->kmeans_init = (int)kinit;
    to->checkpoint_every = every;
    to->resumed_from = -1;
    to->check_replicas = cli_flag(cmd, "check-replicas");
    to->verbose = cli_flag(cmd, "quiet") ? 0 : cli_flag(cmd, "verbose") ? 2 : 1;
    return DSC_OK;
}

/* What identifies the data a run trains on (checked on --resume). */
static void data_fingerprint(const run_input *in, double fp[8])
{
    const era5_catalog *c = &in->cat;
    uint64_t h = HASH_FNV1A_START;
    for (int v = 0; v < c->nvars; v++) h = hash_fnv1a(h, c->vars[v].name, strlen(c->vars[v].name));
    fp[0] = (double)c->ntime;
    fp[1] = c->time[0];
    fp[2] = c->time[c->ntime - 1];
    fp[3] = c->nvars;
    fp[4] = c->nlat;
    fp[5] = c->nlon;
    fp[6] = (double)(h >> 12); /* exact in a double */
    fp[7] = c->nlat > 0 && c->nlon > 0 ? c->lat[0] * 1000 + c->lon[0] : 0;
}

static void path_join(char *out, size_t n, const char *dir, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

/* Rank 0, on --resume: a run killed while it wrote a checkpoint leaves
 * checkpoint.ckpt.tmp.PID next to the previous, complete checkpoint;
 * remove such files from dir. */
static void remove_stale_checkpoints(const char *dir)
{
    static const char prefix[] = "checkpoint.ckpt.tmp.";
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *tail = e->d_name + sizeof prefix - 1;
        if (strncmp(e->d_name, prefix, sizeof prefix - 1) != 0 || !*tail || strspn(tail, "0123456789") != strlen(tail)) continue;
        char path[4300];
        path_join(path, sizeof path, dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}

/* Options that --resume DIR may change: they leave what the run computes
 * as it was (--max-iter as long as it does not end the run before the
 * steps already done: checked against the checkpoint). */
static const char *const resume_overrides[] = {"max-iter", "checkpoint-every", "process-grid", "truth", "sample", "quiet",
                                               "verbose", "check-replicas", "force", "resume", "output", NULL};
/* Keys that make no sense inside a configuration file. */
static const char *const config_refused[] = {"config", "resume", NULL};

static int resume_may_change(const char *name)
{
    for (const char *const *r = resume_overrides; *r; r++)
        if (!strcmp(*r, name)) return 1;
    return 0;
}

/* Rank 0: the effective configuration, key = value lines; resumed: the
 * step, and the options of this command line that differ from the run's. */
static int write_config(const char *dir, const cli_command *cmd, char **files, int nfiles, long resumed)
{
    char path[TRAIN_FOLDER_PATH + 16];
    path_join(path, sizeof path, dir, "config.txt");
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    fprintf(out.f, "# dsc train: effective configuration (read by dsc train --config FILE and --resume DIR)\n");
    if (resumed >= 0) {
        fprintf(out.f, "# resumed at step %ld; given then:", resumed);
        for (int i = 0; i < cmd->noptions; i++)
            if (cmd->given[i] && resume_may_change(cmd->options[i].name) && strcmp(cmd->options[i].name, "resume"))
                fprintf(out.f, " --%s", cmd->options[i].name);
        fprintf(out.f, "%s\n", cmd->nargs > 0 ? " input files" : "");
    }
    cli_command copy = *cmd;
    copy.nargs = 0;
    for (int i = 0; i < copy.noptions; i++)
        if (!strcmp(copy.options[i].name, "resume") || !strcmp(copy.options[i].name, "config") ||
            !strcmp(copy.options[i].name, "force"))
            copy.values[i] = NULL;
    cli_write_config(out.f, &copy, NULL);
    for (int i = 0; i < nfiles; i++) cli_write_value(out.f, "input", files[i]);
    return output_file_commit(&out);
}

/* Two option values that mean the same: the same text or the same number. */
static int same_value(const char *a, const char *b)
{
    if (!a || !b) return a == b;
    if (!strcmp(a, b)) return 1;
    char *ea, *eb;
    double x = strtod(a, &ea), y = strtod(b, &eb);
    return ea != a && eb != b && !*ea && !*eb && x == y;
}

/* Local: --resume DIR names a folder that holds config.txt. */
static int check_resume_folder(const char *dir, const cli_command *cmd)
{
    struct stat sb;
    char path[DSC_PATH_MAX];
    path_join(path, sizeof path, dir, "config.txt");
    if (cli_get(cmd, "config"))
        return dsc_fail("dsc train: --resume %s reads the run's options from %s; drop --config %s", dir, path,
                        cli_get(cmd, "config"));
    if (stat(dir, &sb) != 0)
        return dsc_fail("dsc train: --resume %s: %s; give the output folder of a stopped run", dir, strerror(errno));
    if (!S_ISDIR(sb.st_mode)) return dsc_fail("dsc train: --resume %s is not a folder; give the output folder of a stopped run", dir);
    if (access(path, R_OK) != 0)
        return dsc_fail("dsc train: --resume %s: no readable config.txt in that folder (%s); give the output folder of a "
                        "stopped run", dir, strerror(errno));
    return DSC_OK;
}

/* Local, --resume DIR: an option of the command line that would change what
 * the run computes (its value differs from DIR/config.txt's and it is not
 * one of resume_overrides) is refused, naming it. */
static int check_resume_options(const cli_command *cmd, const char *config_path, const char *dir)
{
    cli_command saved = {.command = cmd->command, .usage = "", .summary = "", .options = cmd->options,
                         .noptions = cmd->noptions, .config_refused = cmd->config_refused};
    char arg0[] = "train";
    char *argv[] = {arg0, NULL};
    int status = cli_parse(&saved, 1, argv, 1);
    if (status == DSC_OK) status = cli_read_config(&saved, config_path, "input");
    for (int i = 0; status == DSC_OK && i < cmd->noptions; i++) {
        const cli_option *o = &cmd->options[i];
        if (!cmd->given[i] || resume_may_change(o->name) || same_value(cmd->values[i], saved.values[i])) continue;
        status = dsc_fail("dsc train: --resume %s: option --%s%s%s would change the run (its config.txt: %s); drop it, or "
                          "train anew with -o (--resume may change only --max-iter, --checkpoint-every, --process-grid, "
                          "--truth, --sample, --quiet, --verbose, --check-replicas and the input files)", dir, o->name,
                          o->metavar ? " " : "", o->metavar ? cmd->values[i] : "",
                          saved.values[i] ? (o->metavar ? saved.values[i] : "on") : (o->metavar ? "not set" : "off"));
    }
    cli_free(&saved);
    return status;
}

/* What begin_run writes config.txt from. */
typedef struct {
    train_folder *tf;
    const cli_command *cmd;
    char **files;
    int nfiles;
    long resumed; /* the step resumed from, -1: a new run */
    int done;
} run_begin;

/* Collective, train_options.before_checkpoint: config.txt, which --resume
 * reads next to the checkpoint, written before the run's first one and no
 * earlier, so that a run that fails or is killed before leaves the folder's
 * config.txt as it was (the outputs bring their own). */
static int begin_run(MPI_Comm comm, void *arg)
{
    run_begin *b = arg;
    if (b->done) return DSC_OK;
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) status = train_folder_begin(b->tf, b->resumed >= 0);
    if (rank == 0 && status == DSC_OK) status = write_config(b->tf->dir, b->cmd, b->files, b->nfiles, b->resumed);
    b->done = 1;
    return dsc_agree(comm, status);
}

/* Bytes the outputs of a run take on disk, generously: the room reserved
 * before they are written (netCDF headers and file-system blocks in the
 * slack). */
static long long outputs_bytes(const era5_catalog *c, int K, int L, size_t nparams, size_t blob_bytes, size_t state_bytes)
{
    const long long T = c->ntime, cells = (long long)c->nvars * c->nlat * c->nlon;
    long long b = T * 48                                 /* labels.csv */
                  + T * (12 + 4LL * K) + T * (8 + 4LL * L) /* labels.nc, latent.nc */
                  + 8LL * K * L                          /* centroids.nc */
                  + 8LL * K * cells + 8LL * (c->nlat + c->nlon) /* composites.nc */
                  + 4LL * (long long)nparams + (long long)(blob_bytes + state_bytes); /* model.ckpt */
    return b + 65536 + 8 * (16384 + 1024LL * c->nvars); /* metrics.json, headers and blocks */
}

/* Per-phase timings: max and mean over the ranks. */
#define NPHASES 9
static const char *phase_names[NPHASES] = {"read", "preprocess", "pretrain", "kmeans", "joint_compute", "joint_allreduce_wait",
                                           "target_update", "evaluation", "write"};

/* A history entry that does not exist (no step before the first update,
 * no change before the second) is null, without a warning. */
static void json_optional(FILE *f, double v) { json_write_key_number(f, v, -1, NULL); }

static int write_metrics(MPI_Comm comm, const char *dir, const metrics_report *rep, const train_state *st,
                         const double *phases, const train_options *to, const model_config *mc, long long T, int nranks,
                         long joint_steps)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    double mx[NPHASES], sum[NPHASES];
    MPI_Reduce(phases, mx, NPHASES, MPI_DOUBLE, MPI_MAX, 0, comm);
    MPI_Reduce(phases, sum, NPHASES, MPI_DOUBLE, MPI_SUM, 0, comm);
    int status = DSC_OK;
    if (rank == 0) {
        char path[TRAIN_FOLDER_PATH + 16];
        path_join(path, sizeof path, dir, "metrics.json");
        output_file out;
        status = output_file_open(&out, path, "w");
        if (status == DSC_OK) {
            FILE *f = out.f;
            json_begin_file();
            fprintf(f, "{\n  \"command\": \"train\",\n  \"variant\": \"%s\",\n  \"clusters\": %d,\n  \"steps\": %d,\n",
                    model_variant_name(mc->variant), to->k, mc->steps);
            fprintf(f, "  \"time_steps\": %lld,\n  \"ranks\": %d,\n  \"pretrain_epochs\": %d,\n  \"joint_steps\": %ld,\n",
                    T, nranks, to->pretrain_epochs, joint_steps);
            fprintf(f, "  \"converged\": %s,\n", st->converged ? "true" : "false");
            fprintf(f, "  \"metric_space\": \"input\",\n");
            metrics_report_write_json(f, rep, "  ");
            fprintf(f, "  \"pretrain_loss\": [");
            for (int i = 0; i < st->npretrain; i++) {
                fprintf(f, "%s", i ? ", " : "");
                json_optional(f, st->pretrain_loss[i]);
            }
            fprintf(f, "],\n  \"history\": [");
            for (int i = 0; i < st->nrecords; i++) {
                const train_record *r = &st->records[i];
                fprintf(f, "%s\n    {\"step\": %ld, \"rec_loss\": ", i ? "," : "", r->step);
                json_optional(f, r->rec_loss);
                fprintf(f, ", \"kl_loss\": ");
                json_optional(f, r->kl_loss);
                fprintf(f, ", \"changed\": ");
                json_optional(f, r->changed);
                fprintf(f, "}");
            }
            fprintf(f, "\n  ],\n  \"timings\": {");
            for (int i = 0; i < NPHASES; i++) {
                const json_figure phase[] = {{"max", mx[i], 4}, {"mean", sum[i] / nranks, 4}};
                fprintf(f, "%s\n    \"%s\": {", i ? "," : "", phase_names[i]);
                json_write_figures(f, phase, 2);
                fprintf(f, "}");
            }
            fprintf(f, "\n  }\n}\n");
            status = output_file_commit(&out);
        }
    }
    return dsc_agree(comm, status);
}

int train_command(int argc, char **argv, MPI_Comm comm)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    cli_command cmd = {
        .command = "train",
        .usage = "-k K -o DIR [OPTIONS] FILES...  |  --resume DIR",
        .summary = "Train Deep Spatiotemporal Clustering (CNN-LSTM autoencoder + Student-t clustering layer, KL to a "
                   "sharpened target) on ERA5 files, data parallel over the ranks, and label every time step. Writes to "
                   "DIR: labels.csv, labels.nc, latent.nc, centroids.nc, composites.nc, metrics.json, model.ckpt, "
                   "config.txt. SIGTERM or SIGUSR1 (sbatch --signal) make the run write DIR/checkpoint.ckpt and exit with "
                   "status 3; --resume DIR continues it. Exit status: 0 done, 1 error, 3 stopped by a signal.",
        .options = train_option_table,
        .noptions = (int)(sizeof train_option_table / sizeof train_option_table[0]),
        .config_refused = config_refused,
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    const char *resume = status == DSC_OK ? cli_get(&cmd, "resume") : NULL;
    char config_path[DSC_PATH_MAX] = "";
    if (status == DSC_OK && resume) {
        path_join(config_path, sizeof config_path, resume, "config.txt");
        status = check_resume_folder(resume, &cmd);
        if (status == DSC_OK) status = check_resume_options(&cmd, config_path, resume);
    } else if (status == DSC_OK && cli_get(&cmd, "config")) {
        snprintf(config_path, sizeof config_path, "%s", cli_get(&cmd, "config"));
    }
    if (status == DSC_OK && config_path[0]) status = cli_read_config(&cmd, config_path, "input");
    char **files = cmd.args;
    int nfiles = cmd.nargs;
    if (status == DSC_OK && nfiles == 0 && cmd.nconfig_list > 0) {
        files = cmd.config_list;
        nfiles = cmd.nconfig_list;
    }
    const char *dir = resume ? resume : status == DSC_OK ? cli_get(&cmd, "output") : NULL;
    era5_options eo;
    preprocess_options po;
    model_config mc;
    optimizer_config oc;
    train_options to;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &eo);
    if (status == DSC_OK) status = preprocess_options_from_cli(&cmd, &po);
    if (status == DSC_OK) dec_latent_default(&cmd);
    if (status == DSC_OK) status = read_settings(&cmd, &mc, &oc, &to);
    if (status == DSC_OK) {
        long sample = 0;
        status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
        if (status == DSC_OK) status = run_check_sample("train", sample, mc.clusters);
    }
    if (status == DSC_OK && !dir) status = dsc_fail("dsc train: option -o DIR is required (the output folder)");
    if (status == DSC_OK && resume && cli_given(&cmd, "output") && strcmp(cli_get(&cmd, "output"), resume) != 0)
        status = dsc_fail("dsc train: --resume %s writes into %s; drop -o or give the same folder", resume, resume);
    if (status == DSC_OK && nfiles == 0) status = dsc_fail("dsc train: no input files; give the ERA5 netCDF files after the options");
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    char ckpt_path[DSC_PATH_MAX], model_path[TRAIN_FOLDER_PATH + 16];
    path_join(ckpt_path, sizeof ckpt_path, dir, "checkpoint.ckpt");
    path_join(model_path, sizeof model_path, dir, "model.ckpt");
    to.checkpoint_path = ckpt_path;
    double phases[NPHASES] = {0};
    double t_start = MPI_Wtime();

    run_input in;
    memset(&in, 0, sizeof in);
    model m;
    optimizer opt;
    train_state st;
    metrics_report rep;
    int have_in = 0, have_model = 0, have_opt = 0, have_state = 0, have_rep = 0;
    int *truth = NULL, kt = 0, *labels = NULL, *labels_all = NULL;
    float *z = NULL;
    double *q = NULL, *q_all = NULL, *centroids = NULL;
    void *blob = NULL;
    size_t blob_bytes = 0;
    checkpoint_extra extra;
    memset(&extra, 0, sizeof extra);
    train_folder tf;
    status = train_folder_open(comm, &tf, dir, resume != NULL, cli_flag(&cmd, "force"), files, nfiles, cli_get(&cmd, "truth"));
    if (status != DSC_OK) goto done;

    if (resume) {
        struct stat sb;
        status = stat(ckpt_path, &sb) == 0      ? DSC_OK
                 : stat(model_path, &sb) == 0 ? dsc_fail("dsc train: --resume %s: the run in that folder is finished "
                                                         "(model.ckpt, no checkpoint.ckpt); train anew with -o", resume)
                                              : dsc_fail("dsc train: --resume %s: no checkpoint.ckpt in that folder (%s); give "
                                                         "the output folder of a run that was stopped", resume, strerror(errno));
        if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
        if (rank == 0) remove_stale_checkpoints(resume);
        model_config saved;
        if ((status = checkpoint_read_config(comm, ckpt_path, &saved, NULL, NULL)) != DSC_OK) goto done;
    }

    status = run_input_load(comm, files, nfiles, &eo, &po, NULL, &in);
    if (status != DSC_OK) goto done;
    have_in = 1;
    phases[0] = in.t_read;
    phases[1] = in.t_preprocess;
    const long long T = in.cat.ntime;
    long long t0, n;
    block_range(T, nranks, rank, &t0, &n);
    if (to.k >= T) status = dsc_fail("dsc train: -k %d clusters for %lld time steps; give fewer clusters than time steps", to.k, T);
    else if (to.batch > T) /* one window of --steps per time step: T samples in an epoch */
        status = dsc_fail("dsc train: option --batch: %d is more than the %lld samples (time steps) of the input; give "
                          "--batch %lld or less", to.batch, T, T);
    else if (to.batch < nranks && rank == 0)
        dsc_warn("--batch %d on %d ranks: %d rank%s no sample in a step and only wait%s; give --batch %d or more, or "
                 "fewer ranks", to.batch, nranks, nranks - to.batch, nranks - to.batch == 1 ? " gets" : "s get",
                 nranks - to.batch == 1 ? "s" : "", nranks);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (to.pretrain_epochs < 0) to.pretrain_epochs = train_auto_epochs(T);
    mc.vars = in.stats.nvars;
    const int padded = model_pads_grid(&mc); /* dec takes the real cells: no zero padding */
    mc.height = padded ? in.stats.height : in.stats.nlat;
    mc.width = padded ? in.stats.width : in.stats.nlon;
    if (!padded) preprocess_unpad(&in.stats, in.x, n);
    const int local_batch = (int)((to.batch + nranks - 1) / nranks);
    status = model_create(&m, &mc, local_batch > LATENT_PASS_BATCH ? local_batch : LATENT_PASS_BATCH);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    have_model = 1;
    mc.latent = m.cfg.latent; /* derived from the grid by --variant dtc */
    status = model_init(&m, to.seed);
    if (status == DSC_OK) {
        status = optimizer_create(&opt, &oc, m.nparams);
        have_opt = status == DSC_OK;
    }
    if (status == DSC_OK) {
        status = train_state_create(&st, T, to.k);
        have_state = status == DSC_OK;
    }
    if (status == DSC_OK) status = run_stats_blob(&in.stats, &blob, &blob_bytes);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    data_fingerprint(&in, st.fingerprint);
    st.alpha = to.alpha;

    if (resume) {
        status = checkpoint_load(comm, ckpt_path, &m, &opt, &extra);
        if (status != DSC_OK) goto done;
        double fp[8];
        memcpy(fp, st.fingerprint, sizeof fp);
        status = train_state_unpack(&st, extra.state, extra.state_bytes, ckpt_path);
        if (status == DSC_OK && memcmp(fp, st.fingerprint, sizeof fp) != 0)
            status = dsc_fail("%s: the run was trained on other data (time steps, variables or grid differ); resume with "
                              "the inputs of %s/config.txt", ckpt_path, dir);
        if (status == DSC_OK && !run_stats_blob_matches(extra.blob, extra.blob_bytes, blob, blob_bytes))
            status = dsc_fail("%s: the normalisation of these inputs differs from the run's; resume with the inputs and "
                              "pre-processing options of %s/config.txt", ckpt_path, dir);
        const long done_joint = st.iteration - (m.has_decoder ? (long)to.pretrain_epochs * (long)((T + to.batch - 1) / to.batch) : 0);
        if (status == DSC_OK && done_joint > to.max_iter)
            status = dsc_fail("dsc train: --resume %s: option --max-iter %ld: the run has done %ld joint steps already; give "
                              "at least %ld", dir, to.max_iter, done_joint, done_joint);
        if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
        to.resumed_from = st.iteration;
        if (rank == 0 && to.verbose >= 1) printf("dsc train: resuming %s at step %ld\n", dir, st.iteration);
    } else if (rank == 0 && to.verbose >= 1) {
        char arch[256];
        model_config_format(&mc, arch, sizeof arch);
        printf("dsc train: %lld time steps, %d x %d grid, %d variables, %d ranks; model %s (%zu parameters), K = %d\n", T,
               in.cat.nlat, in.cat.nlon, in.cat.nvars, nranks, arch, m.nparams, to.k);
        if (m.has_decoder) {
            long long per_epoch = (T + to.batch - 1) / to.batch;
            printf("dsc train: pre-training %d epochs, %lld step%s of batch %d each%s\n", to.pretrain_epochs, per_epoch,
                   per_epoch == 1 ? "" : "s", to.batch, strcmp(cli_get(&cmd, "pretrain-epochs"), "auto") ? "" : " (--pretrain-epochs auto)");
        }
        fflush(stdout);
    }

    if (cli_get(&cmd, "truth") && status == DSC_OK) {
        truth = dsc_malloc((size_t)T * sizeof(int), "truth labels");
        status = truth ? DSC_OK : DSC_ERR;
    }
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    if (truth && (status = run_truth_load(comm, cli_get(&cmd, "truth"), &in.cat, eo.daily_mean, truth, &kt)) != DSC_OK) goto done;

    run_begin rb = {.tf = &tf, .cmd = &cmd, .files = files, .nfiles = nfiles, .resumed = resume ? st.iteration : -1};
    to.before_checkpoint = begin_run;
    to.before_checkpoint_ctx = &rb;
    train_catch_signals();
    train_timings tt;
    status = train_run(comm, &m, &opt, in.x, T, &to, &st, blob, blob_bytes, &tt);
    phases[2] = tt.pretrain;
    phases[3] = tt.kmeans;
    phases[4] = tt.joint_compute;
    phases[5] = tt.joint_allreduce;
    phases[6] = tt.update;
    if (status != DSC_OK) goto done;

    /* final labels: argmax of q with the trained model */
    double te = MPI_Wtime();
    const int K = to.k, L = mc.latent;
    z = dsc_malloc(((size_t)n * L + 1) * sizeof(float), "latent vectors");
    q = dsc_malloc(((size_t)n * K + 1) * sizeof(double), "soft assignments");
    labels = dsc_malloc(((size_t)n + 1) * sizeof(int), "labels");
    labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
    centroids = dsc_malloc((size_t)K * L * sizeof(double), "centroids");
    if (rank == 0) q_all = dsc_malloc((size_t)T * K * sizeof(double), "soft assignments");
    const size_t d_real = (size_t)in.stats.nvars * in.stats.nlat * in.stats.nlon;
    status = z && q && labels && labels_all && centroids && (rank != 0 || q_all) ? DSC_OK : DSC_ERR;
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    status = train_soft_assign(comm, &m, in.x, T, to.alpha, z, q);
    if (status != DSC_OK) goto done;
    clustering_hard_labels(labels, q, n, K);
    run_allgather_ints(comm, labels, T, labels_all);
    run_gather_rows(comm, q, T, K, q_all);
    for (size_t i = 0; i < (size_t)K * L; i++) centroids[i] = m.centroids[i];

    /* metrics of the final labels on the normalised input matrix (real cells) */
    if (padded) preprocess_unpad(&in.stats, in.x, n); /* the network's frames are no longer needed */
    metrics_data md = {.ntotal = T, .n = n, .d = (int)d_real, .x = in.x, .labels = labels, .k = K};
    long sample = 0;
    status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    pairwise_options popt = {.sample = sample, .seed = to.seed, .tile = 0};
    status = metrics_report_compute(comm, &md, &popt, truth, kt, labels_all, &rep);
    if (status != DSC_OK) goto done;
    have_rep = 1;
    phases[7] = MPI_Wtime() - te;

    /* outputs, into the staging folder first */
    double tw = MPI_Wtime();
    status = train_folder_stage(comm, &tf, outputs_bytes(&in.cat, K, L, m.nparams, blob_bytes, train_state_bytes(&st)));
    if (status != DSC_OK) goto done;
    const char *out = tf.staging;
    path_join(model_path, sizeof model_path, out, "model.ckpt");
    status = dsc_agree(comm, rank == 0 ? write_config(out, &cmd, files, nfiles, rb.resumed) : DSC_OK);
    if (status == DSC_OK) status = run_output_labels(comm, out, &in.cat, labels_all, q_all, K);
    if (status == DSC_OK) status = run_output_latent(comm, out, &in.cat, z, t0, n, L);
    if (status == DSC_OK) status = run_output_centroids(comm, out, centroids, K, L, "latent");
    if (status == DSC_OK) status = run_output_composites(comm, out, &in.cat, &in.samples, labels_all, K);
    if (status == DSC_OK) {
        /* inference checkpoint: model, centroids, normalisation and the final training state */
        size_t nbytes = train_state_bytes(&st);
        void *sbuf = dsc_malloc(nbytes, "training state");
        status = dsc_agree(comm, sbuf ? DSC_OK : DSC_ERR);
        if (status == DSC_OK) {
            train_state_pack(&st, sbuf);
            checkpoint_extra x = {.iteration = st.iteration, .blob = blob, .blob_bytes = blob_bytes, .state = sbuf,
                                  .state_bytes = nbytes};
            status = checkpoint_save(comm, model_path, &m, NULL, &x);
        }
        free(sbuf);
    }
    if (status != DSC_OK) goto done;
    phases[8] = MPI_Wtime() - tw;
    const long npre = m.has_decoder ? (long)to.pretrain_epochs * (long)((T + to.batch - 1) / to.batch) : 0;
    status = write_metrics(comm, out, &rep, &st, phases, &to, &mc, T, nranks, st.iteration - npre);
    if (status == DSC_OK) status = train_folder_commit(comm, &tf);
    if (status != DSC_OK) goto done;
    if (rank == 0) {
        remove(ckpt_path); /* the run is complete: model.ckpt holds the result */
        if (to.verbose >= 1) {
            printf("dsc train: done in %.1f s; wrote %s/labels.csv, labels.nc, latent.nc, centroids.nc, composites.nc, "
                   "metrics.json, model.ckpt\n", MPI_Wtime() - t_start, dir);
            metrics_report_print(stdout, &rep, "dsc train");
        }
        fflush(stdout);
    }

done:
    train_folder_end(&tf, status);
    if (have_rep) metrics_report_destroy(&rep);
    free(extra.blob);
    free(extra.state);
    free(blob);
    free(z);
    free(q);
    free(q_all);
    free(labels);
    free(labels_all);
    free(centroids);
    free(truth);
    if (have_state) train_state_destroy(&st);
    if (have_opt) optimizer_destroy(&opt);
    if (have_model) model_destroy(&m);
    if (have_in) run_input_destroy(&in);
    cli_free(&cmd);
    return status;
}
