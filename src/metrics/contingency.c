/*
 * contingency.c - agreement of two labellings from their contingency
 * table: adjusted Rand index (Hubert and Arabie 1985, via the pair
 * confusion matrix as scikit-learn computes it) and normalised mutual
 * information with the arithmetic mean of the two entropies as normaliser
 * (scikit-learn's default), including scikit-learn's special cases.
 */
#include "metrics.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int compare_int(const void *p, const void *q)
{
    int a = *(const int *)p, b = *(const int *)q;
    return (a > b) - (a < b);
}

int metrics_encode_labels(int *out, const int *in, long long n)
{
    int *sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof(int));
    if (!sorted) return -1;
    memcpy(sorted, in, (size_t)n * sizeof(int));
    /* sort, then unique; each label's code is its rank among the values */
    qsort(sorted, (size_t)n, sizeof(int), compare_int);
    long long k = 0;
    for (long long i = 0; i < n; i++)
        if (k == 0 || sorted[i] != sorted[k - 1]) sorted[k++] = sorted[i];
    for (long long i = 0; i < n; i++) {
        long long lo = 0, hi = k - 1;
        while (lo < hi) {
            long long mid = (lo + hi) / 2;
            if (sorted[mid] < in[i]) lo = mid + 1;
            else hi = mid;
        }
        out[i] = (int)lo;
    }
    free(sorted);
    return (int)k;
}

/* Entropy of a labelling from its counts (natural logarithm). */
static double entropy(const long long *counts, int k, long long n)
{
    double h = 0;
    for (int i = 0; i < k; i++)
        if (counts[i] > 0) h -= ((double)counts[i] / n) * (log((double)counts[i]) - log((double)n));
    return h;
}

int contingency_scores(const int *a, int ka, const int *b, int kb, long long n, double *ari, double *nmi)
{
    long long *table = dsc_calloc((size_t)ka * kb, sizeof(long long), "contingency table"); /* (KA, KB) */
    long long *na = dsc_calloc((size_t)ka, sizeof(long long), "label counts");              /* (KA) */
    long long *nb = dsc_calloc((size_t)kb, sizeof(long long), "label counts");              /* (KB) */
    if (!table || !na || !nb) {
        free(table);
        free(na);
        free(nb);
        return DSC_ERR;
    }
    for (long long i = 0; i < n; i++) {
        table[(size_t)a[i] * kb + b[i]]++;
        na[a[i]]++;
        nb[b[i]]++;
    }
    int used_a = 0, used_b = 0;
    for (int i = 0; i < ka; i++) used_a += na[i] > 0;
    for (int j = 0; j < kb; j++) used_b += nb[j] > 0;

    /* Pair confusion matrix (counts of ordered pairs), in 128-bit integers. */
    __int128 sum_squares = 0, sum_a = 0, sum_b = 0, N = n;
    for (size_t e = 0; e < (size_t)ka * kb; e++) sum_squares += (__int128)table[e] * table[e];
    for (int i = 0; i < ka; i++) sum_a += (__int128)na[i] * na[i];
    for (int j = 0; j < kb; j++) sum_b += (__int128)nb[j] * nb[j];
    __int128 tp = sum_squares - N;
    __int128 fp = sum_b - sum_squares; /* same in a, different in b: C[0][1] with a = truth */
    __int128 fn = sum_a - sum_squares;
    __int128 tn = N * N - fp - fn - sum_squares;
    if (fn == 0 && fp == 0) {
        *ari = 1.0;
    } else {
        long double num = 2.0L * ((long double)tp * (long double)tn - (long double)fn * (long double)fp);
        long double den = (long double)(tp + fn) * (long double)(fn + tn) + (long double)(tp + fp) * (long double)(fp + tn);
        *ari = (double)(num / den);
    }

    if ((used_a == 1 && used_b == 1) || n == 0) {
        *nmi = 1.0;
    } else {
        double mi = 0;
        for (int i = 0; i < ka; i++)
            for (int j = 0; j < kb; j++) {
                long long c = table[(size_t)i * kb + j];
                if (c == 0) continue;
                mi += ((double)c / n) * (log((double)c) - log((double)n) - log((double)na[i]) - log((double)nb[j]) + 2 * log((double)n));
            }
        if (mi < 0) mi = 0;
        if (mi == 0) {
            *nmi = 0.0;
        } else {
            double norm = 0.5 * (entropy(na, ka, n) + entropy(nb, kb, n));
            *nmi = mi / norm;
        }
    }
    free(table);
    free(na);
    free(nb);
    return DSC_OK;
}
