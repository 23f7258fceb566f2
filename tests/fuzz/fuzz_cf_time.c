/*
 * fuzz_cf_time.c - CF time units and calendar attributes (src/data/cf_time.c).
 *
 * Input: the units text, a NUL, the calendar text, a NUL, then 8 bytes of a
 * time value (a double).  Exercises cf_time_parse, cf_time_decode,
 * cf_time_encode and the date formatting and parsing that labels and
 * --time-range use.  A decoded date must format and parse back to itself.
 */
#include "cf_time.h"
#include "fuzz_common.h"

#include <math.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup(argc, argv, ".txt");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 2); /* two NULs guarantee both strings end */
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = text[size + 1] = '\0';
    const char *units = text;
    size_t ulen = strlen(units);
    const char *calendar = text + ulen + 1;
    size_t used = ulen + 1 + strlen(calendar) + 1;
    double value = 0;
    if (used + sizeof value <= size) memcpy(&value, data + used, sizeof value);

    cf_time_units u;
    if (cf_time_parse(units, *calendar ? calendar : NULL, &u) == DSC_OK) {
        dsc_datetime t;
        if (cf_time_decode(&u, value, &t) == DSC_OK) {
            char iso[32];
            datetime_format(&t, iso, sizeof iso);
            dsc_datetime back;
            if (datetime_parse(iso, &back) == DSC_OK) {
                if (back.year != t.year || back.month != t.month || back.day != t.day || back.hour != t.hour ||
                    back.minute != t.minute || back.second != t.second) {
                    fprintf(stderr, "fuzz_cf_time: %s does not parse back to the decoded date\n", iso);
                    abort();
                }
            }
            (void)cf_time_encode(&u, &t);
            (void)datetime_to_hours(&t);
            (void)datetime_day_of_year(&t);
        }
    }
    dsc_clear();
    /* the same text as a date (labels, --time-range) */
    dsc_datetime d;
    if (datetime_parse(units, &d) == DSC_OK) {
        char iso[32];
        datetime_format(&d, iso, sizeof iso);
        dsc_datetime h;
        datetime_from_hours(datetime_to_hours(&d), &h);
    }
    dsc_clear();
    free(text);
    return 0;
}
