/*
 * json.h - the JSON writer of every command: strings with their escapes, and
 * numbers that are never invalid JSON (NaN and infinity become null, with a
 * warning naming the key).  Every number dsc writes into a JSON file goes
 * through json_write_key_number (or json_write_figures, which calls it).
 *
 *   json_begin_file();                         // warnings start again
 *   fprintf(f, "{\"inertia\": ");
 *   json_write_key_number(f, inertia, -1, "inertia");
 *   fprintf(f, ", \"timings\": {");
 *   json_figure t[] = {{"read", t_read, 4}, {"total", t_total, 4}};
 *   json_write_figures(f, t, 2);             // "read": 0.0123, "total": 1.5000
 *   fprintf(f, "}}\n");
 */
#ifndef DSC_JSON_H
#define DSC_JSON_H

#include <stdio.h>

/* A string with quotes; ", \ and control characters escaped. */
void json_write_string(FILE *f, const char *s);

/* A new JSON file begins: the next number that is not finite warns again. */
void json_begin_file(void);

/* v with all digits (%.17g, decimals < 0) or with that many decimals (%.*f);
 * null when v is NaN or infinite, and then, once per file (see
 * json_begin_file), the warning "KEY could not be computed (nan); written
 * as null".  key NULL: no warning.  Returns 1 when v was finite. */
int json_write_key_number(FILE *f, double v, int decimals, const char *key);

/* json_write_key_number(f, v, -1, NULL): for figures already checked
 * (coordinates, packing attributes) that need no warning. */
int json_write_number(FILE *f, double v);

/* Object members "key": value, separated by ", ", each value through
 * json_write_key_number with its own decimals. */
typedef struct {
    const char *key;
    double value;
    int decimals; /* < 0: all digits */
} json_figure;
void json_write_figures(FILE *f, const json_figure *figures, int n);

#endif
