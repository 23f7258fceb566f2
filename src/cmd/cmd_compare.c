/*
 * cmd_compare.c - dsc compare: the paper's comparison (its Tables 2 and 3)
 * on the user's data in one command.  Every method runs on the same files
 * and ranks, once per seed, through the same function as its own subcommand
 * (dsc_kmeans, dsc_train, ...: commands.h), into DIR/runs/METHOD/seedN; then every
 * labelling is scored twice from data read once per space: on the
 * normalised raw matrix (the paper's metrics) and on the anomaly matrix
 * (the seasonal cycle removed), with ARI and NMI against --truth.
 * DIR/compare.csv and DIR/compare.md get one row per method: the mean and
 * standard deviation over seeds (the honest figure) and the best value
 * over seeds (the paper's convention), and the time per run.
 *
 *   mpirun -n 4 dsc compare -k 7 --seeds 5 --truth sample/truth.csv -o cmp sample/era5_*.nc
 */
#include "commands.h"
#include "cf_time.h"
#include "cli.h"
#include "era5_catalog.h"
#include "metrics.h"
#include "metrics_report.h"
#include "output_file.h"
#include "partition.h"
#include "preprocess.h"
#include "run_folder.h"
#include "run_options.h"
#include "run_regimes.h"
#include "run_skeleton.h"
#include "status.h"
#include "ward.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define COMPARE_MAX_WORDS 64 /* words of --train-options */
#define COMPARE_MAX_SEEDS 100
#define COMPARE_WARD_MIB 4096.0   /* dsc ward's default --max-memory, which its runs here get */

typedef enum { RUN_KMEANS, RUN_WARD, RUN_TRAIN } compare_runner;

/* A method: which command runs it and the options that make it what its
 * row says (compare.md shows them as that command's options). */
typedef struct {
    const char *name;
    compare_runner runner;
    int seeded;                    /* 0: deterministic, one run whatever --seeds says */
    int network;                   /* takes --train-options */
    const char *what;
    const char *variant;           /* --variant of dsc train; NULL: its default */
    int steps;                     /* --steps S of compare (dsc train) */
    int anomalies;                 /* --anomalies */
    const char *scaling;           /* --scaling of dsc train; NULL: its default */
    int cosine, pca;               /* --cosine, --pca N of compare (dsc kmeans) */
    int persistent;                /* --persistence Nd of compare (dsc kmeans, dsc train); 2: and --persistence-target */
} compare_method;

static const compare_method methods[] = {
    {"kmeans", RUN_KMEANS, 1, 0, "k-means on the normalised raw matrix (paper Table 2)", .variant = NULL},
    {"kmeans-anomalies", RUN_KMEANS, 1, 0, "k-means on the anomalies (the weather-regime standard)", .anomalies = 1},
    {"eof-kmeans", RUN_KMEANS, 1, 0, "anomalies, EOF truncation to --pca components, k-means: the climate-science standard",
     .anomalies = 1, .pca = 1},
    {"cosine-kmeans", RUN_KMEANS, 1, 0, "k-means on the anomalies, every time step centred and scaled to unit length (pattern, not intensity)",
     .anomalies = 1, .cosine = 1},
    {"kmeans-anomalies-persistent", RUN_KMEANS, 1, 0, "kmeans-anomalies with a penalty per regime switch along time (the jump "
     "model), chosen for episodes of --persistence days", .anomalies = 1, .persistent = 1},
    {"eof-kmeans-persistent", RUN_KMEANS, 1, 0, "eof-kmeans with the penalty per switch of --persistence", .anomalies = 1,
     .pca = 1, .persistent = 1},
    {"cosine-kmeans-persistent", RUN_KMEANS, 1, 0, "cosine-kmeans with the penalty per switch of --persistence",
     .anomalies = 1, .cosine = 1, .persistent = 1},
    {"ward", RUN_WARD, 0, 0, "agglomerative clustering with Ward linkage on the raw matrix (the paper's hierarchical)", .variant = NULL},
    {"dsc", RUN_TRAIN, 1, 1, "DSC, the CNN-LSTM autoencoder with the clustering layer, on the raw matrix (the paper)", .variant = NULL},
    {"dsc-anomalies", RUN_TRAIN, 1, 1, "DSC on per-cell scaled anomalies", .anomalies = 1, .scaling = "cell"},
    {"dsc-anomalies-persistent", RUN_TRAIN, 1, 1, "dsc-anomalies with its labels decoded along time (the jump model on -log q, "
     "episodes of --persistence days)", .anomalies = 1, .scaling = "cell", .persistent = 1},
    {"dsc-anomalies-persistent-target", RUN_TRAIN, 1, 1, "dsc-anomalies-persistent trained on the target along time too "
     "(--persistence-target)", .anomalies = 1, .scaling = "cell", .persistent = 2},
    {"cnn-encoder", RUN_TRAIN, 1, 1, "ablation: CNN encoder, clustering loss only (Table 3)", .variant = "cnn-encoder"},
    {"cnn-autoencoder", RUN_TRAIN, 1, 1, "ablation: CNN autoencoder (Table 3)", .variant = "cnn-autoencoder"},
    {"cnn-lstm-encoder", RUN_TRAIN, 1, 1, "ablation: CNN-LSTM encoder, clustering loss only (Table 3)", .variant = "cnn-lstm-encoder"},
    {"dsc-steps", RUN_TRAIN, 1, 1, "DSC with a sequence window of --steps consecutive time steps", .steps = 1},
    {"dec", RUN_TRAIN, 1, 1, "DEC: dense autoencoder, then its encoder on the clustering loss alone (paper Table 2)",
     .variant = "dec"},
    {"dtc", RUN_TRAIN, 1, 1, "DTC baseline: each field flattened to a 1-D sequence, Conv1D + BiLSTM autoencoder (paper Table 2)",
     .variant = "dtc"},
};
static const int nmethods = (int)(sizeof methods / sizeof methods[0]);

static const cli_option compare_options_table[] = {
    ERA5_CLI_OPTIONS,
    {"clusters", 'k', "K", "7", "number of clusters of every method"},
    {"output", 'o', "DIR", NULL, "output folder (required): compare.csv, compare.md and runs/METHOD/seedN/"},
    {"seeds", 0, "N", "5", "runs of every seeded method, with --seed 1..N"},
    {"methods", 0, "LIST", "all", "comma-separated subset of: kmeans, kmeans-anomalies, eof-kmeans, cosine-kmeans, "
                                  "kmeans-anomalies-persistent, eof-kmeans-persistent, cosine-kmeans-persistent, ward, dsc, "
                                  "dsc-anomalies, dsc-anomalies-persistent, dsc-anomalies-persistent-target, cnn-encoder, cnn-autoencoder, cnn-lstm-encoder, dsc-steps, dec, dtc (ward keeps T (T - 1) / 2 distances "
                                  "on rank 0: leave it out beyond ~32,000 time steps)"},
    {"pca", 0, "N", "10", "principal components of the eof-kmeans methods"},
    {"steps", 0, "S", "3", "sequence window of the dsc-steps method"},
    {"persistence", 0, "Nd", "5d", "mean episode length of the *-persistent methods (their --persistence Nd)"},
    {"train-options", 0, "OPTS", NULL, "training settings added to every dsc train run (e.g. \"--conv 8,8,16,32,64 --max-iter 200\"): "
                                        "optimiser, schedule, network sizes; options that define the experiment (-k, --seed, --variant, "
                                        "--steps, data, pre-processing, outputs) are refused, naming compare's own"},
    RUN_CLI_OPTIONS,
};

typedef struct {
    int method;
    int seed;
    double seconds;
    /* space 0: raw, 1: anomalies */
    double silhouette[2], davies_bouldin[2];
    double ari, nmi;
    int nclusters;                 /* non-empty clusters of the labelling */
    double episode_days;           /* mean episode length of the labelling (run_regimes.h) */
} compare_run;

static int method_find(const char *name, size_t len)
{
    for (int m = 0; m < nmethods; m++)
        if (strlen(methods[m].name) == len && strncmp(methods[m].name, name, len) == 0) return m;
    return -1;
}

/* What --train-options may carry: the training settings of dsc train that
 * shape how every network learns (optimiser, schedule, network sizes), the
 * same for every network method.  Every other option of dsc train defines
 * the experiment - its data, its clusters, its seeds, its method, where it
 * writes - and compare sets those itself for every method and for the
 * scoring, so a copy inside --train-options would make a row say one thing
 * and run another: refused before any method runs, naming compare's own
 * option (instead != NULL).  An option of dsc train missing here is refused
 * as unknown until it is sorted into one of the two groups. */
typedef struct {
    const char *name;
    char short_name;
    int takes_value;
    const char *instead;           /* NULL: passed on to dsc train */
} train_option;

#define DATA_SAME(opt) "every method and the scoring read the same data: use compare's own " opt
static const char prep_fixed[] = "it changes the method a row names; the methods define their pre-processing (dsc: the normalised raw "
                                 "matrix; dsc-anomalies: "
                                 "--anomalies --scaling cell with the harmonic climatology of 3 harmonics, as the scoring); "
                                 "choose the methods with --methods";

static const train_option train_settings[] = {
    {"batch", 'b', 1, NULL}, {"optimizer", 0, 1, NULL}, {"lr", 0, 1, NULL}, {"joint-lr", 0, 1, NULL},
    {"momentum", 0, 1, NULL}, {"max-iter", 0, 1, NULL}, {"pretrain-epochs", 0, 1, NULL}, {"update-interval", 0, 1, NULL},
    {"tol", 0, 1, NULL}, {"patience", 0, 1, NULL}, {"alpha", 0, 1, NULL}, {"gamma", 0, 1, NULL},
    {"conv", 0, 1, NULL}, {"lstm", 0, 1, NULL}, {"latent", 0, 1, NULL}, {"dense", 0, 1, NULL},
    {"dropout", 0, 1, NULL}, {"dtc-filters", 0, 1, NULL}, {"dtc-kernel", 0, 1, NULL}, {"dtc-pool", 0, 1, NULL},
    {"dtc-lstm", 0, 1, NULL}, {"kmeans-init", 0, 1, NULL}, {"checkpoint-every", 0, 1, NULL}, {"check-replicas", 0, 0, NULL},
    {"clusters", 'k', 1, "compare sets the clusters of every method and of compare.md: use compare's own -k K"},
    {"seed", 0, 1, "compare sets the seeds: use compare's --seeds N (every seeded method runs with --seed 1..N)"},
    {"output", 'o', 1, "compare writes every run to DIR/runs/METHOD/seedN: use compare's own -o DIR"},
    {"variant", 0, 1, "it changes the method a row names: choose the networks with compare's --methods (dsc, cnn-encoder, "
                      "cnn-autoencoder, cnn-lstm-encoder, dec, dtc)"},
    {"steps", 0, 1, "it changes the method a row names: use compare's --steps S with the dsc-steps method"},
    {"persistence", 0, 1, "it changes the method a row names: use compare's --persistence Nd with the *-persistent methods"},
    {"persistence-target", 0, 0, "it changes the method a row names: choose dsc-anomalies-persistent-target with --methods"},
    {"vars", 0, 1, DATA_SAME("--vars")},
    {"box", 0, 1, DATA_SAME("--box")},
    {"time-range", 0, 1, DATA_SAME("--time-range")},
    {"daily-mean", 0, 0, DATA_SAME("--daily-mean")},
    {"process-grid", 0, 1, DATA_SAME("--process-grid")},
    {"level", 0, 1, DATA_SAME("--level")},
    {"truth", 0, 1, DATA_SAME("--truth")},
    {"sample", 0, 1, DATA_SAME("--sample")},
    {"scaling", 0, 1, prep_fixed}, {"anomalies", 0, 0, prep_fixed}, {"climatology", 0, 1, prep_fixed},
    {"harmonics", 0, 1, prep_fixed},
    {"force", 0, 0, "use compare's own --force (it writes into a non-empty -o folder)"},
    {"quiet", 'q', 0, "compare runs every method quietly already; use compare's own -q for its own lines"},
    {"verbose", 'v', 0, "compare runs every method quietly, so it would print nothing"},
    {"config", 0, 1, "a configuration file could set any option compare sets: write the training settings into "
                      "--train-options itself"},
    {"resume", 0, 1, "compare starts every run afresh: rerun dsc compare (or resume one run with dsc train --resume)"},
    {"help", 'h', 0, "run 'dsc train --help' for the options"},
};

/* --persistence: a mean episode length Nd with N > 0 (the persistent methods' option). */
static int persistence_days_check(const char *text)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : NAN;
    if (end && end != text && isfinite(v) && v > 0 && v <= 1e6 && (*end == 'd' || *end == 'D') && end[1] == '\0') return DSC_OK;
    return dsc_fail("dsc compare: option --persistence: '%s' is not a mean episode length in days such as 5d", text ? text : "");
}

/* The whitespace-separated words of --train-options, in place (s is modified). */
static int split_words(char *s, char **words, int max)
{
    int n = 0;
    for (char *w = strtok(s, " \t\r\n\v\f"); w; w = strtok(NULL, " \t\r\n\v\f")) {
        if (words && n < max) words[n] = w;
        n++;
    }
    return n;
}

static const train_option *train_option_find(const char *word, const char **inline_value)
{
    size_t len = 0;
    *inline_value = NULL;
    if (word[1] == '-') {
        const char *eq = strchr(word + 2, '=');
        len = eq ? (size_t)(eq - word - 2) : strlen(word + 2);
        if (eq) *inline_value = eq + 1;
    } else if (word[2]) {
        *inline_value = word + 2;
    }
    for (size_t i = 0; i < sizeof train_settings / sizeof train_settings[0]; i++) {
        const train_option *o = &train_settings[i];
        if (word[1] == '-' ? strlen(o->name) == len && strncmp(o->name, word + 2, len) == 0 : o->short_name == word[1]) return o;
    }
    return NULL;
}

/* Local (the same on every rank): DSC_ERR naming the first word of
 * --train-options that is not a training setting of dsc train, read as
 * dsc train's parser reads it (--opt VALUE, --opt=VALUE, -xVALUE). */
static int check_train_options(const char *text)
{
    if (!text) return DSC_OK;
    char *copy = strdup(text);
    if (!copy) return dsc_fail("dsc compare: out of memory");
    int n = split_words(copy, NULL, 0);
    free(copy);
    if (n > COMPARE_MAX_WORDS)
        return dsc_fail("dsc compare: option --train-options: %d words, at most %d; give each setting once", n, COMPARE_MAX_WORDS);
    char **words = calloc((size_t)n + 1, sizeof *words);
    copy = strdup(text);
    if (!words || !copy) {
        free(words);
        free(copy);
        return dsc_fail("dsc compare: out of memory");
    }
    split_words(copy, words, n);
    int status = DSC_OK;
    for (int i = 0; status == DSC_OK && i < n; i++) {
        const char *w = words[i], *value;
        if (w[0] != '-' || w[1] == '\0' || strcmp(w, "--") == 0) {
            status = dsc_fail("dsc compare: option --train-options: '%s' is not an option of dsc train; give the input files "
                              "after compare's options", w);
            break;
        }
        const train_option *o = train_option_find(w, &value);
        if (!o)
            status = dsc_fail("dsc compare: option --train-options: '%s' is not an option of dsc train; run 'dsc train --help' "
                              "for the list", w);
        else if (o->instead)
            status = dsc_fail("dsc compare: option --train-options: '%s' (--%s of dsc train) is not taken there: %s", w, o->name, o->instead);
        else if (!o->takes_value && value)
            status = dsc_fail("dsc compare: option --train-options: '%s': --%s takes no value", w, o->name);
        else if (o->takes_value && ((value && !*value) || (!value && ++i >= n)))
            status = dsc_fail("dsc compare: option --train-options: '%s' needs a value", w);
    }
    free(words);
    free(copy);
    return status;
}

/* The methods of --methods, in the table's order; DSC_ERR naming an unknown one. */
static int parse_methods(const char *list, int *chosen)
{
    for (int m = 0; m < nmethods; m++) chosen[m] = strcmp(list, "all") == 0;
    if (strcmp(list, "all") == 0) return DSC_OK;
    const char *p = list;
    while (*p) {
        size_t len = strcspn(p, ",");
        int m = method_find(p, len);
        if (m < 0) return dsc_fail("dsc compare: option --methods: '%.*s' is not a method; choose from kmeans, kmeans-anomalies, eof-kmeans, cosine-kmeans, ward, dsc, "
                                   "dsc-anomalies, cnn-encoder, cnn-autoencoder, cnn-lstm-encoder, dsc-steps, dec, dtc", (int)len, p);
        chosen[m] = 1;
        p += len + (p[len] == ',');
    }
    return DSC_OK;
}

static void run_dir(char *out, size_t size, const char *dir, const compare_run *r)
{
    snprintf(out, size, "%s/runs/%s/seed%d", dir, methods[r->method].name, r->seed);
}

/* Local: "dsc train --variant dec -k 4 --max-iter 10" of method m into out
 * (compare.md, compare.csv: what each row ran, as the command's options). */
static void method_text(char *out, size_t size, const cli_command *cmd, const compare_method *m, char **words, int nwords)
{
    static const char *command[] = {"kmeans", "ward", "train"};
    const char *w[16 + COMPARE_MAX_WORDS];
    int n = 0;
    w[n++] = command[m->runner];
    if (m->variant) w[n++] = "--variant", w[n++] = m->variant;
    if (m->steps) w[n++] = "--steps", w[n++] = cli_get(cmd, "steps");
    if (m->anomalies) w[n++] = "--anomalies";
    if (m->scaling) w[n++] = "--scaling", w[n++] = m->scaling;
    if (m->cosine) w[n++] = "--cosine";
    if (m->pca) w[n++] = "--pca", w[n++] = cli_get(cmd, "pca");
    if (m->persistent) w[n++] = "--persistence", w[n++] = cli_get(cmd, "persistence");
    if (m->persistent == 2) w[n++] = "--persistence-target";
    w[n++] = "-k";
    w[n++] = cli_get(cmd, "clusters");
    for (int i = 0; m->network && i < nwords; i++) w[n++] = words[i];
    size_t len = (size_t)snprintf(out, size, "dsc");
    for (int i = 0; i < n && len < size; i++) len += (size_t)snprintf(out + len, size - len, " %s", w[i]);
}

/* What every method's run gets from compare's own options: the data as
 * compare reads them (--vars, --level, --box, ...), --truth, --sample,
 * quietly, into its run folder. */
static int method_run_params(const cli_command *cmd, const char *command, const char *path, run_params *p)
{
    int status = run_params_from_cli(cmd, command, 0, p);
    p->dir = path;
    p->quiet = p->force = 1;
    p->po.scaling = SCALE_VARIABLE; /* dsc kmeans' and ward's defaults */
    p->po.climatology = CLIMATOLOGY_HARMONIC;
    p->po.harmonics = 3;
    if (status == DSC_OK) status = cli_long(cmd, "sample", 0, 1L << 40, &p->sample);
    return status;
}

/* Collective: dsc kmeans or dsc ward with method m's options. */
static int compare_cluster(MPI_Comm comm, const cli_command *cmd, const compare_method *m, int seed, const char *path)
{
    long k = 0, pca = 0;
    int status = cli_long(cmd, "clusters", 2, 1000000, &k);
    if (status == DSC_OK) status = cli_long(cmd, "pca", 1, 100000, &pca);
    if (m->runner == RUN_WARD) {
        ward_params p = ward_params_default();
        if (status == DSC_OK) status = method_run_params(cmd, "ward", path, &p.run);
        p.k = k;
        if (status == DSC_OK) status = run_check_sample("ward", p.run.sample, k);
        return dsc_agree(comm, status) == DSC_OK ? dsc_ward(comm, &p) : DSC_ERR;
    }
    kmeans_params p = kmeans_params_default();
    if (status == DSC_OK) status = method_run_params(cmd, "kmeans", path, &p.run);
    p.run.po.anomalies = m->anomalies;
    p.k = k;
    p.seed = seed;
    p.pca = m->pca ? pca : 0;
    p.cosine = m->cosine;
    if (m->persistent) p.persistence_days = atof(cli_get(cmd, "persistence")); /* checked by persistence_days_check */
    if (status == DSC_OK) status = run_check_sample("kmeans", p.run.sample, k);
    return dsc_agree(comm, status) == DSC_OK ? dsc_kmeans(comm, &p) : DSC_ERR;
}

/* Collective: dsc train with method m's options, the training settings of
 * --train-options (words) read as dsc train reads its own. */
static int compare_train(MPI_Comm comm, const cli_command *cmd, const compare_method *m, int seed, const char *path,
                         char **words, int nwords)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    char seed_text[32], arg0[] = "train";
    snprintf(seed_text, sizeof seed_text, "%d", seed);
    char *argv[1 + COMPARE_MAX_WORDS];
    argv[0] = arg0;
    for (int i = 0; i < nwords; i++) argv[1 + i] = words[i];
    cli_command tc;
    train_cli(&tc);
    int status = cli_parse(&tc, 1 + nwords, argv, rank);
    if (status == DSC_OK && m->variant) status = train_cli_set(&tc, "variant", m->variant);
    if (status == DSC_OK && m->steps) status = train_cli_set(&tc, "steps", cli_get(cmd, "steps"));
    if (status == DSC_OK && m->anomalies) status = train_cli_set(&tc, "anomalies", "1");
    if (status == DSC_OK && m->scaling) status = train_cli_set(&tc, "scaling", m->scaling);
    if (status == DSC_OK && m->persistent) status = train_cli_set(&tc, "persistence", cli_get(cmd, "persistence"));
    if (status == DSC_OK && m->persistent == 2) status = train_cli_set(&tc, "persistence-target", "1");
    static const char *const same[] = {"clusters", "sample", "vars", "box", "time-range", "process-grid", "level", "truth"};
    for (size_t i = 0; status == DSC_OK && i < sizeof same / sizeof same[0]; i++)
        if (i < 2 || (i < 7 ? cli_given(cmd, same[i]) : cli_get(cmd, same[i]) != NULL))
            status = train_cli_set(&tc, same[i], cli_get(cmd, same[i]));
    if (status == DSC_OK && cli_flag(cmd, "daily-mean")) status = train_cli_set(&tc, "daily-mean", "1");
    if (status == DSC_OK) status = train_cli_set(&tc, "seed", seed_text);
    if (status == DSC_OK) status = train_cli_set(&tc, "quiet", "1");
    if (status == DSC_OK) status = train_cli_set(&tc, "force", "1");
    if (status == DSC_OK) status = train_cli_set(&tc, "output", path);
    train_params p;
    memset(&p, 0, sizeof p);
    if (status == DSC_OK) status = train_params_from_cli(&tc, cmd->args, cmd->nargs, &p);
    status = dsc_agree(comm, status) == DSC_OK ? dsc_train(comm, &p) : DSC_ERR;
    cli_free(&tc);
    return status;
}

/* Collective: one method, one seed, through its command's function; r->seconds. */
static int compare_one(MPI_Comm comm, const cli_command *cmd, const char *dir, char **words, int nwords, compare_run *r)
{
    const compare_method *m = &methods[r->method];
    char path[DSC_PATH_MAX];
    run_dir(path, sizeof path, dir, r);
    int rank, st = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank == 0) { /* DIR/runs/METHOD: the command creates seedN itself */
        char parent[DSC_PATH_MAX];
        snprintf(parent, sizeof parent, "%s/runs", dir);
        if (mkdir(parent, 0777) != 0 && errno != EEXIST) st = dsc_fail("dsc compare: cannot create %s: %s", parent, strerror(errno));
        snprintf(parent, sizeof parent, "%s/runs/%s", dir, m->name);
        if (st == DSC_OK && mkdir(parent, 0777) != 0 && errno != EEXIST)
            st = dsc_fail("dsc compare: cannot create %s: %s", parent, strerror(errno));
    }
    if (dsc_agree(comm, st) != DSC_OK) return DSC_ERR;
    double t0 = MPI_Wtime();
    int status = m->runner == RUN_TRAIN ? compare_train(comm, cmd, m, r->seed, path, words, nwords)
                                        : compare_cluster(comm, cmd, m, m->seeded ? r->seed : 1, path);
    double dt = MPI_Wtime() - t0;
    MPI_Allreduce(&dt, &r->seconds, 1, MPI_DOUBLE, MPI_MAX, comm);
    if (status != DSC_OK) {
        if (rank == 0) fprintf(stderr, "dsc compare: the error above stopped method %s, seed %d (%s)\n", m->name, r->seed, path);
        return DSC_ERR;
    }
    return DSC_OK;
}

/* The data every method reads, as compare.md records it. */
typedef struct {
    long long T;
    int nvars, nlat, nlon;
    char vars[ERA5_MAX_VARS * (ERA5_NAME_LEN + 2)];
    char first[40], last[40];
} compare_data;

static void data_summary(const era5_catalog *cat, compare_data *cd)
{
    dsc_datetime t;
    cd->T = cat->ntime;
    cd->nvars = cat->nvars;
    cd->nlat = cat->nlat;
    cd->nlon = cat->nlon;
    cd->vars[0] = '\0';
    for (int v = 0; v < cat->nvars; v++) {
        size_t len = strlen(cd->vars);
        snprintf(cd->vars + len, sizeof cd->vars - len, "%s%s", v ? ", " : "", cat->vars[v].name);
    }
    datetime_from_hours(cat->time[0], &t);
    datetime_format(&t, cd->first, sizeof cd->first);
    datetime_from_hours(cat->time[cat->ntime - 1], &t);
    datetime_format(&t, cd->last, sizeof cd->last);
}

/* Local: K, --pca and Ward's distance matrix against the data, as the
 * methods would refuse them. */
static int data_limits(long k, long pca, const int *chosen, long long T, long long d)
{
    const int ward = method_find("ward", 4), eof = method_find("eof-kmeans", 10);
    if (k >= T) return dsc_fail("dsc compare: -k %ld clusters for %lld time steps; give fewer clusters than time steps", k, T);
    if (chosen[eof] && (pca > T - 1 || pca > d))
        return dsc_fail("dsc compare: --pca %ld components (eof-kmeans) for %lld time steps x %lld features; choose at most %lld",
                        pca, T, d, T - 1 < d ? T - 1 : d);
    if (chosen[ward] && ward_matrix_bytes(T) > COMPARE_WARD_MIB * 1048576.0)
        return dsc_fail("dsc compare: %lld time steps need %.1f MiB for Ward's distance matrix on rank 0, more than dsc ward's "
                        "%g MiB (at most %lld time steps); leave ward out of --methods or use fewer time steps",
                        T, ward_matrix_bytes(T) / 1048576.0, COMPARE_WARD_MIB, ward_max_rows(COMPARE_WARD_MIB * 1048576.0));
    return DSC_OK;
}

/* Collective: the files, --vars, --box, --time-range, --daily-mean and
 * --truth as every method will read them, and -k, --pca and Ward against
 * the time steps, checked before any method runs: a bad value would
 * otherwise stop the first method only after the others had run. */
static int data_check(MPI_Comm comm, const cli_command *cmd, long k, long pca, const int *chosen, compare_data *cd)
{
    era5_options eo;
    era5_catalog cat;
    memset(&cat, 0, sizeof cat);
    if (dsc_agree(comm, era5_options_from_cli(cmd, &eo)) != DSC_OK) return DSC_ERR;
    if (era5_catalog_open(comm, cmd->args, cmd->nargs, &eo, &cat) != DSC_OK) return DSC_ERR;
    int status = dsc_agree(comm, data_limits(k, pca, chosen, cat.ntime, (long long)cat.nvars * cat.nlat * cat.nlon));
    const char *truth_path = cli_get(cmd, "truth");
    if (status == DSC_OK && truth_path) {
        int *truth = dsc_malloc((size_t)cat.ntime * sizeof(int), "truth labels"), kt = 0;
        status = dsc_agree(comm, truth ? DSC_OK : DSC_ERR);
        if (status == DSC_OK) status = run_truth_load(comm, truth_path, &cat, eo.daily_mean, truth, &kt);
        free(truth);
    }
    if (status == DSC_OK) data_summary(&cat, cd);
    era5_catalog_destroy(&cat);
    return status;
}

/* Local: the mean episode length in days of labels (T) on in's time axis
 * (the segments of its catalog, the last opened); NaN when out of memory. */
static double episode_days(const era5_catalog *cat, int daily_mean, const int *labels, int k)
{
    regime_stats st;
    if (run_regimes_compute(cat, daily_mean, labels, k, &st) != DSC_OK) {
        dsc_clear();
        return NAN;
    }
    double days = st.all_mean_duration;
    regime_stats_destroy(&st);
    return days;
}

/* Collective: every run's labels scored in one space (raw or anomalies);
 * in space 0 also the mean episode length of every run and, with --truth,
 * of the truth (*truth_days, else NaN). */
static int score_space(MPI_Comm comm, const cli_command *cmd, const char *dir, int space, compare_run *runs, int nruns,
                       double *truth_days)
{
    int rank, nranks;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &nranks);
    era5_options eo;
    preprocess_options po;
    int status = era5_options_from_cli(cmd, &eo);
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    /* the defaults of every command: min-max per variable; anomalies from the harmonic climatology */
    memset(&po, 0, sizeof po);
    po.scaling = SCALE_VARIABLE;
    po.anomalies = space == 1;
    po.climatology = CLIMATOLOGY_HARMONIC;
    po.harmonics = 3;
    long sample = 0;
    cli_long(cmd, "sample", 0, 1L << 40, &sample);
    run_input in;
    if (run_input_load(comm, cmd->args, cmd->nargs, &eo, &po, NULL, &in) != DSC_OK) return DSC_ERR;
    const long long T = in.cat.ntime;
    long long t0, n;
    block_range(T, nranks, rank, &t0, &n);
    preprocess_unpad(&in.stats, in.x, n);
    const int d = in.stats.nvars * in.stats.nlat * in.stats.nlon;
    int *labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
    int *truth = cli_get(cmd, "truth") ? dsc_malloc((size_t)T * sizeof(int), "truth labels") : NULL;
    int kt = 0;
    status = labels_all && (truth || !cli_get(cmd, "truth")) ? DSC_OK : DSC_ERR;
    if ((status = dsc_agree(comm, status)) == DSC_OK && truth)
        status = run_truth_load(comm, cli_get(cmd, "truth"), &in.cat, eo.daily_mean, truth, &kt);
    if (space == 0) *truth_days = status == DSC_OK && truth ? episode_days(&in.cat, eo.daily_mean, truth, kt) : NAN;
    for (int i = 0; status == DSC_OK && i < nruns; i++) {
        compare_run *r = &runs[i];
        char path[4300];
        run_dir(path, sizeof path - 20, dir, r);
        strcat(path, "/labels.csv");
        int k = 0;
        status = run_truth_load(comm, path, &in.cat, eo.daily_mean, labels_all, &k);
        if (status != DSC_OK) break;
        r->nclusters = k;
        if (space == 0) r->episode_days = episode_days(&in.cat, eo.daily_mean, labels_all, k);
        metrics_data md = {.ntotal = T, .n = n, .d = d, .x = in.x, .labels = labels_all + t0, .k = k};
        /* the subset of --sample each run drew for its own metrics.json (its --seed) */
        pairwise_options popt = {.sample = sample, .seed = (unsigned long long)r->seed, .tile = 0};
        metrics_report rep;
        if (k < 2) { /* one cluster: nothing to score; null in the table */
            r->silhouette[space] = r->davies_bouldin[space] = NAN;
            if (space == 0) r->ari = r->nmi = NAN;
            continue;
        }
        status = metrics_report_compute(comm, &md, &popt, truth, kt, labels_all, &rep);
        if (status != DSC_OK) break;
        r->silhouette[space] = rep.pm.silhouette;
        r->davies_bouldin[space] = rep.cm.davies_bouldin;
        if (space == 0) {
            r->ari = rep.has_truth ? rep.ari : NAN;
            r->nmi = rep.has_truth ? rep.nmi : NAN;
        }
        metrics_report_destroy(&rep);
    }
    free(labels_all);
    free(truth);
    run_input_destroy(&in);
    return status; /* every failure above was agreed (and printed) where it happened */
}

/* mean, standard deviation (n - 1; 0 for one run) and best of the finite
 * values: the closest to target when it is finite, else the largest or
 * smallest */
static void summarise(const double *v, int n, int larger_is_better, double target, double *mean, double *sd, double *best,
                      int *count)
{
    double s = 0, s2 = 0, b = NAN;
    int c = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i])) continue;
        s += v[i];
        c++;
        if (isnan(b) || (isfinite(target) ? fabs(v[i] - target) < fabs(b - target)
                                          : larger_is_better ? v[i] > b : v[i] < b))
            b = v[i];
    }
    *mean = c ? s / c : NAN;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i])) s2 += (v[i] - *mean) * (v[i] - *mean);
    *sd = c > 1 ? sqrt(s2 / (c - 1)) : c == 1 ? 0 : NAN;
    *best = b;
    *count = c;
}

static void csv_num(FILE *f, double v)
{
    if (isfinite(v)) fprintf(f, ",%.6g", v);
    else fprintf(f, ",");
}

typedef struct {
    const char *key;               /* column prefix */
    const char *title;             /* compare.md header */
    int larger_is_better;
} compare_metric;

static const compare_metric metrics_cols[] = {
    {"raw_silhouette", "silhouette (raw)", 1},
    {"raw_davies_bouldin", "Davies-Bouldin (raw)", 0},
    {"anomaly_silhouette", "silhouette (anomalies)", 1},
    {"anomaly_davies_bouldin", "Davies-Bouldin (anomalies)", 0},
    {"ari", "ARI", 1},
    {"nmi", "NMI", 1},
    {"episode_days", "mean episode length (days)", 1}, /* best: the closest to the truth's, else the longest */
    {"time_s", "time per run (s)", 0},
};
enum { NCOLS = 8, COL_EPISODES = 6 };

static double metric_value(const compare_run *r, int c)
{
    switch (c) {
    case 0: return r->silhouette[0];
    case 1: return r->davies_bouldin[0];
    case 2: return r->silhouette[1];
    case 3: return r->davies_bouldin[1];
    case 4: return r->ari;
    case 5: return r->nmi;
    case COL_EPISODES: return r->episode_days;
    default: return r->seconds;
    }
}

/* Collective (rank 0 checks): the --truth file is an input, and compare
 * must not replace it: refused when it is DIR/compare.csv or DIR/compare.md,
 * or lies under DIR/runs, whose run folders every method overwrites (the
 * other commands refuse the same through run_folder_spares). */
static int truth_spared(MPI_Comm comm, const char *dir, const char *truth)
{
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0 || !truth) return dsc_agree(comm, status);
    static const char *written[] = {"compare.csv", "compare.md"};
    char path[PATH_MAX + 32];
    for (size_t i = 0; status == DSC_OK && i < sizeof written / sizeof written[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, written[i]);
        if (output_same_file(path, truth))
            status = dsc_fail("dsc compare: -o %s would overwrite the --truth file %s (as %s); choose another folder", dir,
                              truth, written[i]);
    }
    char runs[PATH_MAX], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/runs", dir);
    if (status == DSC_OK && realpath(path, runs) && realpath(truth, real)) {
        size_t n = strlen(runs);
        if (strncmp(real, runs, n) == 0 && real[n] == '/')
            status = dsc_fail("dsc compare: the --truth file %s lies in %s, whose run folders compare overwrites; copy it "
                              "elsewhere or choose another folder", truth, path);
    }
    return dsc_agree(comm, status);
}

/* What compare.md and compare.csv record of the runs besides the figures. */
typedef struct {
    const compare_data *data;
    char **words;                  /* --train-options */
    int nwords, ranks;
    double truth_days;             /* mean episode length of --truth; NaN: none */
} compare_record;

/* A CSV field in double quotes (it holds commas: --conv 8,8,16,32,64). */
static void csv_text(FILE *f, const char *s)
{
    fputs(",\"", f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

/* compare.md: the data, the options every run got and the training settings. */
static void md_setup(FILE *f, const cli_command *cmd, const compare_record *rec)
{
    const compare_data *cd = rec->data;
    fprintf(f, "Data: %lld time steps%s from %s to %s, %d x %d grid, variables %s; %d rank(s). Every run: -k %s",
            cd->T, cli_flag(cmd, "daily-mean") ? " (daily means)" : "", cd->first, cd->last, cd->nlat, cd->nlon, cd->vars,
            rec->ranks, cli_get(cmd, "clusters"));
    static const char *given[] = {"vars", "level", "box", "time-range", "truth", "sample"};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (cli_given(cmd, given[i])) fprintf(f, ", --%s %s", given[i], cli_get(cmd, given[i]));
    if (cli_flag(cmd, "daily-mean")) fprintf(f, ", --daily-mean");
    fprintf(f, ", and --seed 1..%s for the seeded methods. Training settings of every network method (--train-options): ",
            cli_get(cmd, "seeds"));
    if (rec->nwords == 0) fprintf(f, "none, dsc train's defaults.\n\n");
    for (int i = 0; i < rec->nwords; i++) fprintf(f, "%s%s%s", i ? " " : "`", rec->words[i], i == rec->nwords - 1 ? "`.\n\n" : "");
}

/* Rank 0: compare.csv and compare.md. */
static int write_tables(const cli_command *cmd, const char *dir, const compare_run *runs, int nruns, const int *chosen,
                        const compare_record *rec)
{
    const int has_truth = cli_get(cmd, "truth") != NULL;
    char command[4096];
    char path[DSC_PATH_MAX];
    output_file csv, md;
    snprintf(path, sizeof path, "%s/compare.csv", dir);
    if (output_file_open(&csv, path, "w") != DSC_OK) return DSC_ERR;
    snprintf(path, sizeof path, "%s/compare.md", dir);
    if (output_file_open(&md, path, "w") != DSC_OK) {
        output_file_abort(&csv);
        return DSC_ERR;
    }
    int ncols = has_truth ? NCOLS : NCOLS - 2;
    fprintf(csv.f, "method,runs");
    for (int c = 0; c < NCOLS; c++) {
        if (!has_truth && (c == 4 || c == 5)) continue;
        fprintf(csv.f, ",%s_mean,%s_std,%s_best", metrics_cols[c].key, metrics_cols[c].key, metrics_cols[c].key);
    }
    fprintf(csv.f, ",command\n");
    fprintf(md.f, "# dsc compare: K = %s, %d file(s)\n\nEach cell: mean +- standard deviation over the seeds, and in brackets the best run "
                  "(the papers' convention: the largest silhouette, ARI and NMI, the smallest Davies-Bouldin and time; "
                  "the mean episode length closest to the truth's, or the longest without --truth). "
                  "Raw: the normalised input matrix (the paper's metrics, which reward clustering by season); anomalies: "
                  "the seasonal cycle of every cell removed first.%s\n\n",
            cli_get(cmd, "clusters"), cmd->nargs, has_truth ? " ARI and NMI against the reference labelling." : "");
    md_setup(md.f, cmd, rec);
    if (isfinite(rec->truth_days)) fprintf(md.f, "Mean episode length of the reference labelling: %.3f days.\n\n", rec->truth_days);
    fprintf(md.f, "| method | runs |");
    for (int c = 0; c < NCOLS; c++)
        if (has_truth || (c != 4 && c != 5)) fprintf(md.f, " %s |", metrics_cols[c].title);
    fprintf(md.f, "\n|---|---|");
    for (int c = 0; c < ncols; c++) fprintf(md.f, "---|");
    fprintf(md.f, "\n");
    for (int m = 0; m < nmethods; m++) {
        if (!chosen[m]) continue;
        double v[COMPARE_MAX_SEEDS];
        int n = 0;
        for (int i = 0; i < nruns; i++)
            if (runs[i].method == m) n++;
        fprintf(csv.f, "%s,%d", methods[m].name, n);
        fprintf(md.f, "| %s | %d |", methods[m].name, n);
        for (int c = 0; c < NCOLS; c++) {
            if (!has_truth && (c == 4 || c == 5)) continue;
            int j = 0;
            for (int i = 0; i < nruns; i++)
                if (runs[i].method == m) v[j++] = metric_value(&runs[i], c);
            double mean, sd, best;
            int count;
            summarise(v, j, metrics_cols[c].larger_is_better, c == COL_EPISODES ? rec->truth_days : NAN, &mean, &sd, &best,
                      &count);
            csv_num(csv.f, mean);
            csv_num(csv.f, sd);
            csv_num(csv.f, best);
            if (count) fprintf(md.f, " %.3f +- %.3f (%.3f) |", mean, sd, best);
            else fprintf(md.f, " - |");
        }
        method_text(command, sizeof command, cmd, &methods[m], rec->words, rec->nwords);
        csv_text(csv.f, command);
        fprintf(csv.f, "\n");
        fprintf(md.f, "\n");
    }
    fprintf(md.f, "\nMethods:\n\n");
    for (int m = 0; m < nmethods; m++)
        if (chosen[m]) {
            method_text(command, sizeof command, cmd, &methods[m], rec->words, rec->nwords);
            fprintf(md.f, "- %s: %s; ran `%s`\n", methods[m].name, methods[m].what, command);
        }
    int st = output_file_commit(&csv);
    if (st == DSC_OK) st = output_file_commit(&md);
    else output_file_abort(&md);
    return st;
}

int compare_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    cli_command cmd = {
        .command = "compare",
        .usage = "-k K -o DIR [OPTIONS] FILES...",
        .summary = "Run every clustering method (k-means on raw data and on anomalies, EOF truncation + k-means, Ward, DSC "
                   "and its ablation variants, DEC, DTC; the weather-regime methods also with persistence) on "
                   "the same files, once per seed, score every labelling on the raw and on the anomaly matrix (and against "
                   "--truth), and write compare.csv and compare.md: mean, standard deviation and best over the seeds, "
                   "and the time of every method.",
        .options = compare_options_table,
        .noptions = (int)(sizeof compare_options_table / sizeof compare_options_table[0]),
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    long k = 0, seeds = 0, steps = 0, sample = 0, pca = 0;
    int chosen[sizeof methods / sizeof methods[0]];
    const char *dir = status == DSC_OK ? cli_get(&cmd, "output") : NULL;
    if (status == DSC_OK) status = cli_long(&cmd, "clusters", 2, 1000000, &k);
    if (status == DSC_OK) status = cli_long(&cmd, "seeds", 1, COMPARE_MAX_SEEDS, &seeds);
    if (status == DSC_OK) status = cli_long(&cmd, "steps", 1, 1000, &steps);
    if (status == DSC_OK) status = cli_long(&cmd, "pca", 1, 100000, &pca);
    if (status == DSC_OK) status = persistence_days_check(cli_get(&cmd, "persistence"));
    if (status == DSC_OK) status = cli_long(&cmd, "sample", 0, 1L << 40, &sample);
    if (status == DSC_OK) status = parse_methods(cli_get(&cmd, "methods"), chosen);
    if (status == DSC_OK && !dir) status = dsc_fail("dsc compare: option -o DIR is required (the output folder)");
    if (status == DSC_OK && cmd.nargs == 0) status = dsc_fail("dsc compare: no input files; give the ERA5 netCDF files after the options");
    if (status == DSC_OK) status = check_train_options(cli_get(&cmd, "train-options"));
    /* the words of --train-options, split once; they point into topts */
    char *topts = status == DSC_OK && cli_get(&cmd, "train-options") ? strdup(cli_get(&cmd, "train-options")) : NULL;
    char *words[COMPARE_MAX_WORDS];
    int nwords = topts ? split_words(topts, words, COMPARE_MAX_WORDS) : 0;
    if (status == DSC_OK && cli_get(&cmd, "train-options") && !topts) status = dsc_fail("dsc compare: out of memory");
    compare_data cd;
    memset(&cd, 0, sizeof cd);
    if (dsc_agree(comm, status) == DSC_OK) status = data_check(comm, &cmd, k, pca, chosen, &cd);
    else status = DSC_ERR;
    if (status != DSC_OK) {
        free(topts);
        cli_free(&cmd);
        return DSC_ERR;
    }
    compare_run *runs = NULL;
    int nruns = 0;
    status = truth_spared(comm, dir, cli_get(&cmd, "truth"));
    if (status == DSC_OK) status = run_folder_prepare(comm, dir, cli_flag(&cmd, "force"), "compare", cmd.args, cmd.nargs);
    if (status == DSC_OK) {
        runs = calloc((size_t)nmethods * (size_t)seeds, sizeof *runs);
        status = dsc_agree(comm, runs ? DSC_OK : dsc_fail("dsc compare: out of memory"));
    }
    const int quiet = cli_flag(&cmd, "quiet");
    for (int m = 0; status == DSC_OK && m < nmethods; m++) {
        if (!chosen[m]) continue;
        int nseed = methods[m].seeded ? (int)seeds : 1;
        for (int s = 1; status == DSC_OK && s <= nseed; s++) {
            compare_run *r = &runs[nruns];
            r->method = m;
            r->seed = s;
            status = compare_one(comm, &cmd, dir, words, nwords, r);
            if (status != DSC_OK) break;
            nruns++;
            if (rank == 0 && !quiet) {
                printf("dsc compare: %-18s seed %d/%d  %.1f s\n", methods[m].name, s, nseed, r->seconds);
                fflush(stdout);
            }
        }
    }
    double truth_days = NAN;
    if (status == DSC_OK) status = score_space(comm, &cmd, dir, 0, runs, nruns, &truth_days);
    if (status == DSC_OK) status = score_space(comm, &cmd, dir, 1, runs, nruns, &truth_days);
    if (status == DSC_OK) {
        if (rank == 0) {
            compare_record rec = {.data = &cd, .words = words, .nwords = nwords, .ranks = 0, .truth_days = truth_days};
            MPI_Comm_size(comm, &rec.ranks);
            status = write_tables(&cmd, dir, runs, nruns, chosen, &rec);
        }
        status = dsc_agree(comm, status);
    }
    if (status == DSC_OK && rank == 0 && !quiet) {
        char path[DSC_PATH_MAX];
        snprintf(path, sizeof path, "%s/compare.md", dir);
        FILE *f = fopen(path, "r");
        char line[4096];
        while (f && fgets(line, sizeof line, f)) fputs(line, stdout);
        if (f) fclose(f);
        fflush(stdout);
    }
    free(runs);
    free(topts);
    cli_free(&cmd);
    return status;
}
