/*
 * json.h - the JSON writer of every command: strings with their escapes, and
 * numbers that are never invalid JSON (NaN and infinity become null).
 */
#ifndef DSC_JSON_H
#define DSC_JSON_H

#include <stdio.h>

/* A string with quotes; ", \ and control characters escaped. */
void json_write_string(FILE *f, const char *s);
/* %.17g (round-trips a double), or null when v is NaN or infinite.
 * Returns 1 when v was finite. */
int json_write_number(FILE *f, double v);

#endif
