/*
 * run_json.h - metrics.json of a run: the command's own keys around the
 * metric keys of metrics_report.h, then the timings, written under a
 * temporary name and renamed once complete (output_file.h).
 *
 *   {
 *     "command": NAME,          (when command is set)
 *     ...head...                 the command's keys
 *     ...the report...           metrics_report_write_json
 *     ...tail...                 the command's keys after the report
 *     "regimes": {...}           the labelling's life cycle (run_regimes.h), when set
 *     "timings": {...}           figures, or timings_fn
 *   }
 */
#ifndef DSC_RUN_JSON_H
#define DSC_RUN_JSON_H

#include <stdio.h>
#include "json.h"
#include "metrics_report.h"
#include "regime_stats.h"

typedef struct {
    const char *command;                           /* "command": first; NULL: no such key (dsc eval) */
    void (*head)(FILE *f, const void *ctx);        /* keys before the report, each line ending ",\n" */
    const metrics_report *rep;
    void (*tail)(FILE *f, const void *ctx);        /* keys after the report; NULL: none */
    const regime_stats *regimes;                   /* "regimes" before "timings"; NULL: none */
    const json_figure *timings;                    /* the members of "timings" ... */
    int ntimings;
    void (*timings_fn)(FILE *f, const void *ctx);  /* ... or written by this, when set */
    const void *ctx;
} run_json;

/* Local (rank 0): path as above; DSC_ERR with a message naming it. */
int run_json_write(const char *path, const run_json *j);

#endif
