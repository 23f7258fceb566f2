/*
 * test_metrics_report.c - the JSON of metrics_report: every key, values as
 * %.17g, and null (never nan or inf, which no JSON parser accepts) for
 * figures that could not be computed, with one warning per file.
 */
#include "json.h"
#include "metrics_report.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int count_of(const char *text, const char *what)
{
    int n = 0;
    for (const char *p = strstr(text, what); p; p = strstr(p + 1, what)) n++;
    return n;
}

/* The JSON of r inside "{...}", in a malloc'ed string; the warnings written
 * to stderr meanwhile are counted in *warnings.  new_file: the file begins
 * with json_begin_file, as every command's does. */
static char *report_json(const metrics_report *r, int new_file, int *warnings)
{
    char *text = NULL, *err = NULL;
    size_t len = 0, elen = 0;
    FILE *f = open_memstream(&text, &len);
    fflush(stderr);
    int saved = dup(2);
    FILE *e = tmpfile();
    dup2(fileno(e), 2);
    if (new_file) json_begin_file();
    fprintf(f, "{\n");
    metrics_report_write_json(f, r, "  ");
    fprintf(f, "  \"end\": 0\n}\n");
    fclose(f);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    rewind(e);
    FILE *m = open_memstream(&err, &elen);
    int c;
    while ((c = fgetc(e)) != EOF) fputc(c, m);
    fclose(m);
    fclose(e);
    *warnings = count_of(err, "dsc: warning:");
    free(err);
    return text;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    double inter[4] = {1.5, 0.25, 0.25, 2.0};
    long long sizes[2] = {3, 4};
    metrics_report r;
    memset(&r, 0, sizeof r);
    r.k = 2, r.d = 5, r.T = 7;
    r.pm.inter = inter;
    r.pm.silhouette = 0.125, r.pm.silhouette_cosine = -0.5, r.pm.avg_inter_cluster_distance = 1.0;
    r.cm.sizes = sizes;
    r.cm.davies_bouldin = 0.75, r.cm.rmse_mean = 3.0, r.cm.avg_variance = 0.0625;
    int warnings;
    char *json = report_json(&r, 1, &warnings);
    tap_check(strstr(json, "\"silhouette\": 0.125,\n") && strstr(json, "\"silhouette_cosine\": -0.5,\n") &&
                  strstr(json, "\"davies_bouldin\": 0.75,\n") && strstr(json, "\"rmse_mean\": 3,\n") &&
                  strstr(json, "\"avg_variance\": 0.0625,\n") && strstr(json, "\"avg_inter_cluster_distance\": 1,\n") &&
                  strstr(json, "\"inter_cluster_distance\": [[1.5, 0.25], [0.25, 2]],\n") &&
                  strstr(json, "\"cluster_sizes\": [3, 4],\n") && strstr(json, "\"n_samples\": 7,\n") &&
                  strstr(json, "\"n_features\": 5,\n") && strstr(json, "\"n_clusters\": 2,\n"),
              "every metric key with its value");
    tap_check(!strstr(json, "\"ari\"") && !strstr(json, "\"sampled\""), "no ari/nmi without truth, no sampled when exact");
    tap_check(warnings == 0 && !strstr(json, "null"), "finite figures: no null, no warning");
    free(json);

    r.has_truth = 1, r.ari = 1.0, r.nmi = NAN, r.sampled = 5;
    r.pm.silhouette_cosine = NAN;
    r.cm.davies_bouldin = INFINITY;
    inter[1] = -INFINITY;
    json = report_json(&r, 1, &warnings);
    tap_check(strstr(json, "\"silhouette_cosine\": null,\n") && strstr(json, "\"davies_bouldin\": null,\n") &&
                  strstr(json, "[[1.5, null], [0.25, 2]]") && strstr(json, "\"nmi\": null,\n") &&
                  strstr(json, "\"ari\": 1,\n") && strstr(json, "\"sampled\": 5,\n"),
              "NaN and infinite figures are written as null");
    tap_check(!strstr(json, "nan") && !strstr(json, "inf"), "no nan or inf in the JSON");
    tap_check(warnings == 1, "one warning for the file (%d)", warnings);
    free(json);
    json = report_json(&r, 1, &warnings);
    tap_check(warnings == 1, "one warning again for the next file (%d)", warnings);
    free(json);
    json = report_json(&r, 0, &warnings);
    tap_check(warnings == 0 && strstr(json, "\"davies_bouldin\": null,\n"),
              "the same file continued: null, no second warning (%d)", warnings);
    free(json);
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
