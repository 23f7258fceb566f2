/*
 * cmd_bench.c - dsc bench: speed of the network on this machine.
 *
 *   dsc bench                                  # the authors' model, batch 8, 48x48x7, S=1
 *   dsc bench --threads 2 --iterations 20 --json
 *
 * Times, on random data:
 *   train  one training step as the trainer runs it: model_zero_grad,
 *          model_forward (with dropout), model_backward, optimizer_step
 *          (SGD with momentum, the authors' optimizer);
 *   infer  model_forward without dropout (encoder and decoder, as a
 *          reconstruction would run it);
 *   encode model_encode (the encoder alone, as the clustering runs it).
 * Each reports the median over --iterations timed repetitions after
 * --warmup untimed ones; on a shared machine the median is the figure to
 * quote.  FLOPs are counted from the layer shapes by the variant
 * (model_flops: 2*M*N*K per GEMM-like operation; backward is twice the
 * forward of every layer except the first, which needs no input
 * gradient), and compared with the
 * sgemm rate of OpenBLAS on the same threads (n = 1024 square product).
 *
 * The benchmark runs on one rank: it measures one process's compute, and
 * ranks sharing the cores would only measure each other.
 */
#include "commands.h"
#include "blas_check.h"
#include "blas_env.h"
#include "cli.h"
#include "json.h"
#include "config.h"
#include "model.h"
#include "optimizer.h"
#include "rng.h"
#include "status.h"
#include "timing.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option bench_options[] = {
    {"batch", 'b', "B", "8", "samples per batch"},
    {"grid", 0, "HxW", "48x48", "grid of one frame (multiples of 16)"},
    {"vars", 0, "V", "7", "variables (input channels)"},
    {"seq", 0, "S", "1", "time steps per sample"},
    {"variant", 0, "NAME", "dsc", "cnn-encoder, cnn-autoencoder, cnn-lstm-encoder or cnn-lstm-autoencoder (dsc); dtc: the DTC baseline with its defaults"},
    {"threads", 't', "N", "0", "OpenMP and OpenBLAS threads; 0 keeps the defaults (OMP_NUM_THREADS)"},
    {"warmup", 0, "N", "2", "untimed repetitions before timing"},
    {"iterations", 'n', "N", "10", "timed repetitions (the median is reported)"},
    {"seed", 0, "N", "1", "seed of the weights and the random input"},
    {"json", 0, NULL, NULL, "print one JSON object instead of key value lines"},
};

typedef struct {
    model_config cfg;
    int batch, threads, warmup, iterations;
    uint64_t seed;
    int json;
} bench_options_t;

/* "48x48" */
static int parse_grid(const char *text, int *h, int *w)
{
    long hw[2];
    if (cli_parse_dims(text, 2, hw) != DSC_OK) return dsc_fail("dsc bench: option --grid: '%s' is not HxW such as 48x48", text);
    const long a = hw[0], b = hw[1];
    if (a < 16 || b < 16 || a > 4096 || b > 4096 || a % 16 || b % 16)
        return dsc_fail("dsc bench: option --grid: '%s' must be 16 to 4096 in each direction and a multiple of 16",
                        text);
    *h = (int)a;
    *w = (int)b;
    return DSC_OK;
}

static int parse_options(bench_options_t *o, const cli_command *cmd)
{
    long v;
    if (cmd->nargs > 0) return dsc_fail("dsc bench: unexpected argument '%s'; the command takes options only", cmd->args[0]);
    o->cfg = model_config_default();
    if (cli_long(cmd, "batch", 1, 1 << 16, &v)) return DSC_ERR;
    o->batch = (int)v;
    if (parse_grid(cli_get(cmd, "grid"), &o->cfg.height, &o->cfg.width)) return DSC_ERR;
    if (cli_long(cmd, "vars", 1, 1 << 12, &v)) return DSC_ERR;
    o->cfg.vars = (int)v;
    if (cli_long(cmd, "seq", 1, 1 << 12, &v)) return DSC_ERR;
    o->cfg.steps = (int)v;
    if (model_variant_parse(cli_get(cmd, "variant"), &o->cfg.variant)) return DSC_ERR;
    model_config_preset(&o->cfg); /* dec, dtc: the baseline's own widths */
    if (cli_long(cmd, "threads", 0, 4096, &v)) return DSC_ERR;
    o->threads = (int)v;
    if (cli_long(cmd, "warmup", 0, 1 << 20, &v)) return DSC_ERR;
    o->warmup = (int)v;
    if (cli_long(cmd, "iterations", 1, 1 << 20, &v)) return DSC_ERR;
    o->iterations = (int)v;
    if (cli_long(cmd, "seed", 0, 2147483647L, &v)) return DSC_ERR;
    o->seed = (uint64_t)v;
    o->json = cli_flag(cmd, "json");
    return model_config_check(&o->cfg);
}

/* GFLOP/s of one n x n x n sgemm, median of a few runs. */
static double sgemm_rate(int n, float *a, float *b, float *c)
{
    enum { RUNS = 5 };
    double t[RUNS];
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm-up */
    for (int r = 0; r < RUNS; r++) {
        double t0 = timing_now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t[r] = timing_now() - t0;
    }
    return 2.0 * n * n * n / timing_median(t, RUNS) * 1e-9;
}

/* What was measured on: the BLAS, its kernels, the model and the run. */
typedef struct {
    const char *library, *core;
    const blas_verdict *verdict;
    const char *arch;
    int batch, threads, iterations;
    size_t params;
} bench_setup;

/* --json: one object; every figure through json.h. */
static void print_json(const bench_setup *b, const json_figure *figures, int n)
{
    json_begin_file();
    fputs("{\"blas\": ", stdout);
    json_write_string(stdout, b->library);
    printf(", \"blas_core\": \"%s\", \"blas_core_isa\": \"%s\", \"cpu_isa\": \"%s\", \"blas_core_weaker\": %s,\n", b->core,
           blas_isa_name(b->verdict->core_isa), blas_isa_name(b->verdict->cpu_isa), b->verdict->weaker ? "true" : "false");
    const char *from = blas_check_fallback_from();
    fputs(" \"blas_check\": \"passed\", \"blas_fell_back_from\": ", stdout);
    if (from[0]) json_write_string(stdout, from);
    else fputs("null", stdout);
    fputs(",\n", stdout);
    printf(" \"model\": \"%s\", \"batch\": %d, \"threads\": %d, \"iterations\": %d, \"params\": %zu,\n ", b->arch, b->batch,
           b->threads, b->iterations, b->params);
    json_write_figures(stdout, figures, n);
    fputs("}\n", stdout);
}

/* Text: "key value" lines, the figures with the decimals of the JSON. */
static void print_text(const bench_setup *b, const json_figure *figures, int n)
{
    printf("blas %s\nblas_core %s\nblas_core_isa %s\ncpu_isa %s\nblas_core_weaker %s\n", b->library, b->core,
           blas_isa_name(b->verdict->core_isa), blas_isa_name(b->verdict->cpu_isa), b->verdict->weaker ? "yes" : "no");
    if (b->verdict->weaker) printf("blas_fix export OPENBLAS_CORETYPE=%s\n", b->verdict->coretype);
    const char *from = blas_check_fallback_from();
    if (from[0]) printf("blas_check passed after the %s kernels failed it\n", from);
    else printf("blas_check passed\n");
    printf("model %s\n", b->arch);
    printf("batch %d\nthreads %d\niterations %d\nparams %zu\n", b->batch, b->threads, b->iterations, b->params);
    for (int i = 0; i < n; i++) printf("%s %.*f\n", figures[i].key, figures[i].decimals, figures[i].value);
}

static int run(const bench_options_t *o)
{
    blas_threads_saved threads_before = {-1, -1};
    if (o->threads > 0) threads_before = blas_threads_use(o->threads);
    const int B = o->batch, R = o->iterations;
    const model_config *cfg = &o->cfg;
    model m;
    optimizer opt;
    optimizer_config oc = optimizer_defaults(OPTIMIZER_SGD);
    if (model_create(&m, cfg, B) != DSC_OK) return DSC_ERR;
    const size_t nx = (size_t)B * cfg->steps * cfg->vars * cfg->height * cfg->width;
    const int ngemm = 1024;
    float *x = dsc_malloc(nx * sizeof(float), "benchmark input");
    double *times = dsc_malloc(3 * (size_t)R * sizeof(double), "benchmark timings");
    float *ga = dsc_malloc(3 * (size_t)ngemm * ngemm * sizeof(float), "sgemm benchmark matrices");
    int status = x && times && ga ? DSC_OK : DSC_ERR;
    if (status == DSC_OK) status = model_init(&m, o->seed);
    if (status == DSC_OK) status = optimizer_create(&opt, &oc, m.nparams);
    if (status != DSC_OK) {
        model_destroy(&m);
        free(x);
        free(times);
        free(ga);
        blas_threads_restore(threads_before);
        return DSC_ERR;
    }
    rng_state r;
    rng_seed(&r, o->seed, 2);
    rng_fill_uniform(&r, x, nx, -1.0f, 1.0f);
    rng_fill_uniform(&r, ga, 3 * (size_t)ngemm * ngemm, -1.0f, 1.0f);
    /* The encoder variants have no loss of their own: back-propagate a
     * constant gradient on the latent, as the clustering layer would. */
    float *dlatent = NULL;
    if (!m.has_decoder) {
        dlatent = dsc_malloc((size_t)B * cfg->latent * sizeof(float), "latent gradient");
        if (!dlatent) status = DSC_ERR;
        else
            for (size_t i = 0; i < (size_t)B * cfg->latent; i++) dlatent[i] = 1e-3f;
    }

    /* The sgemm ceiling first, with OpenBLAS threaded on the same number of
     * threads (the layers then switch it to one thread, see gemm.h). */
    const size_t nn = (size_t)ngemm * ngemm;
    blas_threads_saved blas_before = blas_threads_use(0);
    const double sgemm = sgemm_rate(ngemm, ga, ga + nn, ga + 2 * nn);
    blas_threads_restore(blas_before);

    double *t_train = times, *t_infer = times + R, *t_encode = times + 2 * R;
    /* the network's phases hold OpenBLAS at one thread throughout (gemm.h) */
    blas_threads_saved net_before = blas_threads_single();
    for (int it = 0; status == DSC_OK && it < o->warmup + R; it++) {
        double t0 = timing_now();
        model_zero_grad(&m);
        status = model_forward(&m, x, B, 1);
        if (status == DSC_OK) status = model_backward(&m, 1.0f, dlatent);
        if (status == DSC_OK) optimizer_step(&opt, m.params, m.grads);
        if (it >= o->warmup) t_train[it - o->warmup] = timing_now() - t0;
    }
    for (int it = 0; status == DSC_OK && it < o->warmup + R; it++) {
        double t0 = timing_now();
        status = model_forward(&m, x, B, 0);
        if (it >= o->warmup) t_infer[it - o->warmup] = timing_now() - t0;
    }
    for (int it = 0; status == DSC_OK && it < o->warmup + R; it++) {
        double t0 = timing_now();
        status = model_encode(&m, x, B);
        if (it >= o->warmup) t_encode[it - o->warmup] = timing_now() - t0;
    }
    blas_threads_restore(net_before);
    if (status == DSC_OK) {
        double first, enc;
        const double fwd = model_flops(&m, B, &first, &enc); /* the variant's FLOP model */
        const double train_flops = 3.0 * fwd - first;
        const double tt = timing_median(t_train, R), ti = timing_median(t_infer, R), te = timing_median(t_encode, R);
        const double train_gf = train_flops / tt * 1e-9, infer_gf = fwd / ti * 1e-9;
        char arch[256];
        model_config_format(cfg, arch, sizeof arch);
        const int threads = omp_get_max_threads();
        const char *core = blas_core_name();
        cpu_features cpu;
        cpu_features_detect(&cpu);
        const blas_verdict v = blas_core_verdict(core, &cpu);
        const char *library = blas_library_name();
        /* A timer too coarse for a tiny model gives 0 s: its rate is
         * infinite (null in the JSON, with a warning). */
        const json_figure figures[] = {{"train_gflop_per_sample", train_flops / B * 1e-9, 4},
                                       {"infer_gflop_per_sample", fwd / B * 1e-9, 4},
                                       {"train_s", tt, 6},
                                       {"infer_s", ti, 6},
                                       {"encode_s", te, 6},
                                       {"train_samples_per_s", B / tt, 3},
                                       {"infer_samples_per_s", B / ti, 3},
                                       {"encode_samples_per_s", B / te, 3},
                                       {"train_gflops", train_gf, 2},
                                       {"infer_gflops", infer_gf, 2},
                                       {"encode_gflops", enc / te * 1e-9, 2},
                                       {"sgemm_gflops", sgemm, 2},
                                       {"train_peak_fraction", train_gf / sgemm, 3},
                                       {"infer_peak_fraction", infer_gf / sgemm, 3}};
        const bench_setup setup = {library, core ? core : "unknown", &v, arch, B, threads, R, m.nparams};
        const int n = (int)(sizeof figures / sizeof figures[0]);
        if (o->json) print_json(&setup, figures, n);
        else print_text(&setup, figures, n);
    }
    blas_threads_restore(threads_before);
    optimizer_destroy(&opt);
    model_destroy(&m);
    free(dlatent);
    free(x);
    free(times);
    free(ga);
    return status;
}

int bench_command(int argc, char **argv, MPI_Comm comm)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    cli_command cmd = {.command = "bench",
                       .usage = "[OPTIONS]",
                       .summary = "Time a training step (forward, backward, SGD momentum) and inference of the "
                                  "CNN-LSTM autoencoder on random data; print samples/s, GFLOP/s and the fraction "
                                  "of the sgemm rate reached (medians over the iterations).  Runs on one rank.",
                       .options = bench_options,
                       .noptions = (int)(sizeof bench_options / sizeof bench_options[0])};
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    bench_options_t o;
    if (status == DSC_OK) status = parse_options(&o, &cmd);
    if (status == DSC_OK && size > 1)
        status = dsc_fail("dsc bench: started on %d ranks; it measures one process, run it without mpirun or with "
                          "-n 1", size);
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    status = run(&o);
    cli_free(&cmd);
    return dsc_agree(comm, status);
}
