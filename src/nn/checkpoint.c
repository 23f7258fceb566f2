/*
 * checkpoint.c - versioned, checksummed model checkpoints (format in
 * checkpoint.h).  Rank 0 does all file input/output; other ranks receive the
 * contents by broadcast, so every replica resumes from identical bytes.
 */
#include "checkpoint.h"
#include "hash.h"
#include "output_file.h"
#include "status.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint.c writes the host byte order and assumes it is little-endian"
#endif

static const char MAGIC[8] = {'D', 'S', 'C', 'C', 'K', 'P', 'T', '\0'};
#define BYTE_ORDER_MARK 0x01020304u
#define NARCH 21    /* architecture integers (version 3) */
#define NARCH_V2 18 /* versions 1 and 2: without the dense widths */
#define NO_OPTIMIZER 0xffffffffu
static const char *arch_field_names[NARCH] = {"variant", "variables", "height", "width", "time steps", "kernel",
                                              "activation", "latent activation", "conv1 width", "conv2 width",
                                              "conv3 width", "conv4 width", "conv5 width", "lstm1 size",
                                              "lstm2 size", "latent size", "clusters", "pool size",
                                              "dense1 width", "dense2 width", "dense3 width"};

static void arch_pack(const model_config *c, int32_t a[NARCH])
{
    int32_t v[NARCH] = {(int32_t)c->variant, c->vars, c->height, c->width, c->steps, c->kernel,
                        (int32_t)c->activation, (int32_t)c->latent_activation, c->conv[0], c->conv[1],
                        c->conv[2], c->conv[3], c->conv[4], c->lstm[0], c->lstm[1], c->latent, c->clusters, c->pool,
                        c->dense[0], c->dense[1], c->dense[2]};
    memcpy(a, v, sizeof v);
}

static void arch_unpack(const int32_t a[NARCH], float dropout, float rdropout, model_config *c)
{
    memset(c, 0, sizeof *c);
    c->variant = (model_variant)a[0];
    c->vars = a[1];
    c->height = a[2];
    c->width = a[3];
    c->steps = a[4];
    c->kernel = a[5];
    c->activation = (activation_kind)a[6];
    c->latent_activation = (activation_kind)a[7];
    for (int i = 0; i < MODEL_NCONV; i++) c->conv[i] = a[8 + i];
    c->lstm[0] = a[13];
    c->lstm[1] = a[14];
    c->latent = a[15];
    c->clusters = a[16];
    c->pool = a[17]; /* DTC; 0 in the other variants and in checkpoints written before DTC */
    for (int i = 0; i < MODEL_NDENSE; i++) c->dense[i] = a[18 + i];
    c->dropout = dropout;
    c->recurrent_dropout = rdropout;
}

/* ---- writing ------------------------------------------------------------- */

typedef struct {
    FILE *f;
    uint64_t hash;
    uint64_t bytes;
    int failed;
} writer;

static void put(writer *w, const void *data, size_t n)
{
    if (w->failed || n == 0) return;
    if (w->f && fwrite(data, 1, n, w->f) != n) w->failed = 1;
    w->hash = hash_fnv1a(w->hash, data, n);
    w->bytes += n;
}

static void put_u32(writer *w, uint32_t v) { put(w, &v, 4); }
static void put_u64(writer *w, uint64_t v) { put(w, &v, 8); }
static void put_i64(writer *w, int64_t v) { put(w, &v, 8); }
static void put_f32(writer *w, float v) { put(w, &v, 4); }

/* Writes everything after the fixed header; with w->f == NULL it only counts
 * the bytes (first pass, to store the total size in the header). */
static void put_body(writer *w, const model *m, const optimizer *opt, const checkpoint_extra *x)
{
    int32_t arch[NARCH];
    arch_pack(&m->cfg, arch);
    put_u32(w, NARCH);
    put(w, arch, sizeof arch);
    put_f32(w, m->cfg.dropout);
    put_f32(w, m->cfg.recurrent_dropout);

    put_u32(w, (uint32_t)m->ntensors);
    for (int i = 0; i < m->ntensors; i++) {
        const model_tensor *t = &m->tensors[i];
        uint32_t len = (uint32_t)strlen(t->name);
        put_u32(w, len);
        put(w, t->name, len);
        put_u32(w, (uint32_t)t->ndim);
        for (int d = 0; d < t->ndim; d++) put_u32(w, (uint32_t)t->shape[d]);
        put_u64(w, t->offset);
        put_u64(w, t->size);
    }
    put_u64(w, m->nparams);
    put(w, m->params, m->nparams * sizeof(float));

    if (opt) {
        const optimizer_config *c = &opt->cfg;
        put_u32(w, (uint32_t)c->kind);
        float cf[7] = {c->learning_rate, c->momentum, c->beta1, c->beta2, c->epsilon, c->weight_decay, c->clip_norm};
        put(w, cf, sizeof cf);
        put_i64(w, opt->step);
        int ns = optimizer_nstate(opt);
        put_u32(w, (uint32_t)ns);
        put(w, opt->m, m->nparams * sizeof(float));
        if (ns == 2) put(w, opt->v, m->nparams * sizeof(float));
    } else {
        float cf[7] = {0};
        put_u32(w, NO_OPTIMIZER);
        put(w, cf, sizeof cf);
        put_i64(w, 0);
        put_u32(w, 0);
    }

    put(w, m->dropout_rng.s, sizeof m->dropout_rng.s);
    rng_state none = {{0, 0, 0, 0}};
    put_u32(w, x && x->has_rng ? 1 : 0);
    put(w, x && x->has_rng ? x->rng.s : none.s, sizeof none.s);
    put_i64(w, x ? x->iteration : 0);
    put_i64(w, x ? x->epoch : 0);
    size_t nb = x && x->blob ? x->blob_bytes : 0;
    put_u64(w, nb);
    if (nb) put(w, x->blob, nb);
    size_t ns = x && x->state ? x->state_bytes : 0; /* version 2 */
    put_u64(w, ns);
    if (ns) put(w, x->state, ns);
}

static int write_file(const char *path, const model *m, const optimizer *opt, const checkpoint_extra *x)
{
    if (opt && opt->n != m->nparams)
        return dsc_fail("%s: optimizer has %zu parameters, the model %zu; create it with model.nparams", path, opt->n,
                        m->nparams);
    writer count = {0};
    put_body(&count, m, opt, x);
    const uint64_t total = 8 + 4 + 4 + 8 + count.bytes + 8;

    output_file out;
    if (output_file_open(&out, path, "wb") != DSC_OK) return DSC_ERR;
    writer w = {.hash = HASH_FNV1A_START, .f = out.f};
    put(&w, MAGIC, sizeof MAGIC);
    put_u32(&w, CHECKPOINT_VERSION);
    put_u32(&w, BYTE_ORDER_MARK);
    put_u64(&w, total);
    put_body(&w, m, opt, x);
    uint64_t sum = w.hash;
    if (!w.failed && fwrite(&sum, 8, 1, w.f) != 1) w.failed = 1;
    if (w.failed || w.bytes + 8 != total) {
        int e = errno;
        output_file_abort(&out);
        return dsc_fail("%s: writing the checkpoint failed (%s); check free disk space", path, strerror(e));
    }
    return output_file_commit(&out);
}

int checkpoint_save(MPI_Comm comm, const char *path, const model *m, const optimizer *opt,
                    const checkpoint_extra *extra)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = rank == 0 ? write_file(path, m, opt, extra) : DSC_OK;
    return dsc_agree(comm, status);
}

/* ---- reading --------------------------------------------------------------- */

typedef struct {
    FILE *f;
    const char *path;
    int failed;
    uint32_t version;
    uint64_t total; /* bytes, as the header says */
    uint64_t size; /* of the file: no block can be longer */
} reader;

static int get(reader *r, void *data, size_t n)
{
    if (r->failed) return DSC_ERR;
    if (n && fread(data, 1, n, r->f) != n) {
        r->failed = 1;
        return dsc_fail("%s: checkpoint is truncated or corrupt (unexpected end of file); use a complete checkpoint",
                        r->path);
    }
    return DSC_OK;
}

static uint32_t get_u32(reader *r)
{
    uint32_t v = 0;
    get(r, &v, 4);
    return v;
}

static uint64_t get_u64(reader *r)
{
    uint64_t v = 0;
    get(r, &v, 8);
    return v;
}

/* Header as read by rank 0. */
typedef struct {
    model_config cfg;
    int32_t arch[NARCH];
} file_header;

/* Opens path, checks magic, version, size and checksum, and reads the
 * architecture; leaves r positioned at the tensor table. */
static int open_checked(reader *r, const char *path, file_header *h)
{
    memset(r, 0, sizeof *r);
    r->path = path;
    r->f = fopen(path, "rb");
    if (!r->f) return dsc_fail("%s: cannot open checkpoint: %s; check the path", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(r->f), &st) != 0) return dsc_fail("%s: cannot stat checkpoint: %s", path, strerror(errno));
    const uint64_t size = (uint64_t)st.st_size;
    r->size = size;
    char magic[8];
    if (size < 8 || fread(magic, 1, 8, r->f) != 8 || memcmp(magic, MAGIC, 8) != 0)
        return dsc_fail("%s: not a dsc checkpoint (wrong magic); give a file written by dsc train", path);
    if (size < 24 + 8) return dsc_fail("%s: checkpoint is truncated (%llu bytes); use a complete checkpoint", path, (unsigned long long)size);
    uint32_t version = get_u32(r), bom = get_u32(r);
    r->version = version;
    uint64_t total = get_u64(r);
    r->total = total;
    if (bom != BYTE_ORDER_MARK)
        return dsc_fail("%s: checkpoint written with another byte order; convert it on a little-endian machine", path);
    if (version < 1 || version > CHECKPOINT_VERSION)
        return dsc_fail("%s: checkpoint format version %u, this program reads versions 1 to %d; use a matching dsc version", path,
                        version, CHECKPOINT_VERSION);
    if (size < total)
        return dsc_fail("%s: checkpoint is truncated (%llu of %llu bytes); use a complete checkpoint", path,
                        (unsigned long long)size, (unsigned long long)total);
    if (size > total)
        return dsc_fail("%s: checkpoint has %llu bytes, its header says %llu; the file is corrupt", path,
                        (unsigned long long)size, (unsigned long long)total);

    /* Checksum over everything but the last 8 bytes. */
    const size_t chunk = (size_t)1 << 20;
    unsigned char *buf = dsc_malloc(chunk, "checkpoint checksum buffer");
    if (!buf) return DSC_ERR;
    uint64_t hash = HASH_FNV1A_START, left = total - 8;
    rewind(r->f);
    while (left > 0) {
        size_t n = left < chunk ? (size_t)left : chunk;
        if (fread(buf, 1, n, r->f) != n) {
            free(buf);
            return dsc_fail("%s: read error while checking the checkpoint", path);
        }
        hash = hash_fnv1a(hash, buf, n);
        left -= n;
    }
    free(buf);
    uint64_t stored = get_u64(r);
    if (r->failed) return DSC_ERR;
    if (stored != hash)
        return dsc_fail("%s: checkpoint checksum mismatch (file corrupt); use another checkpoint", path);

    if (fseek(r->f, 24, SEEK_SET) != 0) return dsc_fail("%s: cannot seek in checkpoint", path);
    uint32_t narch = get_u32(r), want = version >= 3 ? NARCH : NARCH_V2;
    if (narch != want)
        return dsc_fail("%s: checkpoint architecture record has %u fields, expected %u for format version %u; file corrupt",
                        path, narch, want, version);
    float drop[2];
    memset(h->arch, 0, sizeof h->arch); /* versions 1 and 2: no dense widths (no dec variant) */
    get(r, h->arch, narch * sizeof(int32_t));
    get(r, drop, sizeof drop);
    if (r->failed) return DSC_ERR;
    arch_unpack(h->arch, drop[0], drop[1], &h->cfg);
    for (int i = 6; i <= 7; i++)
        if (h->arch[i] < ACTIVATION_IDENTITY || h->arch[i] > ACTIVATION_RELU)
            return dsc_fail("%s: unknown %s code %d in the checkpoint (known: 0 identity, 1 tanh, 2 sigmoid, 3 relu); give a "
                            "checkpoint written by this version of dsc train", path, arch_field_names[i], (int)h->arch[i]);
    return DSC_OK;
}

static void close_reader(reader *r)
{
    if (r->f) fclose(r->f);
    r->f = NULL;
}


/* The architecture against m's, the tensor table against m's and the
 * parameters into m->params; with m NULL walked over unchecked.  *nparams
 * gets the parameter count. */
static int read_params(reader *r, const file_header *h, model *m, size_t *nparams)
{
    const char *path = r->path;
    int32_t mine[NARCH];
    if (m) arch_pack(&m->cfg, mine);
    for (int i = 0; m && i < NARCH; i++)
        if (mine[i] != h->arch[i]) {
            char a[256], b[256];
            model_config_format(&h->cfg, a, sizeof a);
            model_config_format(&m->cfg, b, sizeof b);
            return dsc_fail("%s: checkpoint architecture differs in %s (%d, the model has %d): checkpoint %s, model %s; "
                            "build the model with the checkpoint's settings",
                            path, arch_field_names[i], h->arch[i], mine[i], a, b);
        }
    uint32_t nt = get_u32(r);
    if (m && !r->failed && nt != (uint32_t)m->ntensors)
        return dsc_fail("%s: checkpoint has %u tensors, the model %d; use a checkpoint of this dsc version", path, nt,
                        m->ntensors);
    for (uint32_t i = 0; i < nt && !r->failed; i++) {
        char name[MODEL_NAME_LEN + 1] = {0};
        uint32_t len = get_u32(r);
        if (len > MODEL_NAME_LEN) return dsc_fail("%s: tensor name of %u bytes; file corrupt", path, len);
        get(r, name, len);
        uint32_t ndim = get_u32(r);
        if (ndim > 4) return dsc_fail("%s: tensor %s has %u dimensions; file corrupt", path, name, ndim);
        uint32_t shape[4] = {0};
        for (uint32_t d = 0; d < ndim; d++) shape[d] = get_u32(r);
        uint64_t off = get_u64(r), size = get_u64(r);
        if (!m) continue;
        const model_tensor *t = &m->tensors[i];
        int same = !strcmp(name, t->name) && (int)ndim == t->ndim && off == t->offset && size == t->size;
        for (int d = 0; same && d < t->ndim; d++) same = shape[d] == (uint32_t)t->shape[d];
        if (!r->failed && !same)
            return dsc_fail("%s: checkpoint tensor %u is %s, the model expects %s with another shape or offset; use a "
                            "checkpoint of this dsc version", path, i, name, t->name);
    }
    uint64_t np = get_u64(r);
    if (m && !r->failed && np != m->nparams)
        return dsc_fail("%s: checkpoint has %llu parameters, the model %zu", path, (unsigned long long)np, m->nparams);
    if (!m && !r->failed && np > r->size / sizeof(float))
        return dsc_fail("%s: %llu parameters in a file of %llu bytes; file corrupt", path, (unsigned long long)np,
                        (unsigned long long)r->size);
    if (m) get(r, m->params, m->nparams * sizeof(float));
    else if (!r->failed && fseek(r->f, (long)(np * sizeof(float)), SEEK_CUR) != 0)
        return dsc_fail("%s: cannot seek in checkpoint", path);
    *nparams = m ? m->nparams : (size_t)np;
    return DSC_OK;
}

/* The optimizer's kind, settings, step and state buffers into opt; with
 * opt NULL walked over. */
static int read_optimizer(reader *r, optimizer *opt, size_t nparams)
{
    const char *path = r->path;
    uint32_t kind = get_u32(r);
    float cf[7];
    int64_t step = 0;
    get(r, cf, sizeof cf);
    get(r, &step, 8);
    uint32_t ns = get_u32(r);
    if (r->failed) return DSC_ERR;
    if (kind != NO_OPTIMIZER && kind > OPTIMIZER_ADAM) return dsc_fail("%s: unknown optimizer kind %u; file corrupt", path, kind);
    if (opt) {
        if (kind != NO_OPTIMIZER && kind != (uint32_t)opt->cfg.kind)
            return dsc_fail("%s: checkpoint was trained with %s, not %s; resume with --optimizer %s", path,
                            optimizer_kind_name((optimizer_kind)kind), optimizer_kind_name(opt->cfg.kind),
                            optimizer_kind_name((optimizer_kind)kind));
        if (opt->n != nparams) return dsc_fail("%s: optimizer size differs from the model", path);
    }
    if (ns > 2) return dsc_fail("%s: %u optimizer state buffers; file corrupt", path, ns);
    for (uint32_t s = 0; s < ns && !r->failed; s++) {
        float *dst = opt ? (s == 0 ? opt->m : opt->v) : NULL;
        if (dst) {
            get(r, dst, nparams * sizeof(float));
        } else if (fseek(r->f, (long)(nparams * sizeof(float)), SEEK_CUR) != 0) {
            return dsc_fail("%s: cannot seek in checkpoint", path);
        }
    }
    if (opt) {
        opt->step = kind == NO_OPTIMIZER ? 0 : step;
        if (kind == NO_OPTIMIZER) { /* a fresh optimizer on loaded weights */
            memset(opt->m, 0, nparams * sizeof(float));
            if (opt->v) memset(opt->v, 0, nparams * sizeof(float));
        }
    }
    return DSC_OK;
}

/* The statistics block of nb bytes and the training state block (version
 * 2 on) into x; on failure x holds no block. */
static int read_blocks(reader *r, checkpoint_extra *x, uint64_t nb)
{
    x->blob = NULL;
    x->blob_bytes = (size_t)nb;
    x->blob = dsc_malloc(nb ? (size_t)nb : 1, "checkpoint statistics");
    if (!x->blob) return DSC_ERR;
    if (get(r, x->blob, (size_t)nb) != DSC_OK) {
        free(x->blob);
        x->blob = NULL;
        return DSC_ERR;
    }
    uint64_t nsb = r->version >= 2 ? get_u64(r) : 0;
    if (nsb > r->size) {
        free(x->blob);
        x->blob = NULL;
        return dsc_fail("%s: training state block of %llu bytes in a file of %llu; file corrupt", r->path,
                        (unsigned long long)nsb, (unsigned long long)r->size);
    }
    x->state_bytes = (size_t)nsb;
    x->state = r->failed ? NULL : dsc_malloc(nsb ? (size_t)nsb : 1, "checkpoint training state");
    if (!x->state || get(r, x->state, (size_t)nsb) != DSC_OK) {
        free(x->blob);
        free(x->state);
        x->blob = x->state = NULL;
        return DSC_ERR;
    }
    return DSC_OK;
}

/* The two blocks walked over, so that the end is checked after. */
static int skip_blocks(reader *r, uint64_t nb)
{
    uint64_t skip = 0;
    if (nb > r->total || fseek(r->f, (long)nb, SEEK_CUR) != 0) r->failed = 1;
    else if (r->version >= 2) skip = get_u64(r);
    if (!r->failed && (skip > r->total || fseek(r->f, (long)skip, SEEK_CUR) != 0)) r->failed = 1;
    if (r->failed) return dsc_fail("%s: checkpoint is truncated or corrupt (a section runs past the end); use a "
                                   "complete checkpoint",
                                   r->path);
    return DSC_OK;
}

/* The generator states, counters and the two blocks: the dropout generator
 * into m, the rest into x (each unless NULL). */
static int read_state(reader *r, model *m, checkpoint_extra *x)
{
    rng_state dropout_rng = {{0, 0, 0, 0}};
    get(r, dropout_rng.s, sizeof dropout_rng.s);
    if (m) m->dropout_rng = dropout_rng;
    uint32_t has_rng = get_u32(r);
    rng_state rng = {{0}};
    get(r, rng.s, sizeof rng.s);
    int64_t iteration = 0, epoch = 0;
    get(r, &iteration, 8);
    get(r, &epoch, 8);
    uint64_t nb = get_u64(r);
    if (r->failed) return DSC_ERR;
    if (nb > r->size) return dsc_fail("%s: statistics block of %llu bytes in a file of %llu; file corrupt", r->path,
                                      (unsigned long long)nb, (unsigned long long)r->size);
    if (!x) return skip_blocks(r, nb);
    x->has_rng = has_rng != 0;
    x->rng = rng;
    x->iteration = (long)iteration;
    x->epoch = (long)epoch;
    return read_blocks(r, x, nb);
}

/* Everything after the architecture, into m / opt / extra (rank 0).  With
 * m NULL (and opt NULL) the tensor table, parameters and optimizer state
 * are walked over unchecked: only extra is read. */
static int read_body(reader *r, const file_header *h, model *m, optimizer *opt, checkpoint_extra *x)
{
    size_t nparams = 0;
    if (read_params(r, h, m, &nparams) != DSC_OK || read_optimizer(r, opt, nparams) != DSC_OK ||
        read_state(r, m, x) != DSC_OK)
        return DSC_ERR;
    /* The last section ends where the checksum begins: a file that the
     * header makes longer than its sections is not one dsc wrote. */
    long end = ftell(r->f);
    if (end < 0 || (uint64_t)end + 8 != r->total) {
        if (x) {
            free(x->blob);
            free(x->state);
            x->blob = x->state = NULL;
        }
        return dsc_fail("%s: checkpoint sections end at byte %ld, but its header says %llu bytes; the file is corrupt",
                        r->path, end, (unsigned long long)r->total);
    }
    return DSC_OK;
}

static void bcast_floats(float *p, size_t n, MPI_Comm comm)
{
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        MPI_Bcast(p + off, (int)k, MPI_FLOAT, 0, comm);
    }
}

static void bcast_bytes(void *p, size_t n, MPI_Comm comm)
{
    const size_t chunk = (size_t)1 << 30;
    for (size_t off = 0; off < n; off += chunk) {
        size_t k = n - off < chunk ? n - off : chunk;
        MPI_Bcast((char *)p + off, (int)k, MPI_BYTE, 0, comm);
    }
}

static int bcast_extra(MPI_Comm comm, checkpoint_extra *extra);

int checkpoint_load(MPI_Comm comm, const char *path, model *m, optimizer *opt, checkpoint_extra *extra)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    if (extra) memset(extra, 0, sizeof *extra); /* blob NULL unless loaded */
    int status = DSC_OK;
    if (rank == 0) {
        reader r;
        file_header h;
        status = open_checked(&r, path, &h);
        if (status == DSC_OK) status = read_body(&r, &h, m, opt, extra);
        close_reader(&r);
    }
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;

    bcast_floats(m->params, m->nparams, comm);
    MPI_Bcast(m->dropout_rng.s, 4, MPI_UINT64_T, 0, comm);
    if (opt) {
        long step = opt->step;
        MPI_Bcast(&step, 1, MPI_LONG, 0, comm);
        opt->step = step;
        bcast_floats(opt->m, opt->n, comm);
        if (opt->v) bcast_floats(opt->v, opt->n, comm);
    }
    return extra ? bcast_extra(comm, extra) : DSC_OK;
}

/* Collective: extra as rank 0 read it, on every rank. */
static int bcast_extra(MPI_Comm comm, checkpoint_extra *extra)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    long counters[3] = {extra->iteration, extra->epoch, extra->has_rng};
    unsigned long long nb = extra->blob_bytes, ns = extra->state_bytes;
    MPI_Bcast(counters, 3, MPI_LONG, 0, comm);
    MPI_Bcast(&nb, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    MPI_Bcast(&ns, 1, MPI_UNSIGNED_LONG_LONG, 0, comm);
    MPI_Bcast(extra->rng.s, 4, MPI_UINT64_T, 0, comm);
    extra->iteration = counters[0];
    extra->epoch = counters[1];
    extra->has_rng = (int)counters[2];
    int ok = DSC_OK;
    if (rank != 0) {
        extra->blob_bytes = (size_t)nb;
        extra->blob = dsc_malloc(nb ? (size_t)nb : 1, "checkpoint statistics");
        extra->state_bytes = (size_t)ns;
        extra->state = dsc_malloc(ns ? (size_t)ns : 1, "checkpoint training state");
        if (!extra->blob || !extra->state) ok = DSC_ERR;
    }
    if (dsc_agree(comm, ok) != DSC_OK) {
        free(extra->blob);
        free(extra->state);
        extra->blob = extra->state = NULL;
        return DSC_ERR;
    }
    bcast_bytes(extra->blob, (size_t)nb, comm);
    bcast_bytes(extra->state, (size_t)ns, comm);
    return DSC_OK;
}

int checkpoint_read_extra(MPI_Comm comm, const char *path, checkpoint_extra *extra)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(extra, 0, sizeof *extra);
    int status = DSC_OK;
    if (rank == 0) {
        reader r;
        file_header h;
        status = open_checked(&r, path, &h);
        if (status == DSC_OK) status = read_body(&r, &h, NULL, NULL, extra);
        close_reader(&r);
    }
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    return bcast_extra(comm, extra);
}

int checkpoint_read_config(MPI_Comm comm, const char *path, model_config *cfg, optimizer_config *ocfg, int *has_opt)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = DSC_OK;
    /* Packed as ints and floats for one broadcast. */
    int32_t arch[NARCH] = {0};
    float fl[2 + 7] = {0};
    int32_t kind = -1;
    if (rank == 0) {
        reader r;
        file_header h;
        status = open_checked(&r, path, &h);
        if (status == DSC_OK) {
            memcpy(arch, h.arch, sizeof arch);
            fl[0] = h.cfg.dropout;
            fl[1] = h.cfg.recurrent_dropout;
            /* Skip the tensor table and parameters to the optimizer record. */
            uint32_t nt = get_u32(&r);
            for (uint32_t i = 0; i < nt && !r.failed; i++) {
                uint32_t len = get_u32(&r);
                if (len > MODEL_NAME_LEN) {
                    status = dsc_fail("%s: tensor name of %u bytes; file corrupt", path, len);
                    break;
                }
                char name[MODEL_NAME_LEN];
                get(&r, name, len);
                uint32_t ndim = get_u32(&r);
                if (ndim > 4) {
                    status = dsc_fail("%s: tensor with %u dimensions; file corrupt", path, ndim);
                    break;
                }
                for (uint32_t d = 0; d < ndim; d++) get_u32(&r);
                get_u64(&r);
                get_u64(&r);
            }
            uint64_t np = get_u64(&r);
            if (status == DSC_OK && !r.failed && fseek(r.f, (long)(np * sizeof(float)), SEEK_CUR) != 0)
                status = dsc_fail("%s: cannot seek in checkpoint", path);
            uint32_t k = get_u32(&r);
            get(&r, fl + 2, 7 * sizeof(float));
            if (r.failed) status = DSC_ERR;
            kind = k == NO_OPTIMIZER ? -1 : (int32_t)k;
        }
        close_reader(&r);
    }
    if (dsc_agree(comm, status) != DSC_OK) return DSC_ERR;
    MPI_Bcast(arch, NARCH, MPI_INT32_T, 0, comm);
    MPI_Bcast(fl, 9, MPI_FLOAT, 0, comm);
    MPI_Bcast(&kind, 1, MPI_INT32_T, 0, comm);
    arch_unpack(arch, fl[0], fl[1], cfg);
    if (has_opt) *has_opt = kind >= 0;
    if (ocfg) {
        *ocfg = optimizer_defaults(kind == OPTIMIZER_ADAM ? OPTIMIZER_ADAM : OPTIMIZER_SGD);
        if (kind >= 0) {
            ocfg->learning_rate = fl[2];
            ocfg->momentum = fl[3];
            ocfg->beta1 = fl[4];
            ocfg->beta2 = fl[5];
            ocfg->epsilon = fl[6];
            ocfg->weight_decay = fl[7];
            ocfg->clip_norm = fl[8];
        }
    }
    return DSC_OK;
}
