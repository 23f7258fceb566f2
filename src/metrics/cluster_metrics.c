/*
 * cluster_metrics.c - the metrics built from per-cluster sums: cluster
 * sizes, centroids, RMSE_mean (paper eq. 11), the average variance and the
 * Davies-Bouldin index.  Two passes over the local rows, each followed by an
 * MPI_Allreduce of the per-cluster sums in double.
 */
#include "metrics.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cluster_metrics_destroy(cluster_metrics *out)
{
    free(out->sizes);
    free(out->centroids);
    out->sizes = NULL;
    out->centroids = NULL;
}

int cluster_metrics_compute(MPI_Comm comm, const metrics_data *data, cluster_metrics *out)
{
    const int K = data->k, d = data->d;
    memset(out, 0, sizeof *out);
    out->k = K;
    out->d = d;
    out->ntotal = data->ntotal;
    out->sizes = dsc_calloc((size_t)K, sizeof(long long), "cluster sizes");            /* (K) */
    out->centroids = dsc_calloc((size_t)K * d, sizeof(double), "centroids");           /* (K, D) */
    double *second = dsc_calloc((size_t)3 * K, sizeof(double), "cluster sums");        /* (3, K) */
    double *flat_mean = dsc_calloc((size_t)K, sizeof(double), "cluster means");       /* (K) */
    int status = (out->sizes && out->centroids && second && flat_mean) ? DSC_OK : DSC_ERR;
    for (long long i = 0; status == DSC_OK && i < data->n; i++) {
        int l = data->labels[i];
        if (l < 0 || l >= K) {
            status = dsc_fail("internal: label %d outside 0..%d", l, K - 1);
            break;
        }
        out->sizes[l]++;
        const float *x = data->x + i * d;
        double *c = out->centroids + (size_t)l * d;
        for (int f = 0; f < d; f++) c[f] += x[f];
    }
    if (dsc_agree(comm, status) != DSC_OK) goto done;
    MPI_Allreduce(MPI_IN_PLACE, out->sizes, K, MPI_LONG_LONG, MPI_SUM, comm);
    MPI_Allreduce(MPI_IN_PLACE, out->centroids, K * d, MPI_DOUBLE, MPI_SUM, comm);
    for (int l = 0; l < K; l++) {
        if (out->sizes[l] == 0) continue;
        double *c = out->centroids + (size_t)l * d;
        double total = 0;
        for (int f = 0; f < d; f++) {
            total += c[f];
            c[f] /= (double)out->sizes[l];
        }
        /* the mean of all values of the member rows as one flat array */
        flat_mean[l] = total / ((double)out->sizes[l] * d);
    }

    /* Second pass: squared error to the centroid (eq. 11), distance to the
     * centroid (Davies-Bouldin scatter), squared deviation of every value
     * from the flat cluster mean (average variance). */
    double *sse = second, *dist = second + K, *dev = second + 2 * K;
    for (long long i = 0; i < data->n; i++) {
        int l = data->labels[i];
        const float *x = data->x + i * d;
        const double *c = out->centroids + (size_t)l * d;
        double s = 0, v = 0;
        for (int f = 0; f < d; f++) {
            double e = x[f] - c[f], u = x[f] - flat_mean[l];
            s += e * e;
            v += u * u;
        }
        sse[l] += s;
        dist[l] += sqrt(s);
        dev[l] += v;
    }
    MPI_Allreduce(MPI_IN_PLACE, second, 3 * K, MPI_DOUBLE, MPI_SUM, comm);
    double sse_total = 0, var_total = 0;
    for (int l = 0; l < K; l++) {
        sse_total += sse[l];
        /* n_k * var_k with var_k = dev_k / (n_k D) */
        var_total += dev[l] / d;
        dist[l] = out->sizes[l] ? dist[l] / (double)out->sizes[l] : 0;
    }
    out->rmse_mean = sqrt(sse_total / (double)data->ntotal);
    out->avg_variance = var_total / (double)data->ntotal;
    out->davies_bouldin = davies_bouldin_from_centroids(dist, out->centroids, out->sizes, K, d);
done:
    free(second);
    free(flat_mean);
    if (status != DSC_OK) cluster_metrics_destroy(out);
    return status;
}
