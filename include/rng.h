/*
 * rng.h - a small, seeded, portable random number generator.
 *
 * xoshiro256** (Blackman and Vigna, 2018) seeded through splitmix64, so the
 * same seed gives the same stream on every rank, compiler and machine: the
 * network's initial weights are drawn from it and must agree across ranks
 * without a broadcast.  The state is four 64-bit words and is saved in
 * checkpoints so a resumed run draws the same dropout masks.
 */
#ifndef DSC_RNG_H
#define DSC_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t s[4];
} rng_state;

/* Seeds the generator; different (seed, stream) pairs give independent
 * streams (stream = 0 for the weights, the rank for per-rank dropout). */
void rng_seed(rng_state *r, uint64_t seed, uint64_t stream);
uint64_t rng_next(rng_state *r);
/* splitmix64 (Steele, Lea and Flood 2014): advances *state by the golden
 * gamma and returns the mixed value; a one-word generator for a few draws
 * identical on every rank (and the seeding of rng_seed). */
uint64_t rng_splitmix64(uint64_t *state);
/* Uniform double in [0, 1) with 53 random bits. */
double rng_uniform(rng_state *r);
/* Uniform float in [lo, hi). */
float rng_uniform_range(rng_state *r, float lo, float hi);
/* Standard normal (Box-Muller, one value per call so the state alone
 * determines the stream). */
double rng_normal(rng_state *r);
/* Counter-based numbers: the number for (seed, stream, a, n) needs no
 * state, so any rank computes any element of a sequence (the sample data
 * generator draws each day's numbers from (seed, stream, day, n)).
 * splitmix64's output function applied to a chain of the counters. */
typedef struct {
    uint64_t seed, stream, a, n; /* n counts the draws */
} rng_counter;
uint64_t rng_hash4(uint64_t seed, uint64_t stream, uint64_t a, uint64_t n);
/* Uniform double in [0, 1) with 53 random bits; advances c->n. */
double rng_counter_uniform(rng_counter *c);
/* Standard normal (Box-Muller, two draws). */
double rng_counter_normal(rng_counter *c);
/* Fills out[0..n) with uniform values in [lo, hi). */
void rng_fill_uniform(rng_state *r, float *out, size_t n, float lo, float hi);
/* Fills out[0..n) with normal values of the given mean and deviation. */
void rng_fill_normal(rng_state *r, float *out, size_t n, float mean, float stddev);

#endif
