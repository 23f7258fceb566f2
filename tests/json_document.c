/*
 * json_document.c - writes to stdout a metrics.json of the shape dsc writes
 * (tests/json.sh parses it): every kind of number a command puts in a JSON
 * file goes through the writers of json.h, pca.h and metrics_report.h.
 *
 *   json_document finite      figures 0.125, 1.5, 2.25, ... (exact in binary)
 *   json_document nonfinite   NaN, +Inf or -Inf in every floating-point field
 *
 * Warnings go to stderr, as in dsc.
 */
#include "json.h"
#include "metrics_report.h"
#include "pca.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    const int bad = argc > 1 && strcmp(argv[1], "nonfinite") == 0;
    /* a: the value of a field, or one of NaN, +Inf, -Inf in turn */
    const double nonfinite[3] = {NAN, INFINITY, -INFINITY};
    int turn = 0;
#define FIGURE(v) (bad ? nonfinite[turn++ % 3] : (v))
    FILE *f = stdout;
    json_begin_file();
    fprintf(f, "{\n  \"command\": \"kmeans\",\n  \"inertia\": ");
    json_write_key_number(f, FIGURE(1.5), -1, "inertia");
    fprintf(f, ",\n");

    double variance[2] = {FIGURE(2.25), FIGURE(0.5)}, ratio[2] = {FIGURE(0.75), FIGURE(0.125)};
    pca_result pr = {.c = 2, .d = 3, .variance = variance, .ratio = ratio, .total_variance = FIGURE(3.0), .iterations = 4};
    pca_write_json(f, &pr, "  ");

    double inter[4] = {FIGURE(0.0), FIGURE(1.5), FIGURE(1.5), FIGURE(0.0)};
    long long sizes[2] = {3, 4};
    metrics_report r;
    memset(&r, 0, sizeof r);
    r.k = 2, r.d = 3, r.T = 7, r.has_truth = 1;
    r.pm.inter = inter;
    r.pm.silhouette = FIGURE(0.25), r.pm.silhouette_cosine = FIGURE(-0.5);
    r.pm.avg_inter_cluster_distance = FIGURE(1.5);
    r.cm.sizes = sizes;
    r.cm.davies_bouldin = FIGURE(0.75), r.cm.rmse_mean = FIGURE(3.0), r.cm.avg_variance = FIGURE(0.0625);
    r.ari = FIGURE(1.0), r.nmi = FIGURE(0.5);
    metrics_report_write_json(f, &r, "  ");

    /* the timings of kmeans/ward/predict/eval, and train's max and mean */
    const json_figure timings[] = {{"read", FIGURE(0.25), 4}, {"kmeans", FIGURE(1.5), 4}, {"write", FIGURE(0.125), 3}};
    fprintf(f, "  \"timings\": {");
    json_write_figures(f, timings, 3);
    const json_figure phase[] = {{"max", FIGURE(2.5), 4}, {"mean", FIGURE(2.25), 4}};
    fprintf(f, "},\n  \"phase\": {");
    json_write_figures(f, phase, 2);
    fprintf(f, "},\n  \"distance_matrix_bytes\": ");
    json_write_key_number(f, FIGURE(1024.0), 0, "distance_matrix_bytes");
    fprintf(f, "\n}\n");
#undef FIGURE
    MPI_Finalize();
    return 0;
}
