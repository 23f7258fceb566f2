/*
 * davies_bouldin.c - the Davies-Bouldin index as scikit-learn computes it:
 * S_k = mean distance of cluster k's members to its centroid, M_ij = distance
 * between centroids, DB = mean_i max_{j != i} (S_i + S_j) / M_ij; 0 when all
 * S_k or all M_ij are (numpy allclose) zero, and coinciding centroids are
 * left out of the maximum.
 */
#include "metrics.h"

#include <math.h>

double davies_bouldin_from_centroids(const double *scatter, const double *centroids, const long long *sizes, int k, int d)
{
    int nonzero_scatter = 0, nonzero_distance = 0, n = 0;
    for (int a = 0; a < k; a++) {
        if (sizes[a] == 0) continue;
        n++;
        if (fabs(scatter[a]) > 1e-8) nonzero_scatter = 1;
    }
    double total = 0;
    for (int a = 0; a < k; a++) {
        if (sizes[a] == 0) continue;
        double worst = 0;
        for (int b = 0; b < k; b++) {
            if (b == a || sizes[b] == 0) continue;
            double m2 = 0;
            for (int f = 0; f < d; f++) {
                double e = centroids[(size_t)a * d + f] - centroids[(size_t)b * d + f];
                m2 += e * e;
            }
            double m = sqrt(m2);
            if (m > 1e-8) nonzero_distance = 1;
            if (m == 0) continue; /* scikit-learn: distance 0 -> inf -> ratio 0 */
            double r = (scatter[a] + scatter[b]) / m;
            if (r > worst) worst = r;
        }
        total += worst;
    }
    if (!nonzero_scatter || !nonzero_distance || n == 0) return 0.0;
    return total / n;
}
