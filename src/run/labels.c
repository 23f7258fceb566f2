/*
 * labels.c - reading, matching and writing `time,label` CSV files.
 * Rank 0 parses the file and broadcasts the table (labels are small: one
 * int and one double per time step).
 */
#include "labels.h"
#include "output_file.h"
#include "cf_time.h"
#include "status.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HALF_SECOND (0.5 / 3600.0)

void labels_destroy(label_table *t)
{
    free(t->hours);
    free(t->values);
    free(t->line);
    memset(t, 0, sizeof *t);
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
    return s;
}

static int grow(label_table *t, long long *cap)
{
    long long c = *cap ? 2 * *cap : 1024;
    double *h = realloc(t->hours, (size_t)c * sizeof(double));
    if (h) t->hours = h;
    int *v = realloc(t->values, (size_t)c * sizeof(int));
    if (v) t->values = v;
    long long *l = realloc(t->line, (size_t)c * sizeof(long long));
    if (l) t->line = l;
    if (!h || !v || !l) return dsc_fail("out of memory reading labels");
    *cap = c;
    return DSC_OK;
}

typedef struct {
    double hours;
    long long index;
} time_key;

static int compare_time(const void *p, const void *q)
{
    double a = ((const time_key *)p)->hours, b = ((const time_key *)q)->hours;
    return (a > b) - (a < b);
}

/* Rank 0: parse the whole file. */
static int parse_file(const char *path, label_table *t)
{
    FILE *f = fopen(path, "r");
    if (!f) return dsc_fail("%s: cannot open labels: %s; give a CSV file of 'time,label' lines", path, strerror(errno));
    char *line = NULL;
    size_t line_cap = 0;
    ssize_t len;
    long long lineno = 0, cap = 0;
    int status = DSC_OK, seen_data = 0;
    while (status == DSC_OK && (len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        char *buf = line;
        if (lineno == 1 && len >= 2 && ((buf[0] == '\xff' && buf[1] == '\xfe') || (buf[0] == '\xfe' && buf[1] == '\xff'))) {
            status = dsc_fail("%s: the file is UTF-16 text; save it as UTF-8 (or ASCII) CSV of 'TIME,LABEL' lines", path);
            break;
        }
        if (memchr(buf, '\0', (size_t)len)) {
            status = dsc_fail("%s: line %lld holds a NUL byte: the file is binary or UTF-16 text; save it as UTF-8 (or ASCII) "
                              "CSV of 'TIME,LABEL' lines", path, lineno);
            break;
        }
        if (lineno == 1 && len >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0) buf += 3; /* UTF-8 byte order mark */
        if (len > 1023) {
            status = dsc_fail("%s: line %lld: line too long (%lld bytes); expected 'TIME,LABEL'", path, lineno, (long long)len);
            break;
        }
        char *s = buf;
        if (lineno == 1 && (unsigned char)s[0] == 0xef && (unsigned char)s[1] == 0xbb && (unsigned char)s[2] == 0xbf)
            s += 3; /* UTF-8 byte-order mark (spreadsheet exports) */
        s = trim(s);
        if (*s == '\0' || *s == '#') continue;
        char *comma = strchr(s, ',');
        char *time_text = s, *label_text = comma ? comma + 1 : NULL;
        if (comma) *comma = '\0';
        time_text = trim(time_text);
        dsc_datetime when;
        int time_ok = datetime_parse(time_text, &when) == DSC_OK;
        dsc_clear();
        if (!time_ok && !seen_data && lineno == 1 && !isdigit((unsigned char)time_text[0])) continue; /* header */
        seen_data = 1;
        if (!comma) {
            status = dsc_fail("%s: line %lld: no comma in '%s'; expected 'TIME,LABEL' (ISO 8601 time, integer label)", path, lineno, s);
            break;
        }
        if (!time_ok) {
            status = dsc_fail("%s: line %lld: '%s' is not an ISO 8601 time; expected 'TIME,LABEL' like 1979-01-01T00:00:00,3", path,
                              lineno, time_text);
            break;
        }
        label_text = trim(label_text);
        char *end;
        errno = 0;
        long v = strtol(label_text, &end, 10);
        if (errno || end == label_text || *end != '\0' || v < -2147483647L || v > 2147483647L) {
            status = dsc_fail("%s: line %lld: label '%s' is not an integer; expected 'TIME,LABEL' like 1979-01-01T00:00:00,3", path,
                              lineno, label_text);
            break;
        }
        if (t->n == cap && grow(t, &cap) != DSC_OK) {
            status = DSC_ERR;
            break;
        }
        t->hours[t->n] = datetime_to_hours(&when);
        t->values[t->n] = (int)v;
        t->line[t->n] = lineno;
        t->n++;
    }
    if (status == DSC_OK && ferror(f)) status = dsc_fail("%s: read error", path);
    free(line);
    fclose(f);
    if (status == DSC_OK && t->n == 0) status = dsc_fail("%s: no labels in the file; expected 'TIME,LABEL' lines", path);
    /* duplicated times */
    if (status == DSC_OK) {
        time_key *k = malloc((size_t)t->n * sizeof(time_key));
        if (!k) return dsc_fail("out of memory reading labels");
        for (long long i = 0; i < t->n; i++) k[i] = (time_key){t->hours[i], i};
        qsort(k, (size_t)t->n, sizeof(time_key), compare_time);
        for (long long i = 1; i < t->n; i++)
            if (k[i].hours - k[i - 1].hours < HALF_SECOND) {
                long long a = k[i - 1].index < k[i].index ? k[i - 1].index : k[i].index;
                long long b = k[i - 1].index < k[i].index ? k[i].index : k[i - 1].index;
                char iso[32];
                dsc_datetime w;
                datetime_from_hours(t->hours[a], &w);
                datetime_format(&w, iso, sizeof iso);
                status = dsc_fail("%s: line %lld: time %s already labelled on line %lld; give one label per time step", path,
                                  t->line[b], iso, t->line[a]);
                break;
            }
        free(k);
    }
    return status;
}

int labels_read(MPI_Comm comm, const char *path, label_table *out)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    memset(out, 0, sizeof *out);
    int status = rank == 0 ? parse_file(path, out) : DSC_OK;
    if (dsc_agree(comm, status) != DSC_OK) {
        labels_destroy(out);
        return DSC_ERR;
    }
    long long n = out->n;
    MPI_Bcast(&n, 1, MPI_LONG_LONG, 0, comm);
    if (rank != 0) {
        out->n = n;
        out->hours = dsc_malloc((size_t)n * sizeof(double), "labels");
        out->values = dsc_malloc((size_t)n * sizeof(int), "labels");
        out->line = dsc_malloc((size_t)n * sizeof(long long), "labels");
        if (!out->hours || !out->values || !out->line) status = DSC_ERR;
    }
    if (dsc_agree(comm, status) != DSC_OK) {
        labels_destroy(out);
        return DSC_ERR;
    }
    MPI_Bcast(out->hours, (int)n, MPI_DOUBLE, 0, comm);
    MPI_Bcast(out->values, (int)n, MPI_INT, 0, comm);
    MPI_Bcast(out->line, (int)n, MPI_LONG_LONG, 0, comm);
    return DSC_OK;
}

static void format_hours(double hours, char *buf, size_t len)
{
    dsc_datetime w;
    datetime_from_hours(hours, &w);
    datetime_format(&w, buf, len);
}

int labels_match(int *out, const label_table *t, const char *path, const double *time, long long ntime, int by_day)
{
    time_key *k = dsc_malloc((size_t)(t->n + 1) * sizeof(time_key), "labels");
    if (!k) return DSC_ERR;
    for (long long i = 0; i < t->n; i++) k[i] = (time_key){by_day ? floor(t->hours[i] / 24 + HALF_SECOND / 24) : t->hours[i], i};
    qsort(k, (size_t)t->n, sizeof(time_key), compare_time);
    long long missing = 0, first_missing = -1;
    for (long long s = 0; s < ntime; s++) {
        double key = by_day ? floor(time[s] / 24 + HALF_SECOND / 24) : time[s];
        long long lo = 0, hi = t->n;
        while (lo < hi) { /* first entry with hours >= key - half a second */
            long long mid = (lo + hi) / 2;
            if (k[mid].hours < key - HALF_SECOND) lo = mid + 1;
            else hi = mid;
        }
        if (lo < t->n && fabs(k[lo].hours - key) < HALF_SECOND) {
            out[s] = t->values[k[lo].index];
        } else {
            if (first_missing < 0) first_missing = s;
            missing++;
        }
    }
    int status = DSC_OK;
    if (missing) {
        char step[32], first[32], last[32], d0[32], d1[32];
        format_hours(time[first_missing], step, sizeof step);
        double lo = t->hours[0], hi = t->hours[0];
        for (long long i = 1; i < t->n; i++) {
            if (t->hours[i] < lo) lo = t->hours[i];
            if (t->hours[i] > hi) hi = t->hours[i];
        }
        format_hours(lo, first, sizeof first);
        format_hours(hi, last, sizeof last);
        format_hours(time[0], d0, sizeof d0);
        format_hours(time[ntime - 1], d1, sizeof d1);
        status = dsc_fail("%s: no label for time step %s (%lld of %lld time steps have none; the labels cover %s to %s, the data %s "
                          "to %s); give one label for every time step of the data%s",
                          path, step, missing, ntime, first, last, d0, d1,
                          !by_day && ntime > 1 && time[1] - time[0] < 23.5 ? " (daily labels for sub-daily data: add --daily-mean)" : "");
    }
    free(k);
    return status;
}

int labels_write(const char *path, const double *hours, const int *values, long long n)
{
    output_file out;
    if (output_file_open(&out, path, "w") != DSC_OK) return DSC_ERR;
    FILE *f = out.f;
    fprintf(f, "time,label\n");
    for (long long i = 0; i < n; i++) {
        char iso[32];
        format_hours(hours[i], iso, sizeof iso);
        fprintf(f, "%s,%d\n", iso, values[i]);
    }
    return output_file_commit(&out);
}
