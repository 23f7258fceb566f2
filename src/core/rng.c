/*
 * rng.c - xoshiro256** seeded by splitmix64 (reference algorithms by
 * D. Blackman and S. Vigna, prng.di.unimi.it, public domain).
 */
#include "rng.h"

#include <math.h>

uint64_t rng_splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rng_seed(rng_state *r, uint64_t seed, uint64_t stream)
{
    /* Mix the stream into the seed with a second splitmix round so that
     * (seed, stream) and (seed + 1, stream - 1) do not collide. */
    uint64_t x = seed;
    uint64_t mixed = rng_splitmix64(&x);
    x = mixed ^ (stream * 0xd1b54a32d192ed03ULL + 0x8cb92ba72f3d8dd7ULL);
    for (int i = 0; i < 4; i++) r->s[i] = rng_splitmix64(&x);
    if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* the all-zero state is a fixed point */
}

uint64_t rng_next(rng_state *r)
{
    uint64_t *s = r->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double rng_uniform(rng_state *r) { return (double)(rng_next(r) >> 11) * 0x1.0p-53; }

float rng_uniform_range(rng_state *r, float lo, float hi)
{
    float v = (float)(lo + (hi - (double)lo) * rng_uniform(r));
    return v < hi ? v : lo; /* rounding to float may reach hi */
}

/* Box-Muller from two uniform numbers in [0, 1). */
static double box_muller(double u1, double u2)
{
    const double two_pi = 6.283185307179586476925286766559;
    u1 = 1.0 - u1; /* (0, 1]: log stays finite */
    return sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

double rng_normal(rng_state *r)
{
    double u1 = rng_uniform(r);
    double u2 = rng_uniform(r);
    return box_muller(u1, u2);
}

/* ---- counter-based numbers ---------------------------------------------- */

/* splitmix64's output function applied to z (the state of one step). */
static uint64_t mix64(uint64_t z) { return rng_splitmix64(&z); }

uint64_t rng_hash4(uint64_t seed, uint64_t stream, uint64_t a, uint64_t n)
{
    return mix64(mix64(mix64(mix64(seed) ^ stream) ^ a) ^ n);
}

double rng_counter_uniform(rng_counter *c) { return (double)(rng_hash4(c->seed, c->stream, c->a, c->n++) >> 11) * 0x1.0p-53; }

double rng_counter_normal(rng_counter *c)
{
    double u1 = rng_counter_uniform(c);
    double u2 = rng_counter_uniform(c);
    return box_muller(u1, u2);
}

void rng_fill_uniform(rng_state *r, float *out, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) out[i] = rng_uniform_range(r, lo, hi);
}

void rng_fill_normal(rng_state *r, float *out, size_t n, float mean, float stddev)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)(mean + stddev * rng_normal(r));
}
