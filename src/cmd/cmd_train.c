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
#include "run_json.h"
#include "run_options.h"
#include "run_stats_blob.h"
#include "run_output.h"
#include "persistence_option.h"
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
    {"persistence", 0, "Nd|0", "0", "regimes along time: the final labels decoded along time (the jump model on -log q) "
                                    "with the penalty per switch that gives episodes of N days on average, kept in "
                                    "model.ckpt for dsc predict; 0: every time step on its own (the paper)"},
    {"persistence-target", 0, NULL, NULL, "with --persistence: also the target of the clustering loss along time (the "
                                          "forward-backward posterior of a regime chain of N-day episodes, sharpened as "
                                          "eq. 4; measured worse on planted regimes, doc/results.md)"},
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
    if (st == DSC_OK) st = persistence_option_days("train", cli_get(cmd, "persistence"), &to->persistence_days);
    if (st == DSC_OK && cli_flag(cmd, "persistence-target") && !(to->persistence_days > 0))
        st = dsc_fail("dsc train: option --persistence-target needs --persistence Nd (the mean episode length of the regime chain)");
    to->persistence_target = cli_flag(cmd, "persistence-target");
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

/* What write_config_once writes config.txt from. */
typedef struct {
    train_folder *tf;
    const cli_command *cmd;
    char **files;
    int nfiles;
    long resumed; /* the step resumed from, -1: a new run */
    int done;
} config_begin;

/* Collective, train_options.before_checkpoint: config.txt, which --resume
 * reads next to the checkpoint, written before the run's first one and no
 * earlier, so that a run that fails or is killed before leaves the folder's
 * config.txt as it was (the outputs bring their own). */
static int write_config_once(MPI_Comm comm, void *arg)
{
    config_begin *b = arg;
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

/* What metrics.json records of the training besides the report. */
typedef struct {
    const train_state *st;
    const train_options *to;
    const model_config *mc;
    long long T;
    int nranks;
    long joint_steps;
    const double *mx, *sum;        /* (NPHASES) over the ranks */
} train_json;

static void train_json_head(FILE *f, const void *ctx)
{
    const train_json *j = ctx;
    fprintf(f, "  \"variant\": \"%s\",\n  \"clusters\": %d,\n  \"steps\": %d,\n", model_variant_name(j->mc->variant), j->to->k,
            j->mc->steps);
    fprintf(f, "  \"time_steps\": %lld,\n  \"ranks\": %d,\n  \"pretrain_epochs\": %d,\n  \"joint_steps\": %ld,\n", j->T,
            j->nranks, j->to->pretrain_epochs, j->joint_steps);
    fprintf(f, "  \"converged\": %s,\n", j->st->converged ? "true" : "false");
    if (j->to->chain.switch_prob > 0) {
        fputs("  \"persistence\": {\"target_days\": ", f);
        json_write_key_number(f, j->to->persistence_days, -1, "persistence target_days");
        fputs(", \"switch_prob\": ", f);
        json_write_key_number(f, j->to->chain.switch_prob, -1, "persistence switch_prob");
        fputs(", \"penalty\": ", f);
        json_write_key_number(f, j->st->penalty, -1, "persistence penalty");
        fprintf(f, ", \"target\": \"%s\"},\n", j->to->persistence_target ? "along time" : "per time step");
    }
    fprintf(f, "  \"metric_space\": \"input\",\n");
}

/* The losses of the pre-training and the history of the joint training. */
static void train_json_tail(FILE *f, const void *ctx)
{
    const train_state *st = ((const train_json *)ctx)->st;
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
    fprintf(f, "\n  ],\n");
}

static void train_json_timings(FILE *f, const void *ctx)
{
    const train_json *j = ctx;
    for (int i = 0; i < NPHASES; i++) {
        const json_figure phase[] = {{"max", j->mx[i], 4}, {"mean", j->sum[i] / j->nranks, 4}};
        fprintf(f, "%s\n    \"%s\": {", i ? "," : "", phase_names[i]);
        json_write_figures(f, phase, 2);
        fprintf(f, "}");
    }
    fprintf(f, "\n  ");
}

/* Collective: metrics.json in dir (rank 0). */
static int write_metrics(MPI_Comm comm, const char *dir, const metrics_report *rep, const train_state *st,
                         const double *phases, const train_options *to, const model_config *mc, long long T, int nranks,
                         long joint_steps, const regime_stats *regimes)
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
        train_json ctx = {st, to, mc, T, nranks, joint_steps, mx, sum};
        run_json j = {.command = "train", .head = train_json_head, .rep = rep, .tail = train_json_tail, .regimes = regimes,
                      .timings_fn = train_json_timings, .ctx = &ctx};
        status = run_json_write(path, &j);
    }
    return dsc_agree(comm, status);
}

/* What dsc_train works with, from the folder to the final labels. */
typedef struct {
    train_params *p;
    train_options to;              /* p->to with what the run settles: epochs, checkpoint path, resumed step */
    model_config mc;               /* p->mc with the data's grid */
    char ckpt_path[DSC_PATH_MAX], model_path[TRAIN_FOLDER_PATH + 16];
    train_folder tf;
    model m;
    optimizer opt;
    train_state st;
    int have_model, have_opt, have_state, padded;
    void *blob;                    /* the normalisation, as the checkpoints carry it */
    size_t blob_bytes;
    config_begin cb;
    float *z;                      /* (N, L) latent vectors */
    double *q, *centroids;         /* (N, K) soft assignments, (K, L) */
    int *labels;                   /* (N) */
    long long *segments;           /* --persistence: starts of the record's contiguous segments */
    double phases[NPHASES];
} train_work;

/* Collective: the output folder taken (train_folder.h); with --resume its
 * checkpoint.ckpt must be there. */
static int train_open(MPI_Comm comm, train_work *w)
{
    const train_params *p = w->p;
    const char *dir = p->run.dir, *resume = p->resume;
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = train_folder_open(comm, &w->tf, dir, resume != NULL, p->run.force, p->run.files, p->run.nfiles, p->run.truth);
    if (status != DSC_OK || !resume) return status;
    struct stat sb;
    status = stat(w->ckpt_path, &sb) == 0      ? DSC_OK
             : stat(w->model_path, &sb) == 0 ? dsc_fail("dsc train: --resume %s: the run in that folder is finished "
                                                        "(model.ckpt, no checkpoint.ckpt); train anew with -o", resume)
                                             : dsc_fail("dsc train: --resume %s: no checkpoint.ckpt in that folder (%s); give "
                                                        "the output folder of a run that was stopped", resume, strerror(errno));
    if ((status = dsc_agree(comm, status)) != DSC_OK) return status;
    if (rank == 0) remove_stale_checkpoints(resume);
    model_config saved;
    return checkpoint_read_config(comm, w->ckpt_path, &saved, NULL, NULL);
}

/* Collective: -k and --batch against the time steps read. */
static int train_check_data(const run_state *r, const train_options *to)
{
    const long long T = r->T;
    const int nranks = r->nranks;
    int status = DSC_OK;
    if (to->k >= T) status = dsc_fail("dsc train: -k %d clusters for %lld time steps; give fewer clusters than time steps", to->k, T);
    else if (to->batch > T) /* one window of --steps per time step: T samples in an epoch */
        status = dsc_fail("dsc train: option --batch: %d is more than the %lld samples (time steps) of the input; give "
                          "--batch %lld or less", to->batch, T, T);
    else if (to->batch < nranks && r->rank == 0)
        dsc_warn("--batch %d on %d ranks: %d rank%s no sample in a step and only wait%s; give --batch %d or more, or "
                 "fewer ranks", to->batch, nranks, nranks - to->batch, nranks - to->batch == 1 ? " gets" : "s get",
                 nranks - to->batch == 1 ? "s" : "", nranks);
    return dsc_agree(r->comm, status);
}

/* Collective, --persistence Nd: the regime chain of N days in time steps of
 * these data, inside the record's segments (a gap ends an episode). */
static int train_chain(run_state *r, train_work *w)
{
    if (!(w->to.persistence_days > 0)) return DSC_OK;
    return persistence_option_chain(r, "train", w->to.persistence_days, &w->to.chain, &w->segments);
}

/* Collective: the network for the data's grid, initialised from --seed,
 * its optimizer, the training state and the normalisation blob. */
static int train_model(run_state *r, train_work *w)
{
    if (w->to.pretrain_epochs < 0) w->to.pretrain_epochs = train_auto_epochs(r->T);
    w->mc.vars = r->in.stats.nvars;
    w->padded = model_pads_grid(&w->mc); /* dec takes the real cells: no zero padding */
    w->mc.height = w->padded ? r->in.stats.height : r->in.stats.nlat;
    w->mc.width = w->padded ? r->in.stats.width : r->in.stats.nlon;
    if (!w->padded) run_unpad(r);
    const int local_batch = (int)((w->to.batch + r->nranks - 1) / r->nranks);
    int status = model_create(&w->m, &w->mc, local_batch > LATENT_PASS_BATCH ? local_batch : LATENT_PASS_BATCH);
    if ((status = dsc_agree(r->comm, status)) != DSC_OK) return status;
    w->have_model = 1;
    w->mc.latent = w->m.cfg.latent; /* derived from the grid by --variant dtc */
    status = model_init(&w->m, w->to.seed);
    if (status == DSC_OK) {
        status = optimizer_create(&w->opt, &w->p->oc, w->m.nparams);
        w->have_opt = status == DSC_OK;
    }
    if (status == DSC_OK) {
        status = train_state_create(&w->st, r->T, w->to.k);
        w->have_state = status == DSC_OK;
    }
    if (status == DSC_OK) status = run_stats_blob(&r->in.stats, &w->blob, &w->blob_bytes);
    if ((status = dsc_agree(r->comm, status)) != DSC_OK) return status;
    data_fingerprint(&r->in, w->st.fingerprint);
    w->st.alpha = w->to.alpha;
    w->st.switch_prob = w->to.chain.switch_prob;
    return DSC_OK;
}

/* Collective, --resume: the model, optimizer and state of checkpoint.ckpt,
 * which must come from the same data, normalisation and a --max-iter not
 * below the joint steps done. */
static int train_resume(run_state *r, train_work *w)
{
    const char *dir = w->p->run.dir;
    checkpoint_extra extra;
    memset(&extra, 0, sizeof extra);
    int status = checkpoint_load(r->comm, w->ckpt_path, &w->m, &w->opt, &extra);
    if (status == DSC_OK) {
        double fp[8];
        memcpy(fp, w->st.fingerprint, sizeof fp);
        status = train_state_unpack(&w->st, extra.state, extra.state_bytes, w->ckpt_path);
        if (status == DSC_OK && memcmp(fp, w->st.fingerprint, sizeof fp) != 0)
            status = dsc_fail("%s: the run was trained on other data (time steps, variables or grid differ); resume with "
                              "the inputs of %s/config.txt", w->ckpt_path, dir);
        if (status == DSC_OK && !run_stats_blob_matches(extra.blob, extra.blob_bytes, w->blob, w->blob_bytes))
            status = dsc_fail("%s: the normalisation of these inputs differs from the run's; resume with the inputs and "
                              "pre-processing options of %s/config.txt", w->ckpt_path, dir);
        const train_options *to = &w->to;
        const long done_joint =
            w->st.iteration - (w->m.has_decoder ? (long)to->pretrain_epochs * (long)((r->T + to->batch - 1) / to->batch) : 0);
        if (status == DSC_OK && done_joint > to->max_iter)
            status = dsc_fail("dsc train: --resume %s: option --max-iter %ld: the run has done %ld joint steps already; give "
                              "at least %ld", dir, to->max_iter, done_joint, done_joint);
        status = dsc_agree(r->comm, status);
    }
    free(extra.blob);
    free(extra.state);
    if (status != DSC_OK) return status;
    w->to.resumed_from = w->st.iteration;
    if (r->rank == 0 && w->to.verbose >= 1) printf("dsc train: resuming %s at step %ld\n", dir, w->st.iteration);
    return DSC_OK;
}

/* Rank 0: what a new run is about to do. */
static void train_banner(const run_state *r, const train_work *w)
{
    const train_options *to = &w->to;
    char arch[256];
    model_config_format(&w->mc, arch, sizeof arch);
    printf("dsc train: %lld time steps, %d x %d grid, %d variables, %d ranks; model %s (%zu parameters), K = %d\n", r->T,
           r->in.cat.nlat, r->in.cat.nlon, r->in.cat.nvars, r->nranks, arch, w->m.nparams, to->k);
    if (w->m.has_decoder) {
        long long per_epoch = (r->T + to->batch - 1) / to->batch;
        printf("dsc train: pre-training %d epochs, %lld step%s of batch %d each%s\n", to->pretrain_epochs, per_epoch,
               per_epoch == 1 ? "" : "s", to->batch, strcmp(cli_get(w->p->cmd, "pretrain-epochs"), "auto") ? "" : " (--pretrain-epochs auto)");
    }
    fflush(stdout);
}

/* Collective: the training (train.c), config.txt before its first
 * checkpoint; SIGTERM / SIGUSR1 stop it (DSC_STOPPED). */
static int train_fit(run_state *r, train_work *w)
{
    const train_params *p = w->p;
    w->cb = (config_begin){.tf = &w->tf, .cmd = p->cmd, .files = p->run.files, .nfiles = p->run.nfiles,
                           .resumed = p->resume ? w->st.iteration : -1};
    w->to.before_checkpoint = write_config_once;
    w->to.before_checkpoint_ctx = &w->cb;
    train_catch_signals();
    train_timings tt;
    int status = train_run(r->comm, &w->m, &w->opt, r->in.x, r->T, &w->to, &w->st, w->blob, w->blob_bytes, &tt);
    w->phases[2] = tt.pretrain;
    w->phases[3] = tt.kmeans;
    w->phases[4] = tt.joint_compute;
    w->phases[5] = tt.joint_allreduce;
    w->phases[6] = tt.update;
    return status;
}

/* Collective: the final labels, argmax of q with the trained model (with
 * --persistence: decoded along time), gathered, and their metrics on the
 * normalised input matrix. */
static int train_label(run_state *r, train_work *w)
{
    double te = MPI_Wtime();
    const int K = w->to.k, L = w->mc.latent;
    const long long n = r->n;
    w->z = dsc_malloc(((size_t)n * L + 1) * sizeof(float), "latent vectors");
    w->q = dsc_malloc(((size_t)n * K + 1) * sizeof(double), "soft assignments");
    w->labels = dsc_malloc(((size_t)n + 1) * sizeof(int), "labels");
    w->centroids = dsc_malloc((size_t)K * L * sizeof(double), "centroids");
    int status = w->z && w->q && w->labels && w->centroids ? DSC_OK : DSC_ERR;
    if ((status = dsc_agree(r->comm, status)) != DSC_OK) return status;
    status = latent_soft_assign(r->comm, &w->m, r->in.x, r->T, w->to.alpha, w->z, w->q);
    if (status != DSC_OK) return status;
    if (w->to.chain.switch_prob > 0) { /* along time, the penalty chosen on these q; predict keeps it */
        regime_chain c = w->to.chain;
        if ((status = clustering_persistent_labels_dist(r->comm, w->q, r->T, K, &c, w->labels)) != DSC_OK) return status;
        w->st.penalty = c.penalty;
    } else
        clustering_hard_labels(w->labels, w->q, n, K);
    if ((status = run_gather(r, w->labels, w->q, K)) != DSC_OK) return status;
    for (size_t i = 0; i < (size_t)K * L; i++) w->centroids[i] = w->m.centroids[i];
    /* the network's frames are no longer needed: the metrics take the real cells */
    status = run_evaluate(r, K, w->to.seed);
    w->phases[7] = MPI_Wtime() - te;
    return status;
}

/* run_write_outputs: latent.nc and centroids.nc. */
static int train_outputs(run_state *r, const char *dir, void *ctx)
{
    const train_work *w = ctx;
    int status = run_output_latent(r->comm, dir, &r->in.cat, w->z, r->t0, r->n, w->mc.latent);
    if (status == DSC_OK) status = run_output_centroids(r->comm, dir, w->centroids, w->to.k, w->mc.latent, "latent");
    return status;
}

/* Collective: the inference checkpoint: model, centroids, normalisation and
 * the final training state. */
static int train_save_model(MPI_Comm comm, train_work *w)
{
    size_t nbytes = train_state_bytes(&w->st);
    void *sbuf = dsc_malloc(nbytes, "training state");
    int status = dsc_agree(comm, sbuf ? DSC_OK : DSC_ERR);
    if (status == DSC_OK) {
        train_state_pack(&w->st, sbuf);
        checkpoint_extra x = {.iteration = w->st.iteration, .blob = w->blob, .blob_bytes = w->blob_bytes, .state = sbuf,
                              .state_bytes = nbytes};
        status = checkpoint_save(comm, w->model_path, &w->m, NULL, &x);
    }
    free(sbuf);
    return status;
}

/* Collective: the outputs into the staging folder (config.txt, labels,
 * latent.nc, centroids.nc, composites.nc, model.ckpt, metrics.json), then
 * renamed into the folder together. */
static int train_write(run_state *r, train_work *w)
{
    double tw = MPI_Wtime();
    const int K = w->to.k, L = w->mc.latent;
    int status = train_folder_stage(r->comm, &w->tf, outputs_bytes(&r->in.cat, K, L, w->m.nparams, w->blob_bytes,
                                                                   train_state_bytes(&w->st)));
    if (status != DSC_OK) return status;
    const char *out = w->tf.staging;
    path_join(w->model_path, sizeof w->model_path, out, "model.ckpt");
    status = dsc_agree(r->comm, r->rank == 0 ? write_config(out, w->p->cmd, w->p->run.files, w->p->run.nfiles, w->cb.resumed)
                                             : DSC_OK);
    if (status == DSC_OK) status = run_write_outputs(r, out, K, train_outputs, w);
    if (status == DSC_OK) status = train_save_model(r->comm, w);
    if (status != DSC_OK) return status;
    w->phases[8] = MPI_Wtime() - tw;
    const train_options *to = &w->to;
    const long npre = w->m.has_decoder ? (long)to->pretrain_epochs * (long)((r->T + to->batch - 1) / to->batch) : 0;
    status = write_metrics(r->comm, out, &r->rep, &w->st, w->phases, to, &w->mc, r->T, r->nranks, w->st.iteration - npre,
                           r->have_regimes ? &r->regimes : NULL);
    if (status == DSC_OK) status = train_folder_commit(r->comm, &w->tf);
    return status;
}

static void train_free(train_work *w)
{
    free(w->blob);
    free(w->z);
    free(w->q);
    free(w->labels);
    free(w->centroids);
    free(w->segments);
    if (w->have_state) train_state_destroy(&w->st);
    if (w->have_opt) optimizer_destroy(&w->opt);
    if (w->have_model) model_destroy(&w->m);
}

int dsc_train(MPI_Comm comm, train_params *p)
{
    train_work w;
    memset(&w, 0, sizeof w);
    w.p = p;
    w.to = p->to;
    w.mc = p->mc;
    const char *dir = p->run.dir;
    path_join(w.ckpt_path, sizeof w.ckpt_path, dir, "checkpoint.ckpt");
    path_join(w.model_path, sizeof w.model_path, dir, "model.ckpt");
    w.to.checkpoint_path = w.ckpt_path;
    run_state r;
    run_state_init(&r, comm, &p->run);
    int status = train_open(comm, &w);
    if (status == DSC_OK) status = run_read(&r, NULL);
    if (status == DSC_OK) {
        w.phases[0] = r.in.t_read;
        w.phases[1] = r.in.t_preprocess;
        status = train_check_data(&r, &w.to);
    }
    if (status == DSC_OK) status = train_chain(&r, &w);
    if (status == DSC_OK) status = train_model(&r, &w);
    if (status == DSC_OK && p->resume) status = train_resume(&r, &w);
    else if (status == DSC_OK && r.rank == 0 && w.to.verbose >= 1) train_banner(&r, &w);
    if (status == DSC_OK) status = run_truth(&r);
    if (status == DSC_OK) status = train_fit(&r, &w);
    if (status == DSC_OK) status = train_label(&r, &w);
    if (status == DSC_OK) status = train_write(&r, &w);
    if (status == DSC_OK && r.rank == 0) {
        remove(w.ckpt_path); /* the run is complete: model.ckpt holds the result */
        if (w.to.verbose >= 1) {
            printf("dsc train: done in %.1f s; wrote %s/labels.csv, labels.nc, latent.nc, centroids.nc, composites.nc, "
                   "metrics.json, model.ckpt\n", MPI_Wtime() - r.t_start, dir);
            metrics_report_print(stdout, &r.rep, "dsc train");
        }
        fflush(stdout);
    }
    train_folder_end(&w.tf, status);
    train_free(&w);
    run_end(&r);
    return status;
}

void train_cli(cli_command *cmd)
{
    *cmd = (cli_command){
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
}

int train_cli_set(cli_command *cmd, const char *name, const char *value)
{
    for (int i = 0; i < cmd->noptions; i++)
        if (!strcmp(cmd->options[i].name, name)) {
            cmd->values[i] = value;
            cmd->given[i] = 1;
            return DSC_OK;
        }
    return dsc_fail("dsc train: internal: no option --%s", name);
}

int train_params_from_cli(cli_command *cmd, char **files, int nfiles, train_params *p)
{
    const char *resume = cli_get(cmd, "resume");
    int status = run_params_from_cli(cmd, "train", 1, &p->run);
    p->cmd = cmd;
    p->resume = resume;
    p->run.files = files;
    p->run.nfiles = nfiles;
    p->run.dir = resume ? resume : cli_get(cmd, "output");
    if (status == DSC_OK) dec_latent_default(cmd);
    if (status == DSC_OK) status = read_settings(cmd, &p->mc, &p->oc, &p->to);
    if (status == DSC_OK) status = cli_long(cmd, "sample", 0, 1L << 40, &p->run.sample);
    if (status == DSC_OK) status = run_check_sample("train", p->run.sample, p->mc.clusters);
    if (status == DSC_OK && !p->run.dir) status = dsc_fail("dsc train: option -o DIR is required (the output folder)");
    if (status == DSC_OK && resume && cli_given(cmd, "output") && strcmp(cli_get(cmd, "output"), resume) != 0)
        status = dsc_fail("dsc train: --resume %s writes into %s; drop -o or give the same folder", resume, resume);
    if (status == DSC_OK && nfiles == 0) status = dsc_fail("dsc train: no input files; give the ERA5 netCDF files after the options");
    return status;
}

int train_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    cli_command cmd;
    train_cli(&cmd);
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    /* --resume DIR and --config FILE: the options of a file, the command line's winning */
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
    train_params p;
    memset(&p, 0, sizeof p);
    if (status == DSC_OK) status = train_params_from_cli(&cmd, files, nfiles, &p);
    if (dsc_agree(comm, status) == DSC_OK) status = dsc_train(comm, &p);
    else status = DSC_ERR;
    cli_free(&cmd);
    return status;
}
