/*
 * gradcheck_1d.h - the 1-D layers of the DTC baseline (conv1d, maxpool1d,
 * upsample1d, bilstm, leaky ReLU) in test_gradcheck.c: a double-precision
 * forward written from each layer's formula in layers.h, the float forward
 * against it, and the float backward against its central differences.
 * Included by test_gradcheck.c after its helpers (gradcheck, project, ...).
 */

/* ---- Conv1D ------------------------------------------------------------------ */

typedef struct {
    conv1d_dims d;
    double *inp, *w, *b, *r, *out;
} conv1d_ctx;

static double conv1d_loss(void *p)
{
    conv1d_ctx *c = p;
    const conv1d_dims *d = &c->d;
    const int left = (d->K - 1) / 2;
    for (int n = 0; n < d->B; n++)
        for (int t = 0; t < d->L; t++)
            for (int o = 0; o < d->OC; o++) {
                double s = c->b[o];
                for (int ic = 0; ic < d->IC; ic++)
                    for (int k = 0; k < d->K; k++) {
                        int u = t + k - left;
                        if (u >= 0 && u < d->L)
                            s += c->w[((size_t)o * d->IC + ic) * d->K + k] * c->inp[((size_t)n * d->L + u) * d->IC + ic];
                    }
                c->out[((size_t)n * d->L + t) * d->OC + o] = s;
            }
    return project(c->out, c->r, (size_t)d->B * d->L * d->OC);
}

static void test_conv1d(int B, int L, int IC, int OC, int K)
{
    conv1d_dims d = {.B = B, .L = L, .IC = IC, .OC = OC, .K = K};
    char what[96];
    snprintf(what, sizeof what, "conv1d B=%d L=%d %d->%d K=%d", B, L, IC, OC, K);
    const size_t ni = (size_t)B * L * IC, no = (size_t)B * L * OC, nw = (size_t)OC * IC * K;
    float *inp = frand(ni, 1), *w = frand(nw, 0.5), *b = frand(OC, 0.5), *r = frand(no, 1);
    float *out = ffill(no, NAN), *scratch = ffill(conv1d_scratch_floats(&d), NAN);
    float *dinp = ffill(ni, PREFILL), *dw = ffill(nw, PREFILL), *db = ffill(OC, PREFILL);
    conv1d_forward(out, inp, w, b, scratch, &d);
    conv1d_backward(dinp, dw, db, r, inp, w, scratch, &d);
    conv1d_ctx c = {d, todouble(inp, ni), todouble(w, nw), todouble(b, OC), todouble(r, no), todouble(NULL, no)};
    conv1d_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp}, {"weight", c.w, nw, dw}, {"bias", c.b, OC, db}};
    gradcheck(what, conv1d_loss, &c, items, 3);
    // without bias and without input gradient
    float *out2 = ffill(no, NAN), *dw2 = ffill(nw, PREFILL);
    conv1d_forward(out2, inp, w, NULL, scratch, &d);
    conv1d_backward(NULL, dw2, NULL, r, inp, w, scratch, &d);
    double e = 0;
    for (size_t k = 0; k < no; k++) {
        double x = fabs((double)out2[k] + b[k % OC] - out[k]);
        if (!(x <= e)) e = x;
    }
    tap_check(e <= 1e-5 && memcmp(dw2, dw, sizeof(float) * nw) == 0,
              "%s: no bias and no input gradient (NULL) give the same output and weight gradient", what);
    free(c.inp), free(c.w), free(c.b), free(c.r), free(c.out);
    free(inp), free(w), free(b), free(r), free(out), free(scratch), free(dinp), free(dw), free(db), free(out2), free(dw2);
}

/* ---- MaxPool1D, UpSampling1D ---------------------------------------------------- */

typedef struct {
    int B, L, C, P, OL;
    double *inp, *r, *out;
} seq_ctx;

static double maxpool1d_loss(void *p)
{
    seq_ctx *c = p;
    for (int n = 0; n < c->B; n++)
        for (int o = 0; o < c->OL; o++)
            for (int ch = 0; ch < c->C; ch++) {
                double m = -INFINITY;
                for (int t = o * c->P; t < (o + 1) * c->P && t < c->L; t++) {
                    double v = c->inp[((size_t)n * c->L + t) * c->C + ch];
                    if (v > m) m = v;
                }
                c->out[((size_t)n * c->OL + o) * c->C + ch] = m;
            }
    return project(c->out, c->r, (size_t)c->B * c->OL * c->C);
}

static void test_maxpool1d(int B, int L, int C, int P)
{
    maxpool1d_dims d = {.B = B, .L = L, .C = C, .P = P};
    const int OL = maxpool1d_out_size(L, P);
    char what[96];
    snprintf(what, sizeof what, "maxpool1d B=%d L=%d C=%d P=%d", B, L, C, P);
    const size_t ni = (size_t)B * L * C, no = (size_t)B * OL * C;
    float *inp = frand(ni, 1), *r = frand(no, 1), *out = ffill(no, NAN), *dinp = ffill(ni, PREFILL);
    int *arg = malloc(sizeof(int) * no);
    if (!arg) abort();
    maxpool1d_forward(out, arg, inp, &d);
    maxpool1d_backward(dinp, r, arg, &d);
    seq_ctx c = {B, L, C, P, OL, todouble(inp, ni), todouble(r, no), todouble(NULL, no)};
    maxpool1d_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) == 0, "%s: forward is the window maximum (%d windows)", what, OL);
    grad_item items[] = {{"inp", c.inp, ni, dinp}};
    gradcheck(what, maxpool1d_loss, &c, items, 1);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(dinp), free(arg);
}

static double upsample1d_loss(void *p)
{
    seq_ctx *c = p; // here L is the input length, OL the output length
    for (int n = 0; n < c->B; n++)
        for (int t = 0; t < c->OL; t++)
            for (int ch = 0; ch < c->C; ch++)
                c->out[((size_t)n * c->OL + t) * c->C + ch] = c->inp[((size_t)n * c->L + t / c->P) * c->C + ch];
    return project(c->out, c->r, (size_t)c->B * c->OL * c->C);
}

static void test_upsample1d(int B, int L, int C, int P, int OL)
{
    upsample1d_dims d = {.B = B, .L = L, .C = C, .P = P, .OL = OL};
    char what[96];
    snprintf(what, sizeof what, "upsample1d B=%d L=%d C=%d P=%d to %d", B, L, C, P, OL);
    const size_t ni = (size_t)B * L * C, no = (size_t)B * OL * C;
    float *inp = frand(ni, 1), *r = frand(no, 1), *out = ffill(no, NAN), *dinp = ffill(ni, PREFILL);
    upsample1d_forward(out, inp, &d);
    upsample1d_backward(dinp, r, &d);
    seq_ctx c = {B, L, C, P, OL, todouble(inp, ni), todouble(r, no), todouble(NULL, no)};
    upsample1d_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) == 0, "%s: forward copies each position P times", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp}};
    gradcheck(what, upsample1d_loss, &c, items, 1);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(dinp);
}

/* ---- bidirectional LSTM ---------------------------------------------------------- */

typedef struct {
    bilstm_dims d;
    double *inp, *wih[2], *whh[2], *b[2], *r, *out;
} bilstm_ctx;

/* Keras LSTM in double over sample n's sequence, read backwards when
 * reverse; adds its hidden state to out at the position it read. */
static void lstm_direction_double(double *out, const bilstm_ctx *c, int dir, int n)
{
    const bilstm_dims *d = &c->d;
    const int H = d->HID, IN = d->IN;
    double *h = calloc(H, sizeof(double)), *cc = calloc(H, sizeof(double)), *z = malloc(sizeof(double) * 4 * H);
    if (!h || !cc || !z) abort();
    for (int step = 0; step < d->S; step++) {
        const int t = dir ? d->S - 1 - step : step;
        const double *x = c->inp + ((size_t)n * d->S + t) * IN;
        for (int row = 0; row < 4 * H; row++) {
            double s = c->b[dir][row];
            for (int j = 0; j < IN; j++) s += c->wih[dir][(size_t)row * IN + j] * x[j];
            for (int j = 0; j < H; j++) s += c->whh[dir][(size_t)row * H + j] * h[j];
            z[row] = s;
        }
        for (int u = 0; u < H; u++) {
            double i = sigm(z[u]), f = sigm(z[H + u]), g = tanh(z[2 * H + u]), o = sigm(z[3 * H + u]);
            cc[u] = f * cc[u] + i * g;
            h[u] = o * tanh(cc[u]);
            out[((size_t)n * d->S + t) * H + u] += h[u];
        }
    }
    free(h), free(cc), free(z);
}

static double bilstm_loss(void *p)
{
    bilstm_ctx *c = p;
    const bilstm_dims *d = &c->d;
    const size_t no = (size_t)d->B * d->S * d->HID;
    memset(c->out, 0, sizeof(double) * no);
    for (int n = 0; n < d->B; n++)
        for (int dir = 0; dir < 2; dir++) lstm_direction_double(c->out, c, dir, n);
    return project(c->out, c->r, no);
}

static void test_bilstm(int B, int S, int IN, int H)
{
    bilstm_dims d = {.B = B, .S = S, .IN = IN, .HID = H};
    char what[96];
    snprintf(what, sizeof what, "bilstm B=%d S=%d %d->%d (sum)", B, S, IN, H);
    const size_t ni = (size_t)B * S * IN, no = (size_t)B * S * H, nwi = (size_t)4 * H * IN, nwh = (size_t)4 * H * H;
    float *inp = frand(ni, 1), *r = frand(no, 1), *out = ffill(no, NAN);
    float *wih[2], *whh[2], *b[2], *dwih[2], *dwhh[2], *db[2];
    for (int k = 0; k < 2; k++) {
        wih[k] = frand(nwi, 0.6), whh[k] = frand(nwh, 0.6), b[k] = frand(4 * H, 0.5);
        dwih[k] = ffill(nwi, PREFILL), dwhh[k] = ffill(nwh, PREFILL), db[k] = ffill(4 * H, PREFILL);
    }
    float *state = ffill(bilstm_state_floats(&d), NAN), *scratch = ffill(bilstm_scratch_floats(&d), NAN);
    float *dinp = ffill(ni, PREFILL);
    const float *const cwih[2] = {wih[0], wih[1]}, *const cwhh[2] = {whh[0], whh[1]}, *const cb[2] = {b[0], b[1]};
    bilstm_forward(out, state, inp, cwih, cwhh, cb, scratch, &d);
    bilstm_backward(dinp, dwih, dwhh, db, r, inp, cwih, cwhh, state, scratch, &d);
    bilstm_ctx c = {d, todouble(inp, ni), {todouble(wih[0], nwi), todouble(wih[1], nwi)},
                    {todouble(whh[0], nwh), todouble(whh[1], nwh)}, {todouble(b[0], 4 * H), todouble(b[1], 4 * H)},
                    todouble(r, no), todouble(NULL, no)};
    bilstm_loss(&c);
    tap_check(rel_error(out, 0, c.out, no, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
    grad_item items[] = {{"inp", c.inp, ni, dinp},
                         {"weight_ih (forward)", c.wih[0], nwi, dwih[0]},
                         {"weight_hh (forward)", c.whh[0], nwh, dwhh[0]},
                         {"bias (forward)", c.b[0], 4 * H, db[0]},
                         {"weight_ih (backward)", c.wih[1], nwi, dwih[1]},
                         {"weight_hh (backward)", c.whh[1], nwh, dwhh[1]},
                         {"bias (backward)", c.b[1], 4 * H, db[1]}};
    gradcheck(what, bilstm_loss, &c, items, 7);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(state), free(scratch), free(dinp);
    for (int k = 0; k < 2; k++) {
        free(c.wih[k]), free(c.whh[k]), free(c.b[k]);
        free(wih[k]), free(whh[k]), free(b[k]), free(dwih[k]), free(dwhh[k]), free(db[k]);
    }
}

/* ---- leaky ReLU ------------------------------------------------------------------------ */

typedef struct {
    double alpha, *inp, *r, *out;
    size_t n;
} leaky_ctx;

static double leaky_loss(void *p)
{
    leaky_ctx *c = p;
    for (size_t k = 0; k < c->n; k++) c->out[k] = c->inp[k] > 0 ? c->inp[k] : c->alpha * c->inp[k];
    return project(c->out, c->r, c->n);
}

static void test_leaky_relu(float alpha)
{
    const size_t n = 3 * 5 * 7;
    char what[64];
    snprintf(what, sizeof what, "leaky relu alpha=%g", alpha);
    float *inp = frand(n, 1), *r = frand(n, 1), *out = ffill(n, NAN), *dinp = ffill(n, PREFILL), *io = malloc(sizeof(float) * n);
    if (!io) abort();
    for (size_t k = 0; k < n; k++) // keep clear of the kink at 0, where the difference quotient is not the slope
        if (fabsf(inp[k]) < 1e-3f) inp[k] = 0.5f;
    leaky_relu_forward(out, inp, n, alpha);
    leaky_relu_backward(dinp, r, out, n, alpha);
    memcpy(io, inp, sizeof(float) * n);
    leaky_relu_forward(io, io, n, alpha);
    tap_check(memcmp(io, out, sizeof(float) * n) == 0, "%s: forward in place gives the same result", what);
    leaky_ctx c = {alpha, todouble(inp, n), todouble(r, n), todouble(NULL, n), n};
    leaky_loss(&c);
    tap_check(rel_error(out, 0, c.out, n, 1e-6) <= TOL_REF, "%s: forward matches double precision", what);
    grad_item items[] = {{"inp", c.inp, n, dinp}};
    gradcheck(what, leaky_loss, &c, items, 1);
    free(c.inp), free(c.r), free(c.out), free(inp), free(r), free(out), free(dinp), free(io);
}

/* The fast kernel (im2col + sgemm, OpenMP above 16384 column entries)
 * against the direct loops of tests/reference_kernels.c. */
static void test_conv1d_reference(int B, int L, int IC, int OC, int K)
{
    conv1d_dims d = {.B = B, .L = L, .IC = IC, .OC = OC, .K = K};
    char what[96];
    snprintf(what, sizeof what, "conv1d B=%d L=%d %d->%d K=%d", B, L, IC, OC, K);
    const size_t ni = (size_t)B * L * IC, no = (size_t)B * L * OC, nw = (size_t)OC * IC * K;
    float *inp = frand(ni, 1), *w = frand(nw, 0.5), *b = frand(OC, 0.5), *r = frand(no, 1);
    float *out = ffill(no, NAN), *out_r = ffill(no, NAN), *scratch = ffill(conv1d_scratch_floats(&d), NAN);
    float *dinp = ffill(ni, PREFILL), *dw = ffill(nw, PREFILL), *db = ffill(OC, PREFILL);
    float *dinp_r = ffill(ni, PREFILL), *dw_r = ffill(nw, PREFILL), *db_r = ffill(OC, PREFILL);
    conv1d_forward(out, inp, w, b, scratch, &d);
    conv1d_forward_reference(out_r, inp, w, b, &d);
    tap_check(rel_error_ff(out, out_r, no) <= TOL_REF, "%s: forward matches reference kernel", what);
    conv1d_backward(dinp, dw, db, r, inp, w, scratch, &d);
    conv1d_backward_reference(dinp_r, dw_r, db_r, r, inp, w, &d);
    tap_check(rel_error_ff(dinp, dinp_r, ni) <= TOL_REF && rel_error_ff(dw, dw_r, nw) <= TOL_REF &&
                  rel_error_ff(db, db_r, OC) <= TOL_REF,
              "%s: backward matches reference kernel", what);
    free(inp), free(w), free(b), free(r), free(out), free(out_r), free(scratch);
    free(dinp), free(dw), free(db), free(dinp_r), free(dw_r), free(db_r);
}

static void test_dtc_layers(void)
{
    test_conv1d_reference(3, 2000, 1, 16, 10); // the DTC encoder's shape, threaded loops
    test_conv1d_reference(2, 1800, 4, 1, 10);  // the DTC output layer with H2 = 4
    test_conv1d(2, 13, 1, 4, 10); // DTC's even kernel: 4 positions back, 5 ahead
    test_conv1d(2, 9, 3, 2, 3);
    test_conv1d(1, 4, 2, 3, 7);   // kernel wider than the sequence
    test_maxpool1d(2, 7, 3, 3);   // shorter last window
    test_maxpool1d(2, 8, 2, 2);
    test_upsample1d(2, 3, 2, 3, 7); // cut to the length before a ceil pooling
    test_upsample1d(2, 3, 2, 3, 9);
    test_bilstm(2, 4, 3, 2);
    test_bilstm(3, 5, 4, 1); // DTC's second BiLSTM: one unit per direction
    test_leaky_relu(0.3f);
}
