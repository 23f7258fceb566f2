/*
 * train.c - the DSC training loop, data parallel over MPI ranks (see
 * train.h): pre-training, k-means initialisation of the centroids, joint
 * training of reconstruction + clustering loss (paper eq. 7) with target
 * updates (eq. 4) and the stopping rule on label changes.
 */
#include "train.h"
#include "hash.h"
#include "clustering.h"
#include "kmeans.h"
#include "latent_pass.h"
#include "partition.h"
#include "run_common.h"
#include "sample_exchange.h"
#include "status.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- signals --------------------------------------------------------------- */

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void train_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

/* ---- state ------------------------------------------------------------------ */

#define STATE_MAGIC 1146312276.0 /* "DSCT" */
#define STATE_VERSION 1.0
#define STATE_HEADER 16

int train_state_create(train_state *s, long long T, int K)
{
    memset(s, 0, sizeof *s);
    s->T = T;
    s->K = K;
    s->p = dsc_calloc((size_t)T * K, sizeof(double), "target distribution");
    s->prev_labels = dsc_malloc((size_t)T * sizeof(int), "labels of the last update");
    s->cap_records = 64;
    s->records = dsc_malloc((size_t)s->cap_records * sizeof(train_record), "loss history");
    if (!s->p || !s->prev_labels || !s->records) {
        train_state_destroy(s);
        return DSC_ERR;
    }
    for (long long t = 0; t < T; t++) s->prev_labels[t] = -1;
    return DSC_OK;
}

void train_state_destroy(train_state *s)
{
    free(s->p);
    free(s->prev_labels);
    free(s->records);
    memset(s, 0, sizeof *s);
}

static int add_record(train_state *s, const train_record *r)
{
    if (s->nrecords == s->cap_records) {
        train_record *n = realloc(s->records, (size_t)s->cap_records * 2 * sizeof(train_record));
        if (!n) return dsc_fail("out of memory growing the loss history");
        s->records = n;
        s->cap_records *= 2;
    }
    s->records[s->nrecords++] = *r;
    return DSC_OK;
}

/* Layout (doubles): header (16), fingerprint (8), pretrain losses (npretrain),
 * records (4 each), p (T*K), previous labels (T). */
static size_t state_doubles(const train_state *s)
{
    return STATE_HEADER + 8 + (size_t)s->npretrain + 4 * (size_t)s->nrecords + (size_t)s->T * s->K + (size_t)s->T;
}

size_t train_state_bytes(const train_state *s) { return state_doubles(s) * sizeof(double); }

void train_state_pack(const train_state *s, void *buf)
{
    double *d = buf;
    double h[STATE_HEADER] = {STATE_MAGIC, STATE_VERSION, (double)s->iteration, s->centroids_ready, s->below,
                              s->converged, (double)s->T, s->K, s->npretrain, s->nrecords, s->alpha};
    memcpy(d, h, sizeof h);
    d += STATE_HEADER;
    memcpy(d, s->fingerprint, sizeof s->fingerprint);
    d += 8;
    memcpy(d, s->pretrain_loss, (size_t)s->npretrain * sizeof(double));
    d += s->npretrain;
    for (int i = 0; i < s->nrecords; i++) {
        const train_record *r = &s->records[i];
        d[0] = (double)r->step;
        d[1] = r->rec_loss;
        d[2] = r->kl_loss;
        d[3] = r->changed;
        d += 4;
    }
    memcpy(d, s->p, (size_t)s->T * s->K * sizeof(double));
    d += (size_t)s->T * s->K;
    for (long long t = 0; t < s->T; t++) d[t] = s->prev_labels[t];
}

int train_state_unpack(train_state *s, const void *buf, size_t bytes, const char *path)
{
    const double *d = buf;
    if (bytes < (STATE_HEADER + 8) * sizeof(double) || d[0] != STATE_MAGIC || d[1] != STATE_VERSION)
        return dsc_fail("%s: no training state of this dsc version in the checkpoint; resume only from a checkpoint of dsc train", path);
    if (s->T < 0) { /* any size: dsc predict reads the state of a trained model */
        /* (range-checked: a damaged header must not overflow the conversions) */
        s->T = d[6] >= 0 && d[6] < 1e15 ? (long long)d[6] : 0;
        s->K = d[7] >= 0 && d[7] < 1e9 ? (int)d[7] : 0;
        s->alpha = d[10] > 0 ? d[10] : 1.0;
        s->iteration = d[2] >= 0 && d[2] < 1e15 ? (long)d[2] : 0;
        s->centroids_ready = d[3] != 0; /* 0: stopped during pre-training, no clusters yet */
        return DSC_OK;
    }
    if ((long long)d[6] != s->T || (int)d[7] != s->K)
        return dsc_fail("%s: the checkpoint was trained on %lld time steps with %d clusters, this run has %lld and %d; give "
                        "the same data and -k to --resume", path, (long long)d[6], (int)d[7], s->T, s->K);
    s->iteration = (long)d[2];
    s->centroids_ready = (int)d[3];
    s->below = (int)d[4];
    s->converged = (int)d[5];
    s->alpha = d[10] > 0 ? d[10] : 1.0;
    int npre = (int)d[8], nrec = (int)d[9];
    if (npre < 0 || npre > 1024 || nrec < 0) return dsc_fail("%s: corrupt training state", path);
    s->npretrain = npre;
    s->nrecords = 0;
    const size_t need = (STATE_HEADER + 8 + (size_t)npre + 4 * (size_t)nrec + (size_t)s->T * s->K + (size_t)s->T) * sizeof(double);
    if (bytes != need) return dsc_fail("%s: training state has %zu bytes, %zu expected; the file is corrupt", path, bytes, need);
    d += STATE_HEADER;
    memcpy(s->fingerprint, d, sizeof s->fingerprint);
    d += 8;
    memcpy(s->pretrain_loss, d, (size_t)npre * sizeof(double));
    d += npre;
    for (int i = 0; i < nrec; i++, d += 4) {
        train_record r = {(long)d[0], d[1], d[2], d[3]};
        if (add_record(s, &r) != DSC_OK) return DSC_ERR;
    }
    memcpy(s->p, d, (size_t)s->T * s->K * sizeof(double));
    d += (size_t)s->T * s->K;
    for (long long t = 0; t < s->T; t++) s->prev_labels[t] = (int)d[t];
    return DSC_OK;
}

/* ---- batches ----------------------------------------------------------------- */

/* The global time-step order: epoch e is a seeded Fisher-Yates permutation
 * of 0..T-1, the same on every rank; position pos of the endless stream is
 * perm_{pos / T}[pos % T]. */
typedef struct {
    long long T;
    uint64_t seed;
    long epoch;       /* epoch of perm, -1 none */
    long long *perm;  /* (T) */
} batch_order;

static long long order_at(batch_order *b, long long pos)
{
    long e = (long)(pos / b->T);
    if (e != b->epoch) {
        rng_state r;
        rng_seed(&r, b->seed, 0x5eed0000ULL + (uint64_t)e);
        for (long long i = 0; i < b->T; i++) b->perm[i] = i;
        for (long long i = b->T - 1; i > 0; i--) {
            long long j = (long long)(rng_next(&r) % (uint64_t)(i + 1));
            long long t = b->perm[i];
            b->perm[i] = b->perm[j];
            b->perm[j] = t;
        }
        b->epoch = e;
    }
    return b->perm[pos % b->T];
}

/* ---- helpers ------------------------------------------------------------------ */

int train_soft_assign(MPI_Comm comm, model *m, const float *x, long long T, double alpha, float *z, double *q)
{
    if (latent_pass(comm, m, x, T, z) != DSC_OK) return DSC_ERR;
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    clustering_soft_assign(q, z, m->centroids, n, m->cfg.clusters, m->cfg.latent, alpha);
    return DSC_OK;
}

static int save_checkpoint(MPI_Comm comm, const model *m, const optimizer *opt, const train_options *o, const train_state *st,
                           const void *blob, size_t blob_bytes)
{
    if (o->before_checkpoint && o->before_checkpoint(comm, o->before_checkpoint_ctx) != DSC_OK) return DSC_ERR;
    size_t nb = train_state_bytes(st);
    void *buf = dsc_malloc(nb, "training state");
    if (dsc_agree(comm, buf ? DSC_OK : DSC_ERR) != DSC_OK) {
        free(buf);
        return DSC_ERR;
    }
    train_state_pack(st, buf);
    checkpoint_extra x = {.iteration = st->iteration, .epoch = 0, .has_rng = 0, .blob = (void *)blob,
                          .blob_bytes = blob_bytes, .state = buf, .state_bytes = nb};
    int status = checkpoint_save(comm, o->checkpoint_path, m, opt, &x);
    free(buf);
    return status;
}

/* Collective: the target update.  q of all time steps (latent pass),
 * f (allreduce), p of all time steps on every rank (allgather), labels and
 * the fraction changed since the last update. */
static int update_target(MPI_Comm comm, model *m, const float *x, long long T, const train_options *o, train_state *st,
                         float *z, double *q, int *labels_all, int *counts, int *displs, double *changed)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    const int K = o->k;
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    if (train_soft_assign(comm, m, x, T, o->alpha, z, q) != DSC_OK) return DSC_ERR;
    double f[K];
    memset(f, 0, sizeof f);
    clustering_column_sums(f, q, n, K);
    MPI_Allreduce(MPI_IN_PLACE, f, K, MPI_DOUBLE, MPI_SUM, comm);
    clustering_target(st->p + (size_t)t0 * K, q, f, n, K);
    run_block_counts(T, P, K, counts, displs);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, st->p, counts, displs, MPI_DOUBLE, comm);
    int *mine = labels_all + t0;
    clustering_hard_labels(mine, q, n, K);
    long long diff = 0;
    for (long long i = 0; i < n; i++) diff += mine[i] != st->prev_labels[t0 + i];
    MPI_Allreduce(MPI_IN_PLACE, &diff, 1, MPI_LONG_LONG, MPI_SUM, comm);
    run_block_counts(T, P, 1, counts, displs);
    MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, labels_all, counts, displs, MPI_INT, comm);
    memcpy(st->prev_labels, labels_all, (size_t)T * sizeof(int));
    *changed = (double)diff / (double)T;
    return DSC_OK;
}

static void format_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

/* Collective, step 2: centroids by k-means on the latents of all time steps. */
static int init_centroids(MPI_Comm comm, model *m, const float *x, long long T, const train_options *o, float *z,
                          long long n, train_timings *tm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    const int K = o->k, L = m->cfg.latent;
    double t = MPI_Wtime();
    if (latent_pass(comm, m, x, T, z) != DSC_OK) return DSC_ERR;
    kmeans_options ko = kmeans_defaults(K);
    ko.n_init = o->kmeans_init;
    ko.seed = o->seed;
    kmeans_result kr;
    if (kmeans_fit(comm, z, n, L, &ko, &kr, NULL) != DSC_OK) return DSC_ERR;
    for (size_t i = 0; i < (size_t)K * L; i++) m->centroids[i] = (float)kr.centroids[i];
    kmeans_result_destroy(&kr);
    tm->kmeans += MPI_Wtime() - t;
    if (rank == 0 && o->verbose >= 1) {
        printf("dsc train: centroids from k-means on the latent vectors of %lld time steps (%d restarts)\n", T, o->kmeans_init);
        fflush(stdout);
    }
    return DSC_OK;
}

/* Sum of squares of n floats in double: Inf or NaN as soon as one value is. */
static double gradient_sumsq(const float *g, size_t n)
{
    double s = 0;
#pragma omp parallel for reduction(+ : s) schedule(static)
    for (size_t i = 0; i < n; i++) s += (double)g[i] * g[i];
    return s;
}

/* The error of a run that diverged at global step it: names the step as the
 * progress lines do, and the checkpoint to go on from. */
static int fail_not_finite(const char *what, long it, long npre, long last_checkpoint, const train_options *o)
{
    char step[64], ckpt[4300];
    if (it < npre) snprintf(step, sizeof step, "pre-training step %ld", it);
    else snprintf(step, sizeof step, "joint step %ld", it - npre);
    if (last_checkpoint >= 0)
        snprintf(ckpt, sizeof ckpt, "%s, written after %ld steps, is left as it was: resume from it with --resume and a "
                 "lower rate", o->checkpoint_path, last_checkpoint);
    else snprintf(ckpt, sizeof ckpt, "no checkpoint was written (--checkpoint-every N keeps one)");
    return dsc_fail("dsc train: %s at %s (global step %ld); lower --lr (pre-training) or --joint-lr, or check the "
                    "input data; %s", what, step, it, ckpt);
}

/* Debugging: DSC_FAULT_NAN_STEP=N poisons one gradient value at global step N
 * (on rank DSC_FAULT_NAN_RANK only, when given) before the allreduce, to
 * exercise the detection of a diverging run.  -1: not set. */
static int fault_step(MPI_Comm comm, long *step)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    *step = -1;
    const char *s = getenv("DSC_FAULT_NAN_STEP"), *r = getenv("DSC_FAULT_NAN_RANK");
    if (!s) return DSC_OK;
    char *end;
    long v = strtol(s, &end, 10), who = r ? strtol(r, NULL, 10) : rank;
    if (end == s || *end != '\0' || v < 0)
        return dsc_fail("environment variable DSC_FAULT_NAN_STEP: '%s' is not a step number; unset it", s);
    if (who == rank) *step = v;
    return DSC_OK;
}

int train_auto_epochs(long long T)
{
    long long e = T > 0 ? (TRAIN_AUTO_MIN_SAMPLES + T - 1) / T : TRAIN_AUTO_EPOCHS;
    return e > TRAIN_AUTO_EPOCHS ? (int)e : TRAIN_AUTO_EPOCHS;
}

/* ---- the loop ------------------------------------------------------------------- */

int train_run(MPI_Comm comm, model *m, optimizer *opt, const float *x, long long T, const train_options *o,
              train_state *st, const void *blob, size_t blob_bytes, train_timings *tm)
{
    int rank, P;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &P);
    const int K = o->k, L = m->cfg.latent, S = m->cfg.steps, B = o->batch;
    const size_t F = (size_t)m->cfg.vars * m->cfg.height * m->cfg.width;
    long long t0, n;
    block_range(T, P, rank, &t0, &n);
    long long b0, nb; /* this rank's positions of every global batch */
    block_range(B, P, rank, &b0, &nb);
    const long steps_per_epoch = (long)((T + B - 1) / B);
    const long npre = m->has_decoder ? (long)o->pretrain_epochs * steps_per_epoch : 0;
    const long nend = npre + o->max_iter;
    memset(tm, 0, sizeof *tm);

    batch_order order = {.T = T, .seed = o->seed, .epoch = -1};
    order.perm = dsc_malloc((size_t)T * sizeof(long long), "batch order");
    long long *ids = dsc_malloc((size_t)(nb + 1) * sizeof(long long), "batch indices");
    long long *frames = dsc_malloc((size_t)(nb * S + 1) * sizeof(long long), "batch frames");
    float *xb = dsc_malloc(((size_t)nb * S * F + 1) * sizeof(float), "batch input");
    float *dz = dsc_malloc(((size_t)nb * L + 1) * sizeof(float), "latent gradient");
    double *pb = dsc_malloc(((size_t)nb * K + 1) * sizeof(double), "batch targets");
    float *z = dsc_malloc(((size_t)n * L + 1) * sizeof(float), "latent vectors");
    double *q = dsc_malloc(((size_t)n * K + 1) * sizeof(double), "soft assignments");
    int *labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
    int *counts = dsc_malloc((size_t)2 * P * sizeof(int), "counts");
    int status = order.perm && ids && frames && xb && dz && pb && z && q && labels_all && counts ? DSC_OK : DSC_ERR;
    long nan_step = -1;
    if (status == DSC_OK) status = fault_step(comm, &nan_step);
    if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
    int *displs = counts + P;

    double rec_sum = 0, kl_sum = 0; /* since the last record: this rank's share of the batch means */
    long nsum = 0;                  /* steps since the last record (the same on every rank) */
    double t_start = MPI_Wtime(), t_joint0 = 0;
    long joint_done0 = -1;
    long last_checkpoint = o->resumed_from; /* step of the checkpoint on disk, -1 none */
    while (st->iteration < nend && !st->converged) {
        const long it = st->iteration;
        const int joint = it >= npre;
        if (joint && !st->centroids_ready) { /* step 2 */
            status = init_centroids(comm, m, x, T, o, z, n, tm);
            if (status != DSC_OK) goto done;
            st->centroids_ready = 1;
        }
        if (joint && (it - npre) % o->update_interval == 0) { /* step 3: target update */
            double t = MPI_Wtime(), changed = 0;
            status = update_target(comm, m, x, T, o, st, z, q, labels_all, counts, displs, &changed);
            if (status != DSC_OK) goto done;
            tm->update += MPI_Wtime() - t;
            double sums[2] = {rec_sum, kl_sum};
            MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, comm);
            const int first = st->nrecords == 0 || st->records[st->nrecords - 1].step < 0;
            train_record r = {it - npre, nsum > 0 ? sums[0] / (double)nsum : NAN, nsum > 0 ? sums[1] / (double)nsum : NAN,
                              first ? NAN : changed};
            rec_sum = kl_sum = 0;
            nsum = 0;
            if (add_record(st, &r) != DSC_OK) status = DSC_ERR;
            if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
            if (!first && it > npre) {
                st->below = changed < o->tol ? st->below + 1 : 0;
                if (st->below >= o->patience) st->converged = 1;
            }
            if (rank == 0 && o->verbose >= 1) {
                double el = MPI_Wtime() - t_start, rate = 0, left = 0;
                if (joint_done0 >= 0 && it > joint_done0) {
                    rate = (double)(it - joint_done0) * B / (MPI_Wtime() - t_joint0);
                    left = (double)(nend - it) * B / rate;
                }
                char e[32], l[32];
                format_duration(el, e, sizeof e);
                format_duration(left, l, sizeof l);
                printf("step %6ld/%ld  rec %.4g  kl %.4g  changed %6.2f%%  %6.1f samples/s  elapsed %s  left %s%s\n",
                       it - npre, o->max_iter, r.rec_loss, r.kl_loss, first ? 0.0 : 100 * changed, rate, e,
                       rate > 0 ? l : "?", st->converged ? "  converged" : "");
                fflush(stdout);
            }
            if (joint_done0 < 0) {
                joint_done0 = it;
                t_joint0 = MPI_Wtime();
            }
            if (st->converged) break;
        }

        /* one step on the global batch */
        double tc = MPI_Wtime();
        for (long long i = 0; i < nb; i++) {
            ids[i] = order_at(&order, (long long)it * B + b0 + i);
            sample_window(ids[i], S, frames + i * S);
        }
        status = sample_fetch(comm, x, T, F, frames, nb * S, xb);
        if (status != DSC_OK) goto done;
        model_zero_grad(m);
        double rec = 0, kl = 0;
        if (nb > 0) {
            model_set_dropout_keys(m, o->seed, (uint64_t)it, ids);
            if (model_forward(m, xb, (int)nb, 1) != DSC_OK) status = DSC_ERR;
            if (status == DSC_OK && m->has_decoder) rec = m->loss;
            float *dlatent = NULL;
            if (status == DSC_OK && joint) {
                memset(dz, 0, (size_t)nb * L * sizeof(float));
                for (long long i = 0; i < nb; i++) memcpy(pb + i * K, st->p + (size_t)ids[i] * K, (size_t)K * sizeof(double));
                /* gamma * KL averaged over the global batch: this rank's share */
                double scaled = clustering_kl_backward(dz, m->dcentroids, m->latent, m->centroids, pb, nb, K, L, o->alpha,
                                                       o->gamma / (double)B);
                kl = o->gamma > 0 ? scaled / o->gamma * (double)B / (double)nb : 0.0; /* mean KL of the local samples */
                dlatent = dz;
            }
            /* the reconstruction term, unless the decoder is dropped after pre-training (DEC) */
            const int with_rec = m->has_decoder && !(joint && o->drop_decoder);
            if (status == DSC_OK && (with_rec || dlatent))
                status = model_backward(m, with_rec ? (float)((double)nb / B) : 0.0f, dlatent);
            model_set_dropout_keys(m, 0, 0, NULL);
        }
        /* flags: a signal arrived; the loss or the gradient is not finite.
         * The gradient after the allreduce is the same on every rank, so its
         * norm needs no further communication; the flag allreduce that every
         * step does anyway makes all ranks stop at this step together. */
        int flags[2] = {stop_requested, status == DSC_OK && isfinite(rec) && isfinite(kl) ? 0 : 1};
        double ta = MPI_Wtime();
        if (it == nan_step && m->nparams > 0) m->grads[m->nparams - 1] = NAN;
        if (status == DSC_OK) status = model_allreduce_gradients(m, comm);
        if (status == DSC_OK && !flags[1] && !isfinite(gradient_sumsq(m->grads, m->nparams))) flags[1] = 1;
        MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPI_INT, MPI_MAX, comm);
        double tb = MPI_Wtime();
        if (flags[1]) status = fail_not_finite("the loss or its gradient is not finite", it, npre, last_checkpoint, o);
        if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
        opt->cfg.learning_rate = (float)(joint ? o->joint_lr : o->pretrain_lr);
        optimizer_step(opt, m->params, m->grads);
        rec_sum += rec * (double)nb / B;
        kl_sum += kl * (double)nb / B;
        nsum++;
        st->iteration = it + 1;
        double te = MPI_Wtime();
        if (joint) {
            tm->joint_compute += (ta - tc) + (te - tb);
            tm->joint_allreduce += tb - ta;
        } else {
            tm->pretrain += te - tc;
        }
        if (o->verbose >= 2 && rank == 0) {
            printf("  %s step %ld: local rec %.4g, kl %.4g, %.3f s (allreduce %.3f s)\n", joint ? "joint" : "pre-training",
                   joint ? it - npre : it, rec, kl, te - tc, tb - ta);
            fflush(stdout);
        }
        if (o->check_replicas) {
            uint64_t h = hash_fnv1a(HASH_FNV1A_START, m->params, m->nparams * sizeof(float)), lo = h, hi = h;
            MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, comm);
            MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, comm);
            if (lo != hi) status = dsc_fail("dsc train: --check-replicas: the replicas differ after step %ld", it);
            if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
        }
        if (!joint && (it + 1) % steps_per_epoch == 0) {
            double sum = rec_sum;
            MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, comm);
            double mean = nsum > 0 ? sum / (double)nsum : NAN;
            if (st->npretrain < 1024) st->pretrain_loss[st->npretrain++] = mean;
            rec_sum = kl_sum = 0;
            nsum = 0;
            if (rank == 0 && o->verbose >= 1) {
                char e[32];
                format_duration(MPI_Wtime() - t_start, e, sizeof e);
                printf("pre-training epoch %3ld/%d  rec %.4g  elapsed %s\n", (it + 1) / steps_per_epoch, o->pretrain_epochs,
                       mean, e);
                fflush(stdout);
            }
        }
        const int periodic = o->checkpoint_every > 0 && st->iteration % o->checkpoint_every == 0;
        if (flags[0] || periodic) {
            /* finite gradients can still overflow the parameters (a huge
             * learning rate): never replace a good checkpoint by such a model */
            if (!isfinite(gradient_sumsq(m->params, m->nparams)))
                status = fail_not_finite("the parameters are not finite", it, npre, last_checkpoint, o);
            if ((status = dsc_agree(comm, status)) != DSC_OK) goto done;
            status = save_checkpoint(comm, m, opt, o, st, blob, blob_bytes);
            if (status != DSC_OK) goto done;
            last_checkpoint = st->iteration;
            if (flags[0]) {
                if (rank == 0)
                    fprintf(stderr, "dsc train: stopped by a signal at step %ld; checkpoint written to %s; continue with "
                                    "dsc train --resume\n", st->iteration, o->checkpoint_path);
                status = DSC_STOPPED;
                goto done;
            }
        }
    }
    if (!st->centroids_ready) { /* no joint step (--max-iter 0): autoencoder + k-means */
        status = init_centroids(comm, m, x, T, o, z, n, tm);
        if (status == DSC_OK) st->centroids_ready = 1;
    }

done:
    free(order.perm);
    free(ids);
    free(frames);
    free(xb);
    free(dz);
    free(pb);
    free(z);
    free(q);
    free(labels_all);
    free(counts);
    return status;
}
