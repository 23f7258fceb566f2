/*
 * metrics_report.c - one computation, JSON and table of the clustering
 * metrics for every command (see metrics_report.h).  The metrics themselves
 * live in silhouette.c, cluster_metrics.c, davies_bouldin.c and
 * contingency.c; this file runs them in order, times them, and formats
 * them so that no output is ever invalid JSON.
 */
#include "metrics_report.h"
#include "json.h"
#include "status.h"

#include <math.h>
#include <string.h>

void metrics_json_string(FILE *f, const char *s) { json_write_string(f, s); }

int metrics_report_compute(MPI_Comm comm, const metrics_data *data, const pairwise_options *popt, const int *truth, int kt,
                           const int *labels_all, metrics_report *r)
{
    const pairwise_options exact = {0};
    if (!popt) popt = &exact;
    memset(r, 0, sizeof *r);
    r->T = data->ntotal;
    r->d = data->d;
    r->k = data->k;
    r->sampled = popt->sample > 0 && popt->sample < data->ntotal ? popt->sample : 0;
    double t0 = MPI_Wtime();
    /* A clustering run may end with every time step in one cluster: the
     * silhouettes and distances between clusters do not exist then; they
     * are reported as null (with a warning) instead of failing the run. */
    int distinct = 0;
    if (labels_all) {
        int first = labels_all[0];
        distinct = 1;
        for (long long t = 1; t < data->ntotal && distinct < 2; t++) distinct += labels_all[t] != first;
    }
    if (labels_all && distinct < 2) {
        int rank;
        MPI_Comm_rank(comm, &rank);
        if (rank == 0) dsc_warn("every time step is in cluster %d: silhouettes and inter-cluster distances are undefined (null)", labels_all[0]);
        r->pm.inter = dsc_malloc((size_t)data->k * data->k * sizeof(double) + 1, "inter-cluster distances");
        if (dsc_agree(comm, r->pm.inter ? DSC_OK : DSC_ERR) != DSC_OK) return DSC_ERR;
        r->pm.n = data->ntotal;
        r->pm.nlabels = 1;
        r->pm.silhouette = r->pm.silhouette_cosine = r->pm.avg_inter_cluster_distance = NAN;
        for (int i = 0; i < data->k * data->k; i++) r->pm.inter[i] = NAN;
    } else if (pairwise_metrics_compute(comm, data, popt, &r->pm) != DSC_OK) {
        return DSC_ERR;
    }
    double t1 = MPI_Wtime();
    if (cluster_metrics_compute(comm, data, &r->cm) != DSC_OK) {
        pairwise_metrics_destroy(&r->pm);
        return DSC_ERR;
    }
    double t2 = MPI_Wtime();
    int status = DSC_OK;
    if (truth) {
        status = contingency_scores(truth, kt, labels_all, data->k, data->ntotal, &r->ari, &r->nmi);
        r->has_truth = 1;
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        metrics_report_destroy(r);
        return DSC_ERR;
    }
    r->t_pairwise = t1 - t0;
    r->t_cluster = t2 - t1;
    r->t_contingency = MPI_Wtime() - t2;
    return DSC_OK;
}

/* "INDENT"key": value,\n */
static void json_key_number(FILE *f, const char *indent, const char *key, double v)
{
    fprintf(f, "%s\"%s\": ", indent, key);
    json_write_key_number(f, v, -1, key);
    fprintf(f, ",\n");
}

void metrics_report_write_json(FILE *f, const metrics_report *r, const char *indent)
{
    const int k = r->k;
    json_key_number(f, indent, "silhouette", r->pm.silhouette);
    json_key_number(f, indent, "silhouette_cosine", r->pm.silhouette_cosine);
    if (r->sampled > 0) fprintf(f, "%s\"sampled\": %lld,\n", indent, r->sampled);
    json_key_number(f, indent, "davies_bouldin", r->cm.davies_bouldin);
    json_key_number(f, indent, "rmse_mean", r->cm.rmse_mean);
    json_key_number(f, indent, "avg_variance", r->cm.avg_variance);
    json_key_number(f, indent, "avg_inter_cluster_distance", r->pm.avg_inter_cluster_distance);
    fprintf(f, "%s\"inter_cluster_distance\": ", indent);
    if (k > METRICS_JSON_MAX_MATRIX) {
        fprintf(f, "null");
        dsc_warn("%d clusters: the %d x %d inter-cluster matrix is not written to JSON (null above %d clusters); "
                 "avg_inter_cluster_distance, its mean, is", k, k, k, METRICS_JSON_MAX_MATRIX);
    } else {
        fprintf(f, "[");
        for (int a = 0; a < k; a++) {
            fprintf(f, "%s[", a ? ", " : "");
            for (int b = 0; b < k; b++) {
                if (b) fprintf(f, ", ");
                json_write_key_number(f, r->pm.inter[a * k + b], -1, "inter_cluster_distance");
            }
            fprintf(f, "]");
        }
        fprintf(f, "]");
    }
    fprintf(f, ",\n%s\"cluster_sizes\": [", indent);
    for (int a = 0; a < k; a++) fprintf(f, "%s%lld", a ? ", " : "", r->cm.sizes[a]);
    fprintf(f, "],\n");
    if (r->has_truth) {
        json_key_number(f, indent, "ari", r->ari);
        json_key_number(f, indent, "nmi", r->nmi);
    }
    fprintf(f, "%s\"n_samples\": %lld,\n%s\"n_features\": %d,\n%s\"n_clusters\": %d,\n", indent, r->T, indent, r->d, indent, k);
}

void metrics_report_print(FILE *f, const metrics_report *r, const char *command)
{
    const char *sampled = r->sampled > 0 ? "  sampled" : "";
    fprintf(f, "%s: %lld samples x %d features, %d clusters%s\n", command, r->T, r->d, r->k,
            r->sampled > 0 ? " (silhouettes sampled)" : "");
    fprintf(f, "  %-28s %12.6f%s\n", "silhouette (Euclidean)", r->pm.silhouette, sampled);
    fprintf(f, "  %-28s %12.6f%s\n", "silhouette (cosine)", r->pm.silhouette_cosine, sampled);
    fprintf(f, "  %-28s %12.6f\n", "Davies-Bouldin", r->cm.davies_bouldin);
    fprintf(f, "  %-28s %12.6f\n", "RMSE_mean", r->cm.rmse_mean);
    fprintf(f, "  %-28s %12.6f%s\n", "avg inter-cluster distance", r->pm.avg_inter_cluster_distance, sampled);
    fprintf(f, "  %-28s %12.6f\n", "average variance", r->cm.avg_variance);
    if (r->has_truth) {
        fprintf(f, "  %-28s %12.6f\n", "adjusted Rand index", r->ari);
        fprintf(f, "  %-28s %12.6f\n", "normalised mutual info", r->nmi);
    }
    fprintf(f, "  %-28s", "cluster sizes");
    for (int a = 0; a < r->k; a++) fprintf(f, " %lld", r->cm.sizes[a]);
    fprintf(f, "\n");
}

void metrics_report_destroy(metrics_report *r)
{
    pairwise_metrics_destroy(&r->pm);
    cluster_metrics_destroy(&r->cm);
}

double metrics_report_bytes(long long T, int d, int k, int kt, int P, int threads, long long m, double *whole)
{
    /* silhouette.c (allocate_pass, pairwise_tile_state_create), cluster_metrics.c, contingency.c */
    const double K = k, D = d, tile = 256, S = P / 2;
    const double n = (double)((T + P - 1) / P); /* largest block */
    double na = n;
    if (m > 0 && m < T) { /* a random subset: about m / P rows per rank, with a margin */
        double mean = (double)m / P;
        na = mean + 4 * sqrt(mean) + 1;
        if (na > n) na = n;
    }
    const double rows = na * D * 4 + na * 3 * 8 + na * 8 + (S > 0 ? 2 * (na * D * 4 + na * 3 * 8) : 0);
    const double sums = (S * na * 2 * K * 8) * 2 + na * 2 * K * 8;  /* visiting and returned sums, own sums */
    const double per_thread = tile * tile * 12 + 2 * tile * D * 4 + D * 12 + 4 * tile * 8 + 2 * na * 2 * K * 8;
    const double kk = (threads + 2) * K * K * 8;                    /* per-thread, reduced and final inter-cluster matrices */
    const double held = kk + K * D * 8 + (double)kt * K * 8 + K * 64 + D * 24 + (double)T * 13;
    *whole = held;
    return rows + sums + threads * per_thread + held;
}
