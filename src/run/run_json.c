/*
 * run_json.c - metrics.json of a run (see run_json.h).
 */
#include "run_json.h"
#include "output_file.h"
#include "run_regimes.h"
#include "status.h"

int run_json_write(const char *path, const run_json *j)
{
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    FILE *f = out.f;
    json_begin_file();
    fprintf(f, "{\n");
    if (j->command) fprintf(f, "  \"command\": \"%s\",\n", j->command);
    if (j->head) j->head(f, j->ctx);
    metrics_report_write_json(f, j->rep, "  ");
    if (j->tail) j->tail(f, j->ctx);
    if (j->regimes) run_regimes_write_json(f, j->regimes);
    fprintf(f, "  \"timings\": {");
    if (j->timings_fn) j->timings_fn(f, j->ctx);
    else json_write_figures(f, j->timings, j->ntimings);
    fprintf(f, "}\n}\n");
    return output_file_commit(&out);
}
