/*
 * json.c - the JSON writer of every command (see json.h).
 */
#include "json.h"
#include "status.h"

#include <math.h>

void json_write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Set once a non-finite number was written; json_begin_file resets it, so
 * each file warns at most once (a K x K matrix of nulls is one warning). */
static int warned;

void json_begin_file(void) { warned = 0; }

int json_write_key_number(FILE *f, double v, int decimals, const char *key)
{
    if (isfinite(v)) {
        if (decimals < 0) fprintf(f, "%.17g", v);
        else fprintf(f, "%.*f", decimals, v);
        return 1;
    }
    /* NaN and Infinity are not JSON: every parser would reject the file. */
    fputs("null", f);
    if (key && !warned) dsc_warn("%s could not be computed (%g); written as null", key, v);
    if (key) warned = 1;
    return 0;
}

int json_write_number(FILE *f, double v) { return json_write_key_number(f, v, -1, NULL); }

void json_write_figures(FILE *f, const json_figure *figures, int n)
{
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        json_write_string(f, figures[i].key);
        fputs(": ", f);
        json_write_key_number(f, figures[i].value, figures[i].decimals, figures[i].key);
    }
}
