/*
 * test_checkpoint.c - checkpoint round trip and rejection of bad files.
 *
 *   [mpirun -n P] test_checkpoint
 *
 * A tiny CNN-LSTM autoencoder (with LSTM dropout, so the saved generator
 * state matters) is trained N = 6 steps with SGD + momentum and with Adam on
 * batches taken in order; a second run saves at step k = 3, loads into a
 * fresh model and optimizer and continues to N.  Parameters and optimizer
 * moments must be bitwise identical to the uninterrupted run.  Then a
 * truncated file, a file longer than its header says, a flipped byte, a
 * wrong magic, a newer version, another
 * architecture and another optimizer kind must each be rejected with one
 * message naming the file.  Works on any number of ranks (each rank holds a
 * replica; gradients are averaged as in data-parallel training).
 */
#include "checkpoint.h"
#include "model.h"
#include "optimizer.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NSAMPLES 6
#define BATCH 2
#define NSTEPS 6
#define KSAVE 3

static model_config tiny(void)
{
    model_config c = model_config_default();
    c.vars = 2;
    c.height = 16;
    c.width = 32;
    c.steps = 2;
    const int w[MODEL_NCONV] = {2, 3, 2, 3, 4};
    memcpy(c.conv, w, sizeof w);
    c.lstm[0] = 3;
    c.lstm[1] = 4;
    c.latent = 2;
    c.dropout = 0.2f;
    c.recurrent_dropout = 0.3f;
    c.clusters = 3; /* the centroid matrix travels with the parameters */
    return c;
}

static float *data; /* (NSAMPLES, S, V, H, W) */
static size_t sample_floats;

static void train_steps(model *m, optimizer *opt, int from, int to)
{
    for (int it = from; it < to; it++) {
        const float *x = data + (size_t)(it % (NSAMPLES / BATCH)) * BATCH * sample_floats;
        model_forward(m, x, BATCH, 1);
        int size;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        model_zero_grad(m);
        model_backward(m, 1.0f / (float)size, NULL); /* each rank's share of the mean */
        model_allreduce_gradients(m, MPI_COMM_WORLD);
        optimizer_step(opt, m->params, m->grads);
    }
}

/* checkpoint_load with rank 0's stderr captured: the error line goes to msg. */
static int load_capture(const char *dir, const char *path, model *m, optimizer *opt, char *msg, size_t len)
{
    char cap[4096];
    snprintf(cap, sizeof cap, "%s/stderr.txt", dir);
    fflush(stderr);
    int saved = dup(2);
    FILE *f = fopen(cap, "w+");
    if (f) dup2(fileno(f), 2);
    int st = checkpoint_load(MPI_COMM_WORLD, path, m, opt, NULL);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    msg[0] = '\0';
    if (f) {
        rewind(f);
        if (!fgets(msg, (int)len, f)) msg[0] = '\0';
        fclose(f);
    }
    MPI_Bcast(msg, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD);
    msg[strcspn(msg, "\n")] = '\0';
    return st;
}

static int file_copy_modified(const char *src, const char *dst, long keep_bytes, long flip_at, long set_u32_at,
                              unsigned set_value)
{
    FILE *f = fopen(src, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    if (flip_at >= 0) b[flip_at < n ? flip_at : n - 1] ^= 0x10;
    if (set_u32_at >= 0) memcpy(b + set_u32_at, &set_value, 4);
    if (keep_bytes < 0 || keep_bytes > n) keep_bytes = n;
    f = fopen(dst, "wb");
    int ok = f && fwrite(b, 1, (size_t)keep_bytes, f) == (size_t)keep_bytes;
    if (f) fclose(f);
    free(b);
    return ok ? (int)n : -1;
}

/* FNV-1a, 64 bit, as the checkpoint's checksum. */
static uint64_t fnv1a(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* dst = src with extra zero bytes: after the checksum (the header's size
 * left alone), or before it with the size at byte 16 and the checksum
 * rewritten to match.  Returns the new size or -1. */
static long file_copy_longer(const char *src, const char *dst, long extra, int before_checksum)
{
    FILE *f = fopen(src, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = calloc((size_t)(n + extra), 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    if (before_checksum) {
        uint64_t total = (uint64_t)(n + extra);
        memset(b + n - 8, 0, (size_t)extra);
        memcpy(b + 16, &total, 8);
        uint64_t sum = fnv1a(b, (size_t)(total - 8));
        memcpy(b + total - 8, &sum, 8);
    }
    f = fopen(dst, "wb");
    int ok = f && fwrite(b, 1, (size_t)(n + extra), f) == (size_t)(n + extra);
    if (f) fclose(f);
    free(b);
    return ok ? n + extra : -1;
}

static void round_trip(const char *dir, optimizer_kind kind)
{
    const char *kname = optimizer_kind_name(kind);
    model_config cfg = tiny();
    optimizer_config ocfg = optimizer_defaults(kind);
    ocfg.learning_rate = kind == OPTIMIZER_SGD ? 0.05f : 0.01f; /* visible changes in few steps */
    ocfg.weight_decay = 1e-3f;
    ocfg.clip_norm = 1.0f;

    /* Uninterrupted run. */
    model a;
    optimizer oa;
    model_create(&a, &cfg, BATCH);
    model_init(&a, 11);
    optimizer_create(&oa, &ocfg, a.nparams);
    float *initial = malloc(a.nparams * sizeof(float));
    memcpy(initial, a.params, a.nparams * sizeof(float));
    /* Same seed, same weights on every rank, without communication. */
    float *root = malloc(a.nparams * sizeof(float));
    memcpy(root, a.params, a.nparams * sizeof(float));
    MPI_Bcast(root, (int)a.nparams, MPI_FLOAT, 0, MPI_COMM_WORLD);
    tap_check_all(MPI_COMM_WORLD, memcmp(root, a.params, a.nparams * sizeof(float)) == 0,
                  "%s: initial weights identical on every rank", kname);
    free(root);
    train_steps(&a, &oa, 0, NSTEPS);
    tap_check_all(MPI_COMM_WORLD, memcmp(initial, a.params, a.nparams * sizeof(float)) != 0,
                  "%s: training changes the parameters", kname);

    /* Interrupted run: k steps, save, fresh model, load, continue. */
    char path[4096];
    snprintf(path, sizeof path, "%s/model-%s.ckpt", dir, kname);
    model b;
    optimizer ob;
    model_create(&b, &cfg, BATCH);
    model_init(&b, 11);
    optimizer_create(&ob, &ocfg, b.nparams);
    train_steps(&b, &ob, 0, KSAVE);
    const char stats[] = "min/max statistics \0with a zero byte";
    const double state[3] = {0.25, -1.0, 1e300}; /* training state: opaque bytes */
    checkpoint_extra x = {.iteration = KSAVE, .epoch = 1, .has_rng = 1, .blob = (void *)stats, .blob_bytes = sizeof stats,
                          .state = (void *)state, .state_bytes = sizeof state};
    rng_seed(&x.rng, 5, 6);
    rng_next(&x.rng);
    int st = checkpoint_save(MPI_COMM_WORLD, path, &b, &ob, &x);
    tap_check_all(MPI_COMM_WORLD, st == DSC_OK, "%s: checkpoint saved at step %d", kname, KSAVE);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    tap_check_all(MPI_COMM_WORLD, access(tmp, F_OK) != 0, "%s: no temporary file left behind", kname);
    model_destroy(&b);
    optimizer_destroy(&ob);

    model_config rcfg;
    optimizer_config rocfg;
    int has_opt = 0;
    st = checkpoint_read_config(MPI_COMM_WORLD, path, &rcfg, &rocfg, &has_opt);
    int32_t same = st == DSC_OK && rcfg.variant == cfg.variant && rcfg.vars == cfg.vars && rcfg.height == cfg.height &&
                   rcfg.width == cfg.width && rcfg.steps == cfg.steps && rcfg.latent == cfg.latent &&
                   rcfg.clusters == cfg.clusters &&
                   !memcmp(rcfg.conv, cfg.conv, sizeof cfg.conv) && !memcmp(rcfg.lstm, cfg.lstm, sizeof cfg.lstm) &&
                   rcfg.dropout == cfg.dropout && rcfg.recurrent_dropout == cfg.recurrent_dropout && has_opt &&
                   rocfg.kind == kind && rocfg.learning_rate == ocfg.learning_rate &&
                   rocfg.clip_norm == ocfg.clip_norm && rocfg.weight_decay == ocfg.weight_decay;
    tap_check_all(MPI_COMM_WORLD, same, "%s: architecture and optimizer settings read back", kname);

    model c;
    optimizer oc;
    model_create(&c, &rcfg, BATCH);
    model_init(&c, 999); /* different weights: the load must overwrite them */
    optimizer_create(&oc, &ocfg, c.nparams);
    checkpoint_extra y;
    memset(&y, 0, sizeof y);
    st = checkpoint_load(MPI_COMM_WORLD, path, &c, &oc, &y);
    tap_check_all(MPI_COMM_WORLD, st == DSC_OK, "%s: checkpoint loaded", kname);
    int extra_ok = st == DSC_OK && y.iteration == KSAVE && y.epoch == 1 && y.has_rng &&
                   !memcmp(y.rng.s, x.rng.s, sizeof x.rng.s) && y.blob_bytes == sizeof stats &&
                   !memcmp(y.blob, stats, sizeof stats) && oc.step == KSAVE && y.state_bytes == sizeof state &&
                   !memcmp(y.state, state, sizeof state);
    tap_check_all(MPI_COMM_WORLD, extra_ok, "%s: counters, caller's rng, statistics blob and training state restored", kname);
    free(y.blob);
    free(y.state);
    train_steps(&c, &oc, KSAVE, NSTEPS);
    tap_check_all(MPI_COMM_WORLD, memcmp(a.params, c.params, a.nparams * sizeof(float)) == 0,
                  "%s: parameters after save at %d, load, resume to %d bitwise equal to an uninterrupted run", kname,
                  KSAVE, NSTEPS);
    int moments = memcmp(oa.m, oc.m, a.nparams * sizeof(float)) == 0 &&
                  (!oa.v || memcmp(oa.v, oc.v, a.nparams * sizeof(float)) == 0) && oa.step == oc.step;
    tap_check_all(MPI_COMM_WORLD, moments, "%s: optimizer state bitwise equal", kname);

    /* The same run without restoring the dropout generator would differ:
     * shows the test can see a missing piece of state. */
    model d;
    optimizer od;
    model_create(&d, &cfg, BATCH);
    optimizer_create(&od, &ocfg, d.nparams);
    checkpoint_load(MPI_COMM_WORLD, path, &d, &od, NULL);
    rng_seed(&d.dropout_rng, 1234, 1);
    train_steps(&d, &od, KSAVE, NSTEPS);
    tap_check_all(MPI_COMM_WORLD, memcmp(a.params, d.params, a.nparams * sizeof(float)) != 0,
                  "%s: resuming with other dropout masks gives other parameters (the state is needed)", kname);

    free(initial);
    model_destroy(&a);
    model_destroy(&c);
    model_destroy(&d);
    optimizer_destroy(&oa);
    optimizer_destroy(&oc);
    optimizer_destroy(&od);
}

/* A block length beyond the end of the file, with size and checksum
 * intact (a hostile or badly written file; found by tests/fuzz), is rejected
 * as corrupt instead of being allocated. */
static void huge_blocks(const char *dir, int rank)
{
    model_config cfg = tiny();
    model m;
    model_create(&m, &cfg, BATCH);
    model_init(&m, 3);
    char good[4096], bad[4200], cap[4200], msg[1024];
    snprintf(good, sizeof good, "%s/blocks.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/blocks_bad.ckpt", dir);
    snprintf(cap, sizeof cap, "%s/blocks_stderr.txt", dir);
    char blob[16] = "statistics", state[8] = "state";
    checkpoint_extra x = {.blob = blob, .blob_bytes = sizeof blob, .state = state, .state_bytes = sizeof state};
    checkpoint_save(MPI_COMM_WORLD, good, &m, NULL, &x);
    /* from the end: checksum 8, state, its length 8, blob, its length 8 */
    const long from_end[2] = {8 + 8 + 8 + 16 + 8, 8 + 8 + 8};
    const char *what[2] = {"statistics", "training state"};
    for (int k = 0; k < 2; k++) {
        int made = 0;
        if (rank == 0) {
            FILE *f = fopen(good, "rb");
            unsigned char b[1 << 16];
            size_t n = f ? fread(b, 1, sizeof b, f) : 0;
            if (f) fclose(f);
            if (n > 64 && n < sizeof b) {
                uint64_t huge = (uint64_t)1 << 60, h = 0xcbf29ce484222325ULL;
                memcpy(b + n - from_end[k], &huge, 8);
                for (size_t i = 0; i < n - 8; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
                memcpy(b + n - 8, &h, 8);
                f = fopen(bad, "wb");
                made = f && fwrite(b, 1, n, f) == n;
                if (f) fclose(f);
            }
        }
        MPI_Bcast(&made, 1, MPI_INT, 0, MPI_COMM_WORLD);
        fflush(stderr);
        int saved = dup(2);
        FILE *f = fopen(cap, "w+");
        if (f) dup2(fileno(f), 2);
        checkpoint_extra y;
        int st = checkpoint_load(MPI_COMM_WORLD, bad, &m, NULL, &y);
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        msg[0] = '\0';
        if (f) {
            rewind(f);
            if (!fgets(msg, (int)sizeof msg, f)) msg[0] = '\0';
            fclose(f);
        }
        MPI_Bcast(msg, (int)sizeof msg, MPI_CHAR, 0, MPI_COMM_WORLD);
        msg[strcspn(msg, "\n")] = '\0';
        if (st == DSC_OK) {
            free(y.blob);
            free(y.state);
        }
        tap_check_all(MPI_COMM_WORLD, made && st == DSC_ERR && strstr(msg, bad) && strstr(msg, what[k]) && strstr(msg, "corrupt"),
                      "%s block longer than the file rejected: \"%s\"", what[k], msg);
    }
    model_destroy(&m);
}

static void rejections(const char *dir, int rank)
{
    model_config cfg = tiny();
    model m;
    optimizer opt;
    optimizer_config ocfg = optimizer_defaults(OPTIMIZER_ADAM);
    model_create(&m, &cfg, BATCH);
    model_init(&m, 3);
    optimizer_create(&opt, &ocfg, m.nparams);
    char good[4096], bad[4200], msg[1024];
    snprintf(good, sizeof good, "%s/good.ckpt", dir);
    snprintf(bad, sizeof bad, "%s/bad.ckpt", dir);
    checkpoint_save(MPI_COMM_WORLD, good, &m, &opt, NULL);

    struct {
        const char *what, *expect;
        long keep, flip, set_at;
        unsigned value;
    } cases[] = {
        {"truncated file", "truncated", -2, -1, -1, 0},
        {"header only", "truncated", 40, -1, -1, 0},
        {"flipped byte in the parameters", "checksum", -1, 2000, -1, 0},
        {"flipped byte in the checksum", "checksum", -1, 1L << 40, -1, 0},
        {"wrong magic", "magic", -1, 2, -1, 0},
        {"newer format version", "version 4", -1, -1, 8, 4},
        {"empty file", "magic", 0, -1, -1, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long size = 0;
        if (rank == 0) {
            long keep = cases[i].keep;
            if (keep == -2) { /* cut the last 100 bytes */
                FILE *f = fopen(good, "rb");
                fseek(f, 0, SEEK_END);
                keep = ftell(f) - 100;
                fclose(f);
            }
            size = file_copy_modified(good, bad, keep, cases[i].flip, cases[i].set_at, cases[i].value);
        }
        MPI_Bcast(&size, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        int st = load_capture(dir, bad, &m, &opt, msg, sizeof msg);
        int ok = size > 0 && st == DSC_ERR && strstr(msg, bad) && strstr(msg, cases[i].expect) &&
                 !strncmp(msg, "dsc: error: ", 12);
        tap_check_all(MPI_COMM_WORLD, ok, "%s rejected: \"%s\"", cases[i].what, msg);
    }

    /* Longer than the header says: 16 bytes appended after the checksum; and
     * 16 bytes inserted before the checksum with the header's size and the
     * checksum made to match, so that only the sections give it away. */
    for (int inserted = 0; inserted < 2; inserted++) {
        long size = 0;
        if (rank == 0) size = file_copy_longer(good, bad, 16, inserted);
        MPI_Bcast(&size, 1, MPI_LONG, 0, MPI_COMM_WORLD);
        int st = load_capture(dir, bad, &m, &opt, msg, sizeof msg);
        tap_check_all(MPI_COMM_WORLD, size > 0 && st == DSC_ERR && strstr(msg, bad) && strstr(msg, "header says"),
                      "%s rejected: \"%s\"", inserted ? "16 bytes before the checksum, header and checksum matching"
                                                     : "16 bytes after the checksum", msg);
        st = load_capture(dir, bad, &m, NULL, msg, sizeof msg);
        tap_check_all(MPI_COMM_WORLD, size > 0 && st == DSC_ERR && strstr(msg, "header says"),
                      "%s rejected when loading the weights only", inserted ? "16 bytes before the checksum" : "16 bytes after the checksum");
    }

    /* Another architecture: one more latent unit. */
    model_config other = cfg;
    other.latent = 3;
    model o;
    model_create(&o, &other, BATCH);
    int st = load_capture(dir, good, &o, NULL, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR && strstr(msg, good) && strstr(msg, "architecture") && strstr(msg, "latent"),
                  "different architecture rejected: \"%s\"", msg);
    model_destroy(&o);
    other = cfg;
    other.variant = MODEL_CNN_AUTOENCODER;
    model_create(&o, &other, BATCH);
    st = load_capture(dir, good, &o, NULL, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR && strstr(msg, good) && strstr(msg, "variant"),
                  "different variant rejected: \"%s\"", msg);
    model_destroy(&o);

    /* Another optimizer kind. */
    optimizer sgd;
    optimizer_config scfg = optimizer_defaults(OPTIMIZER_SGD);
    optimizer_create(&sgd, &scfg, m.nparams);
    st = load_capture(dir, good, &m, &sgd, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR && strstr(msg, good) && strstr(msg, "adam"),
                  "checkpoint of another optimizer rejected: \"%s\"", msg);
    optimizer_destroy(&sgd);

    /* A missing file and an unwritable destination. */
    char missing[4200];
    snprintf(missing, sizeof missing, "%s/none.ckpt", dir);
    st = load_capture(dir, missing, &m, NULL, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR && strstr(msg, missing), "missing file rejected: \"%s\"", msg);
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.ckpt", dir);
    fflush(stderr);
    st = checkpoint_save(MPI_COMM_WORLD, missing, &m, &opt, NULL);
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR, "saving into a missing directory fails");

    /* The good file still loads (the checks above did not damage it). */
    st = load_capture(dir, good, &m, &opt, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, st == DSC_OK && msg[0] == '\0', "intact checkpoint loads");
    model_destroy(&m);
    optimizer_destroy(&opt);
}

/* dst = src rewritten as format version 2 wrote it: 18 architecture fields
 * (D1..D3 cut out), the given version number, total size and checksum to
 * match.  Returns the new size or -1. */
static long file_copy_version2(const char *src, const char *dst, uint32_t version)
{
    FILE *f = fopen(src, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return -1;
    }
    fclose(f);
    const long cut_at = 24 + 4 + 18 * 4, cut = 3 * 4, m = n - cut;
    uint32_t narch = 18;
    uint64_t total = (uint64_t)m;
    memmove(b + cut_at, b + cut_at + cut, (size_t)(n - cut_at - cut));
    memcpy(b + 8, &version, 4);
    memcpy(b + 16, &total, 8);
    memcpy(b + 24, &narch, 4);
    uint64_t sum = fnv1a(b, (size_t)(m - 8));
    memcpy(b + m - 8, &sum, 8);
    f = fopen(dst, "wb");
    int ok = f && fwrite(b, 1, (size_t)m, f) == (size_t)m;
    if (f) fclose(f);
    free(b);
    return ok ? m : -1;
}

/* A DEC model (variant dec) round trip with its dense widths, a model of
 * other widths refused, and a checkpoint of format version 2 (18
 * architecture fields, before the dense widths) still read. */
static void dec_and_version2(const char *dir, int rank)
{
    model_config cfg = model_config_dec();
    cfg.vars = 2;
    cfg.height = 3;
    cfg.width = 5;
    cfg.dense[0] = 4;
    cfg.dense[1] = 5;
    cfg.dense[2] = 6;
    cfg.latent = 2;
    cfg.clusters = 3;
    model a, b;
    optimizer oa, ob;
    memset(&b, 0, sizeof b);
    memset(&ob, 0, sizeof ob);
    optimizer_config ocfg = optimizer_defaults(OPTIMIZER_ADAM);
    model_create(&a, &cfg, BATCH);
    model_init(&a, 21);
    optimizer_create(&oa, &ocfg, a.nparams);
    float x[BATCH * 30];
    rng_state r;
    rng_seed(&r, 4, 4);
    rng_fill_uniform(&r, x, BATCH * 30, 0.0f, 1.0f);
    for (int it = 0; it < 3; it++) { /* moments worth saving */
        model_forward(&a, x, BATCH, 1);
        model_zero_grad(&a);
        model_backward(&a, 1.0f, NULL);
        optimizer_step(&oa, a.params, a.grads);
    }
    char path[4096], msg[1024];
    snprintf(path, sizeof path, "%s/dec.ckpt", dir);
    int st = checkpoint_save(MPI_COMM_WORLD, path, &a, &oa, NULL);
    model_config got;
    memset(&got, 0, sizeof got);
    if (st == DSC_OK) st = checkpoint_read_config(MPI_COMM_WORLD, path, &got, NULL, NULL);
    tap_check_all(MPI_COMM_WORLD, st == DSC_OK && got.variant == MODEL_DEC && got.dense[0] == 4 && got.dense[1] == 5 &&
                                      got.dense[2] == 6 && got.latent == 2 && got.height == 3 && got.width == 5 &&
                                      got.activation == ACTIVATION_RELU && got.latent_activation == ACTIVATION_IDENTITY,
                  "dec: the checkpoint records variant, grid, dense widths 4,5,6, latent and ReLU");
    if (st == DSC_OK) st = model_create(&b, &got, BATCH);
    if (st == DSC_OK) st = optimizer_create(&ob, &ocfg, b.nparams);
    if (st == DSC_OK) st = checkpoint_load(MPI_COMM_WORLD, path, &b, &ob, NULL);
    tap_check_all(MPI_COMM_WORLD, st == DSC_OK && b.nparams == a.nparams && !memcmp(a.params, b.params, a.nparams * sizeof(float)) &&
                                      !memcmp(oa.v, ob.v, a.nparams * sizeof(float)),
                  "dec: a model built from the checkpoint's configuration loads it bitwise (%zu parameters)", a.nparams);
    optimizer_destroy(&ob);
    model_destroy(&b);
    model_config other = cfg;
    other.dense[1] = 7;
    model_create(&b, &other, BATCH);
    st = load_capture(dir, path, &b, NULL, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, st == DSC_ERR && strstr(msg, path) && strstr(msg, "dense2 width"),
                  "dec: a model of other dense widths refused: \"%s\"", msg);
    model_destroy(&b);
    optimizer_destroy(&oa);
    model_destroy(&a);

    /* version 2: a CNN-LSTM checkpoint as the previous format wrote it */
    model_config ccfg = tiny();
    model_create(&a, &ccfg, BATCH);
    model_init(&a, 8);
    char v3[4096], v2[4200];
    snprintf(v3, sizeof v3, "%s/v3.ckpt", dir);
    snprintf(v2, sizeof v2, "%s/v2.ckpt", dir);
    checkpoint_save(MPI_COMM_WORLD, v3, &a, NULL, NULL);
    long size = rank == 0 ? file_copy_version2(v3, v2, 2) : 0;
    MPI_Bcast(&size, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    st = checkpoint_read_config(MPI_COMM_WORLD, v2, &got, NULL, NULL);
    int same = st == DSC_OK && got.variant == ccfg.variant && got.latent == ccfg.latent && got.conv[4] == ccfg.conv[4] &&
               got.dense[0] == 0 && got.dense[2] == 0;
    model_create(&b, &ccfg, BATCH);
    st = same ? load_capture(dir, v2, &b, NULL, msg, sizeof msg) : DSC_ERR;
    tap_check_all(MPI_COMM_WORLD, size > 0 && st == DSC_OK && !memcmp(a.params, b.params, a.nparams * sizeof(float)),
                  "format version 2 (18 architecture fields) still read: configuration and parameters");
    /* version 3 with the 18 fields of version 2: corrupt */
    size = rank == 0 ? file_copy_version2(v3, v2, 3) : 0;
    MPI_Bcast(&size, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    st = load_capture(dir, v2, &b, NULL, msg, sizeof msg);
    tap_check_all(MPI_COMM_WORLD, size > 0 && st == DSC_ERR && strstr(msg, v2) && strstr(msg, "18 fields"),
                  "a version 3 file with 18 architecture fields refused: \"%s\"", msg);
    model_destroy(&b);
    model_destroy(&a);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char dir[256] = "";
    if (rank == 0) {
        snprintf(dir, sizeof dir, "%s/dsc-ckpt.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
        if (!mkdtemp(dir)) dir[0] = '\0';
    }
    MPI_Bcast(dir, sizeof dir, MPI_CHAR, 0, MPI_COMM_WORLD);
    if (!dir[0]) {
        tap_check(0, "temporary directory");
        MPI_Finalize();
        return 1;
    }

    model_config cfg = tiny();
    sample_floats = (size_t)cfg.steps * cfg.vars * cfg.height * cfg.width;
    data = malloc(NSAMPLES * sample_floats * sizeof(float));
    rng_state r;
    rng_seed(&r, 2, 0);
    rng_fill_uniform(&r, data, NSAMPLES * sample_floats, 0.0f, 1.0f);

    { /* gradient sum over the ranks: rank r holds r + 1 everywhere */
        int size;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        model g;
        model_create(&g, &cfg, 1);
        for (size_t i = 0; i < g.nparams; i++) g.grads[i] = (float)(rank + 1);
        int st = model_allreduce_gradients(&g, MPI_COMM_WORLD);
        int ok = st == DSC_OK;
        for (size_t i = 0; i < g.nparams; i++) ok = ok && fabsf(g.grads[i] - 0.5f * (float)size * (float)(size + 1)) < 1e-6f;
        tap_check_all(MPI_COMM_WORLD, ok, "model_allreduce_gradients sums over %d ranks", size);
        model_destroy(&g);
    }
    { /* the same across the 4 MB chunks of the reduction: a DEC buffer of 2.5 M
       * floats (two whole chunks and a part), each element its own value */
        int size;
        MPI_Comm_size(MPI_COMM_WORLD, &size);
        model_config big = model_config_dec();
        big.vars = 1;
        big.height = 64;
        big.width = 64;
        big.dense[0] = 300;
        big.dense[1] = big.dense[2] = 8;
        big.latent = 2;
        model g;
        int st = model_create(&g, &big, 1);
        int ok = st == DSC_OK && g.nparams > 2 * ((size_t)1 << 20);
        if (st == DSC_OK) {
            for (size_t i = 0; i < g.nparams; i++) g.grads[i] = (float)((rank + 1) * (int)(i % 7 + 1));
            ok = ok && model_allreduce_gradients(&g, MPI_COMM_WORLD) == DSC_OK;
            const float ranks = 0.5f * (float)size * (float)(size + 1);
            for (size_t i = 0; i < g.nparams; i++) ok = ok && g.grads[i] == ranks * (float)(i % 7 + 1);
        }
        tap_check_all(MPI_COMM_WORLD, ok, "model_allreduce_gradients sums every element of %zu floats (chunked) over %d ranks",
                      st == DSC_OK ? g.nparams : 0, size);
        if (st == DSC_OK) model_destroy(&g);
        else dsc_clear();
    }
    round_trip(dir, OPTIMIZER_SGD);
    round_trip(dir, OPTIMIZER_ADAM);
    rejections(dir, rank);
    huge_blocks(dir, rank);
    dec_and_version2(dir, rank);

    MPI_Barrier(MPI_COMM_WORLD);
    if (rank == 0) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    }
    free(data);
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
