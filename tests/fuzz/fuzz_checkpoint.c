/*
 * fuzz_checkpoint.c - model checkpoints (src/nn/checkpoint.c), read the way
 * dsc predict / dsc eval / dsc train --resume do: checkpoint_read_extra
 * (what model_inputs_open reads first), checkpoint_read_config, a model
 * (and optimizer) of that architecture, checkpoint_load; the statistics
 * blob of either read is unpacked (preprocess_stats_unpack: with the
 * model's inputs, variable names, units and coordinates, from record
 * version 3) and the training state checked for trained centroids
 * (model_inputs_check_trained).  The seed inputs_2x4x4.ckpt has all of
 * these, pretrain_2x4x4.ckpt the state of a run stopped in pre-training.
 *
 * A checkpoint carries its size and an FNV-1a checksum, which random
 * mutations almost never keep right; the target therefore writes the input
 * with the size field and the checksum recomputed (inputs shorter than the
 * header are written as they are), so the fuzzer reaches the fields behind
 * them.  Architectures with more than 2^20 grid values or wider than 64
 * channels, units or dense widths are skipped: dsc would allocate them as asked, and the fuzzer
 * would only measure the machine's memory.
 */
#include "checkpoint.h"
#include "fuzz_common.h"
#include "model.h"
#include "model_inputs.h"
#include "optimizer.h"
#include "preprocess.h"

#define HEADER_BYTES 24

static uint64_t fnv1a(const uint8_t *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup(argc, argv, ".ckpt");
    return 0;
}

static int small_enough(const model_config *c)
{
    if (c->vars < 1 || c->vars > 64 || c->height < 1 || c->height > 1024 || c->width < 1 || c->width > 1024 ||
        c->steps < 1 || c->steps > 64)
        return 0;
    if ((long long)c->vars * c->height * c->width * c->steps > (1LL << 20)) return 0; /* at most 2^32: no overflow */
    for (int i = 0; i < MODEL_NCONV; i++)
        if (c->conv[i] > 64) return 0;
    if (c->variant == MODEL_DTC && (long long)c->vars * c->height * c->width > 4096) return 0; /* (B, d, F) activations */
    for (int i = 0; i < MODEL_NDENSE; i++)
        if (c->dense[i] > 64) return 0; /* DEC: (D_i, D_i-1) weights */
    return c->lstm[0] <= 64 && c->lstm[1] <= 64 && c->latent <= 64 && c->clusters <= 64 && c->kernel <= 7;
}

/* What dsc predict and dsc eval do with the blob and the state. */
static void use_extra(checkpoint_extra *x)
{
    if (x->blob && x->blob_bytes >= sizeof(double)) {
        preprocess_stats st;
        if (preprocess_stats_unpack(&st, x->blob, x->blob_bytes / sizeof(double)) == DSC_OK) {
            /* and packs again (as dsc train --resume compares it) */
            double *again = malloc(preprocess_stats_packed_size(&st) * sizeof(double) + 1);
            if (again) preprocess_stats_pack(&st, again);
            free(again);
            preprocess_stats_destroy(&st);
        }
    }
    model_inputs_check_trained(fuzz_path, x->state, x->state_bytes);
    free(x->blob);
    free(x->state);
    dsc_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    if (size >= HEADER_BYTES + 8) {
        uint64_t total = size;
        memcpy(buf + 16, &total, 8);
        uint64_t h = fnv1a(buf, size - 8);
        memcpy(buf + size - 8, &h, 8);
    }
    int ok = fuzz_write(buf, size) == 0;
    free(buf);
    if (!ok) return 0;

    checkpoint_extra only;
    if (checkpoint_read_extra(MPI_COMM_SELF, fuzz_path, &only) == DSC_OK) use_extra(&only);
    dsc_clear();

    model_config cfg;
    optimizer_config ocfg;
    int has_opt = 0;
    if (checkpoint_read_config(MPI_COMM_SELF, fuzz_path, &cfg, &ocfg, &has_opt) == DSC_OK && small_enough(&cfg)) {
        model m;
        if (model_create(&m, &cfg, 1) == DSC_OK) {
            optimizer opt;
            int with_opt = has_opt && optimizer_create(&opt, &ocfg, m.nparams) == DSC_OK;
            dsc_clear();
            checkpoint_extra extra;
            if (checkpoint_load(MPI_COMM_SELF, fuzz_path, &m, with_opt ? &opt : NULL, &extra) == DSC_OK) use_extra(&extra);
            if (with_opt) optimizer_destroy(&opt);
            model_destroy(&m);
        }
    }
    dsc_clear();
    return 0;
}
