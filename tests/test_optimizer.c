/*
 * test_optimizer.c - SGD with momentum and Adam against the Keras update
 * rules evaluated independently in double precision, with weight decay and
 * global-norm clipping; the optimizer must leave the gradient untouched.
 */
#include "optimizer.h"
#include "rng.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 1000
#define STEPS 5

static void run(optimizer_kind kind, float wd, float clip, const char *what)
{
    optimizer_config c = optimizer_defaults(kind);
    c.learning_rate = kind == OPTIMIZER_SGD ? 0.1f : 0.01f;
    c.weight_decay = wd;
    c.clip_norm = clip;
    optimizer opt;
    optimizer_create(&opt, &c, N);
    float w[N], g[N], gcopy[N];
    double wr[N], m[N] = {0}, v[N] = {0};
    rng_state r;
    rng_seed(&r, 3, kind);
    rng_fill_uniform(&r, w, N, -1, 1);
    for (int i = 0; i < N; i++) wr[i] = w[i];
    double worst = 0;
    int grads_kept = 1, clipped = 0;
    for (int t = 1; t <= STEPS; t++) {
        rng_fill_uniform(&r, g, N, -1, 1);
        memcpy(gcopy, g, sizeof g);
        /* reference, double */
        double ge[N], norm = 0;
        for (int i = 0; i < N; i++) {
            ge[i] = g[i] + (double)wd * wr[i];
            norm += ge[i] * ge[i];
        }
        norm = sqrt(norm);
        double scale = clip > 0 && norm > clip ? clip / norm : 1.0;
        if (scale < 1) clipped++;
        for (int i = 0; i < N; i++) {
            double gi = ge[i] * scale;
            if (kind == OPTIMIZER_SGD) {
                m[i] = c.momentum * m[i] - c.learning_rate * gi; /* Keras: v = mu v - lr g; w += v */
                wr[i] += m[i];
            } else {
                m[i] = c.beta1 * m[i] + (1 - c.beta1) * gi;
                v[i] = c.beta2 * v[i] + (1 - c.beta2) * gi * gi;
                double lr_t = c.learning_rate * sqrt(1 - pow(c.beta2, t)) / (1 - pow(c.beta1, t));
                wr[i] -= lr_t * m[i] / (sqrt(v[i]) + c.epsilon);
            }
        }
        optimizer_step(&opt, w, g);
        grads_kept = grads_kept && !memcmp(g, gcopy, sizeof g);
        for (int i = 0; i < N; i++) worst = fmax(worst, fabs(w[i] - wr[i]) / (1e-3 + fabs(wr[i])));
    }
    tap_check(worst < 3e-5 && grads_kept && opt.step == STEPS && (clip == 0 || clipped > 0),
              "%s %s: %d steps match the double reference (max rel diff %.2e)%s", optimizer_kind_name(kind), what, STEPS,
              worst, clip > 0 ? ", clipping active" : "");
    optimizer_destroy(&opt);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    optimizer_config s = optimizer_defaults(OPTIMIZER_SGD), a = optimizer_defaults(OPTIMIZER_ADAM);
    tap_check(s.learning_rate == 1e-7f && s.momentum == 0.9f, "SGD defaults are the authors' (lr 1e-7, momentum 0.9)");
    tap_check(a.learning_rate == 1e-3f && a.beta1 == 0.9f && a.beta2 == 0.999f && a.epsilon == 1e-7f,
              "Adam defaults are Keras' (1e-3, 0.9, 0.999, 1e-7)");
    for (int k = 0; k < 2; k++) {
        run((optimizer_kind)k, 0, 0, "plain");
        run((optimizer_kind)k, 0.01f, 0, "weight decay");
        run((optimizer_kind)k, 0.01f, 2.0f, "weight decay + clip norm 2");
    }
    optimizer_kind kind;
    tap_check(optimizer_kind_parse("adam", &kind) == DSC_OK && kind == OPTIMIZER_ADAM, "parse adam");
    tap_check(optimizer_kind_parse("rmsprop", &kind) == DSC_ERR && strstr(dsc_message(), "rmsprop"),
              "unknown optimizer rejected with its name");
    dsc_clear();
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
