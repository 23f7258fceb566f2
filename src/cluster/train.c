/*
 * train.c - the DSC training loop, data parallel over MPI ranks (see
 * train.h): pre-training, k-means initialisation of the centroids, joint
 * training of reconstruction + clustering loss (paper eq. 7) with target
 * updates (eq. 4) and the stopping rule on label changes.
 */
#include "train.h"
#include "blas_env.h"
#include "hash.h"
#include "clustering.h"
#include "kmeans.h"
#include "partition.h"
#include "run_gather.h"
#include "sample_exchange.h"
#include "status.h"
#include "train_faults.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* ---- one run of the loop -------------------------------------------------------- */

/* What train_run works on, its buffers and its running sums. */
typedef struct {
    /* the arguments of train_run */
    MPI_Comm comm;
    model *m;
    optimizer *opt;
    const float *x;
    long long T;
    const train_options *o;
    train_state *st;
    const void *blob;
    size_t blob_bytes;
    train_timings *tm;
    /* sizes */
    int rank, P, K, L, S, B;
    size_t F;
    long long t0, n;          /* this rank's time steps */
    long long b0, nb;         /* this rank's positions of every global batch */
    long steps_per_epoch, npre, nend; /* pre-training steps; steps in all */
    /* buffers */
    batch_order order;
    long long *ids;           /* (nb) time steps of this rank's share of the batch */
    long long *frames;        /* (nb * S) the frames of their windows */
    float *xb;                /* (nb, S, F) batch input */
    float *dz;                /* (nb, L) latent gradient of the clustering loss */
    double *pb;               /* (nb, K) batch targets */
    float *z;                 /* (n, L) latents of this rank's time steps */
    double *q;                /* (n, K) their soft assignments */
    int *labels_all;          /* (T) */
    int *counts, *displs;     /* (P) each */
    train_faults faults;
    /* progress */
    double rec_sum, kl_sum;   /* since the last record: this rank's share of the batch means */
    long nsum;                /* steps since the last record (the same on every rank) */
    double t_start, t_joint0; /* when the run and its first joint step started */
    long joint_done0;         /* step of the first target update, -1 before it */
    long last_checkpoint;     /* step of the checkpoint on disk, -1 none */
} train_loop;

/* Losses of one step on this rank's share of the batch. */
typedef struct {
    double rec, kl;
} step_loss;

static void loop_close(train_loop *lp)
{
    free(lp->order.perm);
    free(lp->ids);
    free(lp->frames);
    free(lp->xb);
    free(lp->dz);
    free(lp->pb);
    free(lp->z);
    free(lp->q);
    free(lp->labels_all);
    free(lp->counts);
}

/* Collective: sizes and buffers; DSC_ERR (agreed) when one is missing. */
static int loop_open(train_loop *lp, MPI_Comm comm, model *m, optimizer *opt, const float *x, long long T,
                     const train_options *o, train_state *st, const void *blob, size_t blob_bytes, train_timings *tm)
{
    *lp = (train_loop){.comm = comm, .m = m, .opt = opt, .x = x, .T = T, .o = o, .st = st, .blob = blob,
                       .blob_bytes = blob_bytes, .tm = tm};
    MPI_Comm_rank(comm, &lp->rank);
    MPI_Comm_size(comm, &lp->P);
    const int K = lp->K = o->k, L = lp->L = m->cfg.latent, S = lp->S = m->cfg.steps, B = lp->B = o->batch;
    lp->F = (size_t)m->cfg.vars * m->cfg.height * m->cfg.width;
    block_range(T, lp->P, lp->rank, &lp->t0, &lp->n);
    block_range(B, lp->P, lp->rank, &lp->b0, &lp->nb);
    lp->steps_per_epoch = (long)((T + B - 1) / B);
    lp->npre = m->has_decoder ? (long)o->pretrain_epochs * lp->steps_per_epoch : 0;
    lp->nend = lp->npre + o->max_iter;
    memset(tm, 0, sizeof *tm);

    const long long n = lp->n, nb = lp->nb;
    lp->order = (batch_order){.T = T, .seed = o->seed, .epoch = -1};
    lp->order.perm = dsc_malloc((size_t)T * sizeof(long long), "batch order");
    lp->ids = dsc_malloc((size_t)(nb + 1) * sizeof(long long), "batch indices");
    lp->frames = dsc_malloc((size_t)(nb * S + 1) * sizeof(long long), "batch frames");
    lp->xb = dsc_malloc(((size_t)nb * S * lp->F + 1) * sizeof(float), "batch input");
    lp->dz = dsc_malloc(((size_t)nb * L + 1) * sizeof(float), "latent gradient");
    lp->pb = dsc_malloc(((size_t)nb * K + 1) * sizeof(double), "batch targets");
    lp->z = dsc_malloc(((size_t)n * L + 1) * sizeof(float), "latent vectors");
    lp->q = dsc_malloc(((size_t)n * K + 1) * sizeof(double), "soft assignments");
    lp->labels_all = dsc_malloc((size_t)T * sizeof(int), "labels");
    lp->counts = dsc_malloc((size_t)2 * lp->P * sizeof(int), "counts");
    lp->displs = lp->counts ? lp->counts + lp->P : NULL;
    int status = lp->order.perm && lp->ids && lp->frames && lp->xb && lp->dz && lp->pb && lp->z && lp->q &&
                         lp->labels_all && lp->counts
                     ? DSC_OK
                     : DSC_ERR;
    lp->faults.nan_step = -1;
    if (status == DSC_OK) status = train_faults_read(comm, &lp->faults);
    lp->t_start = MPI_Wtime();
    lp->joint_done0 = -1;
    lp->last_checkpoint = o->resumed_from;
    return dsc_agree(comm, status);
}

/* ---- helpers ------------------------------------------------------------------ */

static void format_duration(double s, char *buf, size_t n)
{
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
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
static int fail_not_finite(const train_loop *lp, const char *what, long it)
{
    const train_options *o = lp->o;
    char step[64], ckpt[4300];
    if (it < lp->npre) snprintf(step, sizeof step, "pre-training step %ld", it);
    else snprintf(step, sizeof step, "joint step %ld", it - lp->npre);
    if (lp->last_checkpoint >= 0)
        snprintf(ckpt, sizeof ckpt, "%s, written after %ld steps, is left as it was: resume from it with --resume and a "
                 "lower rate", o->checkpoint_path, lp->last_checkpoint);
    else snprintf(ckpt, sizeof ckpt, "no checkpoint was written (--checkpoint-every N keeps one)");
    return dsc_fail("dsc train: %s at %s (global step %ld); lower --lr (pre-training) or --joint-lr, or check the "
                    "input data; %s", what, step, it, ckpt);
}

int train_auto_epochs(long long T)
{
    long long e = T > 0 ? (TRAIN_AUTO_MIN_SAMPLES + T - 1) / T : TRAIN_AUTO_EPOCHS;
    return e > TRAIN_AUTO_EPOCHS ? (int)e : TRAIN_AUTO_EPOCHS;
}

/* ---- centroids and targets ------------------------------------------------------ */

/* Collective, step 2: centroids by k-means on the latents of all time steps. */
static int init_centroids(train_loop *lp)
{
    model *m = lp->m;
    const train_options *o = lp->o;
    const int K = lp->K, L = lp->L;
    double t = MPI_Wtime();
    if (latent_pass(lp->comm, m, lp->x, lp->T, lp->z) != DSC_OK) return DSC_ERR;
    kmeans_options ko = kmeans_defaults(K);
    ko.n_init = o->kmeans_init;
    ko.seed = o->seed;
    kmeans_result kr;
    if (kmeans_fit(lp->comm, lp->z, lp->n, L, &ko, &kr, NULL) != DSC_OK) return DSC_ERR;
    for (size_t i = 0; i < (size_t)K * L; i++) m->centroids[i] = (float)kr.centroids[i];
    kmeans_result_destroy(&kr);
    lp->tm->kmeans += MPI_Wtime() - t;
    if (lp->rank == 0 && o->verbose >= 1) {
        printf("dsc train: centroids from k-means on the latent vectors of %lld time steps (%d restarts)\n", lp->T,
               o->kmeans_init);
        fflush(stdout);
    }
    lp->st->centroids_ready = 1;
    return DSC_OK;
}

/* Collective: the target distribution.  q of all time steps (latent pass),
 * f (allreduce), p of all time steps on every rank (allgather), labels and
 * the fraction changed since the last update. */
static int compute_target(train_loop *lp, double *changed)
{
    MPI_Comm comm = lp->comm;
    train_state *st = lp->st;
    const int K = lp->K;
    const long long T = lp->T, t0 = lp->t0, n = lp->n;
    if (latent_soft_assign(comm, lp->m, lp->x, T, lp->o->alpha, lp->z, lp->q) != DSC_OK) return DSC_ERR;
    long long diff = 0;
    if (lp->o->chain.switch_prob > 0 && lp->o->persistence_target) { /* along time: q of all steps on every rank */
        run_block_counts(T, lp->P, K, lp->counts, lp->displs);
        MPI_Allgatherv(lp->q, (int)(n * K), MPI_DOUBLE, st->p, lp->counts, lp->displs, MPI_DOUBLE, comm);
        regime_chain c = lp->o->chain;
        c.penalty = -1; /* chosen anew for the mean episode at every update */
        if (dsc_agree(comm, clustering_persistent_target(st->p, T, K, &c, lp->labels_all)) != DSC_OK) return DSC_ERR;
        st->penalty = c.penalty;
        for (long long i = 0; i < T; i++) diff += lp->labels_all[i] != st->prev_labels[i];
    } else {
        double f[K];
        memset(f, 0, sizeof f);
        clustering_column_sums(f, lp->q, n, K);
        MPI_Allreduce(MPI_IN_PLACE, f, K, MPI_DOUBLE, MPI_SUM, comm);
        clustering_target(st->p + (size_t)t0 * K, lp->q, f, n, K);
        run_block_counts(T, lp->P, K, lp->counts, lp->displs);
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, st->p, lp->counts, lp->displs, MPI_DOUBLE, comm);
        int *mine = lp->labels_all + t0;
        clustering_hard_labels(mine, lp->q, n, K);
        for (long long i = 0; i < n; i++) diff += mine[i] != st->prev_labels[t0 + i];
        MPI_Allreduce(MPI_IN_PLACE, &diff, 1, MPI_LONG_LONG, MPI_SUM, comm);
        run_block_counts(T, lp->P, 1, lp->counts, lp->displs);
        MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, lp->labels_all, lp->counts, lp->displs, MPI_INT, comm);
    }
    memcpy(st->prev_labels, lp->labels_all, (size_t)T * sizeof(int));
    *changed = (double)diff / (double)T;
    return DSC_OK;
}

/* ---- logging ---------------------------------------------------------------------- */

/* Rank 0, verbose: the progress line of a target update. */
static void log_update(const train_loop *lp, long it, const train_record *r, int first, double changed)
{
    const train_options *o = lp->o;
    if (lp->rank != 0 || o->verbose < 1) return;
    double el = MPI_Wtime() - lp->t_start, rate = 0, left = 0;
    if (lp->joint_done0 >= 0 && it > lp->joint_done0) {
        rate = (double)(it - lp->joint_done0) * lp->B / (MPI_Wtime() - lp->t_joint0);
        left = (double)(lp->nend - it) * lp->B / rate;
    }
    char e[32], l[32];
    format_duration(el, e, sizeof e);
    format_duration(left, l, sizeof l);
    printf("step %6ld/%ld  rec %.4g  kl %.4g  changed %6.2f%%  %6.1f samples/s  elapsed %s  left %s%s\n",
           it - lp->npre, o->max_iter, r->rec_loss, r->kl_loss, first ? 0.0 : 100 * changed, rate, e,
           rate > 0 ? l : "?", lp->st->converged ? "  converged" : "");
    fflush(stdout);
}

/* Rank 0, verbose 2: the local losses and times of one step. */
static void log_step(const train_loop *lp, long it, int joint, const step_loss *loss, double seconds, double allreduce)
{
    if (lp->o->verbose < 2 || lp->rank != 0) return;
    printf("  %s step %ld: local rec %.4g, kl %.4g, %.3f s (allreduce %.3f s)\n", joint ? "joint" : "pre-training",
           joint ? it - lp->npre : it, loss->rec, loss->kl, seconds, allreduce);
    fflush(stdout);
}

/* Collective, after the last step of a pre-training epoch: its mean
 * reconstruction loss into the state, and a progress line. */
static void end_pretrain_epoch(train_loop *lp, long it)
{
    train_state *st = lp->st;
    double sum = lp->rec_sum;
    MPI_Allreduce(MPI_IN_PLACE, &sum, 1, MPI_DOUBLE, MPI_SUM, lp->comm);
    double mean = lp->nsum > 0 ? sum / (double)lp->nsum : NAN;
    if (st->npretrain < 1024) st->pretrain_loss[st->npretrain++] = mean;
    lp->rec_sum = lp->kl_sum = 0;
    lp->nsum = 0;
    if (lp->rank == 0 && lp->o->verbose >= 1) {
        char e[32];
        format_duration(MPI_Wtime() - lp->t_start, e, sizeof e);
        printf("pre-training epoch %3ld/%d  rec %.4g  elapsed %s\n", (it + 1) / lp->steps_per_epoch,
               lp->o->pretrain_epochs, mean, e);
        fflush(stdout);
    }
}

/* Collective, step 3 (every update_interval joint steps): the target
 * update, a record of the mean losses since the last one, the stopping rule
 * and a progress line. */
static int target_update(train_loop *lp, long it)
{
    train_state *st = lp->st;
    const train_options *o = lp->o;
    double t = MPI_Wtime(), changed = 0;
    int status = compute_target(lp, &changed);
    if (status != DSC_OK) return status;
    lp->tm->update += MPI_Wtime() - t;
    double sums[2] = {lp->rec_sum, lp->kl_sum};
    MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, lp->comm);
    const int first = st->nrecords == 0 || st->records[st->nrecords - 1].step < 0;
    const long ns = lp->nsum;
    train_record r = {it - lp->npre, ns > 0 ? sums[0] / (double)ns : NAN, ns > 0 ? sums[1] / (double)ns : NAN,
                      first ? NAN : changed};
    lp->rec_sum = lp->kl_sum = 0;
    lp->nsum = 0;
    if (train_state_add_record(st, &r) != DSC_OK) status = DSC_ERR;
    if ((status = dsc_agree(lp->comm, status)) != DSC_OK) return status;
    if (!first && it > lp->npre) {
        st->below = changed < o->tol ? st->below + 1 : 0;
        if (st->below >= o->patience) st->converged = 1;
    }
    log_update(lp, it, &r, first, changed);
    if (lp->joint_done0 < 0) {
        lp->joint_done0 = it;
        lp->t_joint0 = MPI_Wtime();
    }
    return DSC_OK;
}

/* ---- checkpoints -------------------------------------------------------------------- */

static int save_checkpoint(const train_loop *lp)
{
    const train_options *o = lp->o;
    const train_state *st = lp->st;
    if (o->before_checkpoint && o->before_checkpoint(lp->comm, o->before_checkpoint_ctx) != DSC_OK) return DSC_ERR;
    size_t nb = train_state_bytes(st);
    void *buf = dsc_malloc(nb, "training state");
    if (dsc_agree(lp->comm, buf ? DSC_OK : DSC_ERR) != DSC_OK) {
        free(buf);
        return DSC_ERR;
    }
    train_state_pack(st, buf);
    checkpoint_extra x = {.iteration = st->iteration, .epoch = 0, .has_rng = 0, .blob = (void *)lp->blob,
                          .blob_bytes = lp->blob_bytes, .state = buf, .state_bytes = nb};
    int status = checkpoint_save(lp->comm, o->checkpoint_path, lp->m, lp->opt, &x);
    free(buf);
    return status;
}

/* Collective, after step it: a checkpoint every checkpoint_every steps, and
 * one before stopping on a signal (then DSC_STOPPED). */
static int checkpoint_if_due(train_loop *lp, long it, int signalled)
{
    const train_options *o = lp->o;
    const int periodic = o->checkpoint_every > 0 && lp->st->iteration % o->checkpoint_every == 0;
    if (!signalled && !periodic) return DSC_OK;
    int status = DSC_OK;
    /* finite gradients can still overflow the parameters (a huge learning
     * rate): never replace a good checkpoint by such a model */
    if (!isfinite(gradient_sumsq(lp->m->params, lp->m->nparams)))
        status = fail_not_finite(lp, "the parameters are not finite", it);
    if ((status = dsc_agree(lp->comm, status)) != DSC_OK) return status;
    if ((status = save_checkpoint(lp)) != DSC_OK) return status;
    lp->last_checkpoint = lp->st->iteration;
    if (!signalled) return DSC_OK;
    if (lp->rank == 0)
        fprintf(stderr, "dsc train: stopped by a signal at step %ld; checkpoint written to %s; continue with "
                        "dsc train --resume\n", lp->st->iteration, o->checkpoint_path);
    return DSC_STOPPED;
}

/* ---- one step ------------------------------------------------------------------------- */

/* Collective: this rank's share of global batch it, from the seeded order,
 * with the frames other ranks hold. */
static int fetch_batch(train_loop *lp, long it)
{
    for (long long i = 0; i < lp->nb; i++) {
        lp->ids[i] = order_at(&lp->order, (long long)it * lp->B + lp->b0 + i);
        sample_window(lp->ids[i], lp->S, lp->frames + i * lp->S);
    }
    return sample_fetch(lp->comm, lp->x, lp->T, lp->F, lp->frames, lp->nb * lp->S, lp->xb);
}

/* The network on the batch, dropout keyed by (seed, step, time step);
 * loss->rec the reconstruction loss. */
static int forward(train_loop *lp, long it, step_loss *loss)
{
    model *m = lp->m;
    if (lp->nb == 0) return DSC_OK;
    model_set_dropout_keys(m, lp->o->seed, (uint64_t)it, lp->ids);
    if (model_forward(m, lp->xb, (int)lp->nb, 1) != DSC_OK) return DSC_ERR;
    if (m->has_decoder) loss->rec = m->loss;
    return DSC_OK;
}

/* The gradient of this rank's share of the global batch mean of the loss:
 * gamma * KL (joint steps; loss->kl its local mean) and the reconstruction
 * term, unless the decoder is dropped after pre-training (DEC).  Collective
 * (model_reduce_begin): the allreduce of each chunk of the gradients starts
 * inside model_backward once the chunk is final, so the centroids' gradient
 * is computed before it; a step whose gradient a test fault changes
 * afterwards starts nothing early. */
static int backward(train_loop *lp, int joint, step_loss *loss)
{
    model *m = lp->m;
    const train_options *o = lp->o;
    const int K = lp->K, L = lp->L, B = lp->B;
    const long long nb = lp->nb;
    if (model_reduce_begin(m, lp->comm, lp->faults.nan_step == lp->st->iteration) != DSC_OK) return DSC_ERR;
    if (nb == 0) return DSC_OK;
    float *dlatent = NULL;
    if (joint) {
        memset(lp->dz, 0, (size_t)nb * L * sizeof(float));
        for (long long i = 0; i < nb; i++)
            memcpy(lp->pb + i * K, lp->st->p + (size_t)lp->ids[i] * K, (size_t)K * sizeof(double));
        /* gamma * KL averaged over the global batch: this rank's share */
        double scaled = clustering_kl_backward(lp->dz, m->dcentroids, m->latent, m->centroids, lp->pb, nb, K, L, o->alpha,
                                               o->gamma / (double)B);
        loss->kl = o->gamma > 0 ? scaled / o->gamma * (double)B / (double)nb : 0.0; /* mean KL of the local samples */
        dlatent = lp->dz;
    }
    const int with_rec = m->has_decoder && !(joint && o->drop_decoder);
    if (!with_rec && !dlatent) return DSC_OK;
    return model_backward(m, with_rec ? (float)((double)nb / B) : 0.0f, dlatent);
}

/* Collective: the gradients summed over the ranks (the chunks the backward
 * started, then the rest: the time spent here is the wait the backward did
 * not hide), and two flags that every rank ends with: flags[0] a signal arrived, flags[1] the loss or the
 * gradient is not finite.  The gradient after the allreduce is the same on
 * every rank, so its norm needs no further communication; the flag
 * allreduce that every step does anyway makes all ranks stop at this step
 * together. */
static int allreduce(train_loop *lp, long it, int status, const step_loss *loss, int flags[2])
{
    model *m = lp->m;
    flags[0] = train_stop_requested();
    flags[1] = status == DSC_OK && isfinite(loss->rec) && isfinite(loss->kl) ? 0 : 1;
    train_faults_poison_gradient(&lp->faults, m, it);
    if (status == DSC_OK) status = model_allreduce_gradients(m, lp->comm);
    else model_reduce_abandon(m);
    if (status == DSC_OK && !flags[1] && !isfinite(gradient_sumsq(m->grads, m->nparams))) flags[1] = 1;
    MPI_Allreduce(MPI_IN_PLACE, flags, 2, MPI_INT, MPI_MAX, lp->comm);
    return status;
}

/* The optimizer step at the rate of the phase, and the running sums. */
static void update(train_loop *lp, long it, int joint, const step_loss *loss)
{
    const train_options *o = lp->o;
    lp->opt->cfg.learning_rate = (float)(joint ? o->joint_lr : o->pretrain_lr);
    optimizer_step(lp->opt, lp->m->params, lp->m->grads);
    lp->rec_sum += loss->rec * (double)lp->nb / lp->B;
    lp->kl_sum += loss->kl * (double)lp->nb / lp->B;
    lp->nsum++;
    lp->st->iteration = it + 1;
}

/* Collective, --check-replicas: the parameters are bitwise the same on
 * every rank (one hash, its minimum and maximum). */
static int check_replicas(const train_loop *lp, long it)
{
    const model *m = lp->m;
    uint64_t h = hash_fnv1a(HASH_FNV1A_START, m->params, m->nparams * sizeof(float)), lo = h, hi = h;
    MPI_Allreduce(MPI_IN_PLACE, &lo, 1, MPI_UINT64_T, MPI_MIN, lp->comm);
    MPI_Allreduce(MPI_IN_PLACE, &hi, 1, MPI_UINT64_T, MPI_MAX, lp->comm);
    int status = DSC_OK;
    if (lo != hi) status = dsc_fail("dsc train: --check-replicas: the replicas differ after step %ld", it);
    return dsc_agree(lp->comm, status);
}

/* Collective: one step on the global batch, then its logging, the end of a
 * pre-training epoch and a checkpoint when due. */
static int train_step(train_loop *lp)
{
    const long it = lp->st->iteration;
    const int joint = it >= lp->npre;
    step_loss loss = {0, 0};
    double tc = MPI_Wtime();
    int status = fetch_batch(lp, it);
    if (status != DSC_OK) return status;
    status = forward(lp, it, &loss);
    model_zero_grad(lp->m);
    if (status == DSC_OK) status = backward(lp, joint, &loss);
    model_set_dropout_keys(lp->m, 0, 0, NULL);
    int flags[2];
    double ta = MPI_Wtime();
    status = allreduce(lp, it, status, &loss, flags);
    double tb = MPI_Wtime();
    if (flags[1]) status = fail_not_finite(lp, "the loss or its gradient is not finite", it);
    if ((status = dsc_agree(lp->comm, status)) != DSC_OK) return status;
    update(lp, it, joint, &loss);
    double te = MPI_Wtime();
    if (joint) {
        lp->tm->joint_compute += (ta - tc) + (te - tb);
        lp->tm->joint_allreduce += tb - ta;
    } else {
        lp->tm->pretrain += te - tc;
    }
    log_step(lp, it, joint, &loss, te - tc, tb - ta);
    if (lp->o->check_replicas && (status = check_replicas(lp, it)) != DSC_OK) return status;
    if (!joint && (it + 1) % lp->steps_per_epoch == 0) end_pretrain_epoch(lp, it);
    return checkpoint_if_due(lp, it, flags[0]);
}

/* ---- the loop ------------------------------------------------------------------------- */

int train_run(MPI_Comm comm, model *m, optimizer *opt, const float *x, long long T, const train_options *o,
              train_state *st, const void *blob, size_t blob_bytes, train_timings *tm)
{
    train_loop lp;
    blas_threads_saved blas = blas_threads_single(); /* the whole loop: gemm.h */
    int status = loop_open(&lp, comm, m, opt, x, T, o, st, blob, blob_bytes, tm);
    while (status == DSC_OK && st->iteration < lp.nend && !st->converged) {
        const long it = st->iteration;
        const int joint = it >= lp.npre;
        if (joint && !st->centroids_ready) status = init_centroids(&lp); /* step 2 */
        if (status == DSC_OK && joint && (it - lp.npre) % o->update_interval == 0) { /* step 3 */
            status = target_update(&lp, it);
            if (st->converged) break;
        }
        if (status == DSC_OK) status = train_step(&lp);
    }
    /* no joint step (--max-iter 0): autoencoder + k-means */
    if (status == DSC_OK && !st->centroids_ready) status = init_centroids(&lp);
    loop_close(&lp);
    blas_threads_restore(blas);
    return status;
}
