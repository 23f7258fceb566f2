/*
 * test_cf_time.c - CF time decoding against dates computed independently
 * (Python datetime / cftime conventions), for every supported calendar.
 */
#include "cf_time.h"
#include "status.h"
#include "tap.h"

#include <math.h>
#include <string.h>

static void check_decode(const char *units, const char *cal, double value, const char *expect)
{
    cf_time_units u;
    char got[32] = "(parse failed)";
    if (cf_time_parse(units, cal, &u) == DSC_OK) {
        dsc_datetime t;
        cf_time_decode(&u, value, &t);
        datetime_format(&t, got, sizeof got);
        /* and back */
        double back = cf_time_encode(&u, &t);
        if (fabs(back - value) > 1e-6 * (1 + fabs(value))) snprintf(got, sizeof got, "encode %g", back);
    }
    dsc_clear();
    tap_check(strcmp(got, expect) == 0, "%g %s (%s) -> %s (got %s)", value, units, cal ? cal : "default", expect, got);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    check_decode("hours since 1900-01-01 00:00:00.0", "gregorian", 692496, "1979-01-01T00:00:00");
    check_decode("hours since 1900-01-01 00:00:00.0", "gregorian", 1043826, "2019-01-29T18:00:00");
    check_decode("hours since 1900-01-01", NULL, -1, "1899-12-31T23:00:00");
    check_decode("seconds since 1970-01-01", "proleptic_gregorian", 1546300800, "2019-01-01T00:00:00");
    check_decode("seconds since 1970-01-01T00:00:00Z", "standard", 951782400, "2000-02-29T00:00:00");
    check_decode("days since 1979-1-1", "standard", 366, "1980-01-02T00:00:00");
    check_decode("days since 1979-1-1 00:00", "standard", 0.25, "1979-01-01T06:00:00");
    check_decode("minutes since 2000-01-01 12:00:00", NULL, 90, "2000-01-01T13:30:00");
    check_decode("days since 2000-01-01", "noleap", 59, "2000-03-01T00:00:00");
    check_decode("days since 2000-01-01", "365_day", 365, "2001-01-01T00:00:00");
    check_decode("days since 2001-01-01", "all_leap", 59, "2001-02-29T00:00:00");
    check_decode("days since 2000-01-01", "360_day", 30, "2000-02-01T00:00:00");
    check_decode("days since 2000-01-01", "360_day", 360, "2001-01-01T00:00:00");
    check_decode("hours since 1600-03-01", "gregorian", 24 * 365.0, "1601-03-01T00:00:00");

    cf_time_units u;
    tap_check(cf_time_parse("fortnights since 2000-01-01", NULL, &u) == DSC_ERR && strstr(dsc_message(), "fortnights"),
              "unknown unit rejected with its name");
    dsc_clear();
    tap_check(cf_time_parse("hours since 2000-13-01", NULL, &u) == DSC_ERR, "invalid reference date rejected");
    dsc_clear();
    tap_check(cf_time_parse("hours since 2000-01-01", "julian_leap", &u) == DSC_ERR && strstr(dsc_message(), "julian_leap"),
              "unknown calendar rejected with its name");
    dsc_clear();
    tap_check(cf_time_parse("hours", NULL, &u) == DSC_ERR, "units without 'since' rejected");
    dsc_clear();

    dsc_datetime t;
    tap_check(datetime_parse("1979-01-01", &t) == DSC_OK && datetime_to_hours(&t) == 692496.0, "ISO date to hours since 1900");
    tap_check(datetime_parse("2019-03-31T23:00:00", &t) == DSC_OK && t.hour == 23, "ISO date-time parsed");
    tap_check(datetime_parse("2019-02-29", &t) == DSC_ERR, "Feb 29 of a common year rejected");
    dsc_clear();
    datetime_from_hours(692496.0 + 24 * 59, &t);
    tap_check(t.year == 1979 && t.month == 3 && t.day == 1 && datetime_day_of_year(&t) == 60, "hours back to a date, day of year");
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
