/*
 * layers_torch_dump_1d.h - the 1-D layers of the DTC baseline for
 * layers_torch_dump.c (included after its helpers): conv1d, maxpool1d,
 * upsample1d, bilstm and leaky ReLU, dumped channels last (B, L, C) as the
 * C layers hold them; test_layers_torch.py permutes for PyTorch's (B, C, L).
 */

static void dump_conv1d(const char *dir, const char *name, int B, int L, int IC, int OC, int K)
{
    conv1d_dims d = {.B = B, .L = L, .IC = IC, .OC = OC, .K = K};
    size_t ni = (size_t)B * L * IC, no = (size_t)B * L * OC, nw = (size_t)OC * IC * K;
    float *inp = rnd(ni, 1), *w = rnd(nw, 0.3f), *b = rnd(OC, 0.3f), *r = rnd(no, 1), *out = zeros(no);
    float *dinp = zeros(ni), *dw = zeros(nw), *db = zeros(OC), *scratch = zeros(conv1d_scratch_floats(&d));
    conv1d_forward(out, inp, w, b, scratch, &d);
    conv1d_backward(dinp, dw, db, r, inp, w, scratch, &d);
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 3, B, L, IC);
    put(f, "weight", w, 3, OC, IC, K);
    put(f, "bias", b, 1, OC);
    put(f, "r", r, 3, B, L, OC);
    put(f, "out", out, 3, B, L, OC);
    put(f, "dinp", dinp, 3, B, L, IC);
    put(f, "dweight", dw, 3, OC, IC, K);
    put(f, "dbias", db, 1, OC);
    fclose(f);
    free(inp), free(w), free(b), free(r), free(out), free(dinp), free(dw), free(db), free(scratch);
}

static void dump_maxpool1d(const char *dir, const char *name, int B, int L, int C, int P)
{
    maxpool1d_dims d = {.B = B, .L = L, .C = C, .P = P};
    int OL = maxpool1d_out_size(L, P);
    size_t ni = (size_t)B * L * C, no = (size_t)B * OL * C;
    float *inp = rnd(ni, 1), *r = rnd(no, 1), *out = zeros(no), *dinp = zeros(ni);
    int *am = malloc(sizeof(int) * no);
    if (!am) exit(2);
    maxpool1d_forward(out, am, inp, &d);
    maxpool1d_backward(dinp, r, am, &d);
    FILE *f = open_case(dir, name);
    put_int(f, "pool", P);
    put(f, "inp", inp, 3, B, L, C);
    put(f, "r", r, 3, B, OL, C);
    put(f, "out", out, 3, B, OL, C);
    put(f, "dinp", dinp, 3, B, L, C);
    fclose(f);
    free(inp), free(r), free(out), free(dinp), free(am);
}

static void dump_upsample1d(const char *dir, const char *name, int B, int L, int C, int P, int OL)
{
    upsample1d_dims d = {.B = B, .L = L, .C = C, .P = P, .OL = OL};
    size_t ni = (size_t)B * L * C, no = (size_t)B * OL * C;
    float *inp = rnd(ni, 1), *r = rnd(no, 1), *out = zeros(no), *dinp = zeros(ni);
    upsample1d_forward(out, inp, &d);
    upsample1d_backward(dinp, r, &d);
    FILE *f = open_case(dir, name);
    put_int(f, "factor", P);
    put(f, "inp", inp, 3, B, L, C);
    put(f, "r", r, 3, B, OL, C);
    put(f, "out", out, 3, B, OL, C);
    put(f, "dinp", dinp, 3, B, L, C);
    fclose(f);
    free(inp), free(r), free(out), free(dinp);
}

static void dump_bilstm(const char *dir, const char *name, int B, int S, int IN, int H)
{
    bilstm_dims d = {.B = B, .S = S, .IN = IN, .HID = H};
    size_t ni = (size_t)B * S * IN, no = (size_t)B * S * H, nwi = (size_t)4 * H * IN, nwh = (size_t)4 * H * H;
    float *inp = rnd(ni, 1), *r = rnd(no, 1), *out = zeros(no), *dinp = zeros(ni);
    float *wih[2], *whh[2], *b[2], *dwi[2], *dwh[2], *db[2];
    for (int k = 0; k < 2; k++) {
        wih[k] = rnd(nwi, 0.5f), whh[k] = rnd(nwh, 0.5f), b[k] = rnd(4 * H, 0.5f);
        dwi[k] = zeros(nwi), dwh[k] = zeros(nwh), db[k] = zeros(4 * H);
    }
    float *state = zeros(bilstm_state_floats(&d)), *scratch = zeros(bilstm_scratch_floats(&d));
    const float *const cwi[2] = {wih[0], wih[1]}, *const cwh[2] = {whh[0], whh[1]}, *const cb[2] = {b[0], b[1]};
    bilstm_forward(out, state, inp, cwi, cwh, cb, scratch, &d);
    bilstm_backward(dinp, dwi, dwh, db, r, inp, cwi, cwh, state, scratch, &d);
    FILE *f = open_case(dir, name);
    put(f, "inp", inp, 3, B, S, IN);
    const char *suffix[2] = {"", "_reverse"};
    char key[64];
    for (int k = 0; k < 2; k++) {
        snprintf(key, sizeof key, "weight_ih%s", suffix[k]);
        put(f, key, wih[k], 2, 4 * H, IN);
        snprintf(key, sizeof key, "weight_hh%s", suffix[k]);
        put(f, key, whh[k], 2, 4 * H, H);
        snprintf(key, sizeof key, "bias%s", suffix[k]);
        put(f, key, b[k], 1, 4 * H);
    }
    put(f, "r", r, 3, B, S, H);
    put(f, "out", out, 3, B, S, H);
    put(f, "dinp", dinp, 3, B, S, IN);
    for (int k = 0; k < 2; k++) {
        snprintf(key, sizeof key, "dweight_ih%s", suffix[k]);
        put(f, key, dwi[k], 2, 4 * H, IN);
        snprintf(key, sizeof key, "dweight_hh%s", suffix[k]);
        put(f, key, dwh[k], 2, 4 * H, H);
        snprintf(key, sizeof key, "dbias%s", suffix[k]);
        put(f, key, db[k], 1, 4 * H);
    }
    fclose(f);
    free(inp), free(r), free(out), free(dinp), free(state), free(scratch);
    for (int k = 0; k < 2; k++) free(wih[k]), free(whh[k]), free(b[k]), free(dwi[k]), free(dwh[k]), free(db[k]);
}

static void dump_leaky_relu(const char *dir)
{
    const size_t n = 2 * 3 * 11;
    float *inp = rnd(n, 1), *r = rnd(n, 1), *out = zeros(n), *dinp = zeros(n);
    leaky_relu_forward(out, inp, n, 0.3f);
    leaky_relu_backward(dinp, r, out, n, 0.3f);
    FILE *f = open_case(dir, "leaky_relu");
    float alpha = 0.3f;
    put(f, "alpha", &alpha, 1, 1);
    put(f, "inp", inp, 1, (int)n);
    put(f, "r", r, 1, (int)n);
    put(f, "out", out, 1, (int)n);
    put(f, "dinp", dinp, 1, (int)n);
    fclose(f);
    free(inp), free(r), free(out), free(dinp);
}

static void dump_dtc_layers(const char *dir)
{
    dump_conv1d(dir, "conv1d_k10", 2, 23, 1, 5, 10); // DTC's even kernel
    dump_conv1d(dir, "conv1d_k3", 2, 17, 3, 4, 3);
    dump_conv1d(dir, "conv1d_long", 2, 3000, 2, 3, 10);
    dump_maxpool1d(dir, "maxpool1d_exact", 2, 20, 3, 10);
    dump_maxpool1d(dir, "maxpool1d_ragged", 2, 23, 3, 10);
    dump_upsample1d(dir, "upsample1d_exact", 2, 2, 3, 10, 20);
    dump_upsample1d(dir, "upsample1d_cut", 2, 3, 3, 10, 23);
    dump_bilstm(dir, "bilstm", 2, 5, 6, 4);
    dump_bilstm(dir, "bilstm_one_unit", 2, 7, 4, 1);
    dump_leaky_relu(dir);
}
