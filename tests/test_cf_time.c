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
        if (cf_time_decode(&u, value, &t) != DSC_OK) snprintf(got, sizeof got, "(decode failed)");
        else datetime_format(&t, got, sizeof got);
        /* and back */
        double back = cf_time_encode(&u, &t);
        if (strcmp(got, "(decode failed)") != 0 && fabs(back - value) > 1e-6 * (1 + fabs(value))) snprintf(got, sizeof got, "encode %g", back);
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

    /* Fractions of a unit round to the nearest second: 1/24 day is
     * 3599.99999... seconds in binary, and time stored as float is coarser. */
    check_decode("days since 1979-01-01", "standard", 1.0 / 24, "1979-01-01T01:00:00");
    check_decode("days since 1979-01-01", "standard", -1.0 / 24, "1978-12-31T23:00:00");
    check_decode("days since 1979-01-01", "proleptic_gregorian", 7.0 / 24, "1979-01-01T07:00:00");
    check_decode("days since 1979-01-01", "360_day", 1.0 / 1440, "1979-01-01T00:01:00");
    check_decode("days since 1979-01-01", "noleap", (float)(1.0 / 24), "1979-01-01T01:00:00");
    check_decode("hours since 1979-01-01", NULL, 1.0 / 3, "1979-01-01T00:20:00");

    /* The standard calendar is Julian before 1582-10-15.  Expected dates
     * are cftime 1.6.2's num2date/date2num for the same units and values. */
    check_decode("hours since 1-1-1 00:00:0.0", "standard", 17338824, "1979-01-01T00:00:00");
    check_decode("hours since 1-1-1 00:00:0.0", "gregorian", 17690154, "2019-01-29T18:00:00");
    check_decode("hours since 1-1-1 00:00:0.0", NULL, 17347536, "1979-12-30T00:00:00");
    /* julian: Julian throughout (cftime num2date with calendar='julian') */
    check_decode("days since 1900-02-27", "julian", 2, "1900-02-29T00:00:00");
    check_decode("days since 1900-02-27", "julian", 3, "1900-03-01T00:00:00");
    check_decode("hours since 1-1-1 00:00:0.0", "julian", 17259888, "1969-12-17T00:00:00");
    check_decode("hours since 1-1-1 00:00:0.0", "proleptic_gregorian", 17347536, "1980-01-01T00:00:00");
    check_decode("days since 1582-10-15", "standard", -1, "1582-10-04T00:00:00");
    check_decode("days since 1582-10-04", "standard", 1, "1582-10-15T00:00:00");
    check_decode("days since 1500-02-28", "standard", 1, "1500-02-29T00:00:00");
    check_decode("days since 1500-02-28", "standard", 2, "1500-03-01T00:00:00");
    check_decode("days since 2000-01-01", "standard", -219150, "1399-12-19T00:00:00");

    cf_time_units u;
    tap_check(cf_time_parse("days since 1582-10-10", "standard", &u) == DSC_ERR,
              "a date dropped by the switch to Gregorian is not a reference date");
    dsc_clear();
    tap_check(cf_time_parse("days since 1582-10-10", "proleptic_gregorian", &u) == DSC_OK,
              "1582-10-10 exists in proleptic Gregorian");
    dsc_clear();

    /* Absurd values are errors naming the value, not integer overflow. */
    const double absurd[] = {1e300, -1e300, 1e15, INFINITY, NAN};
    const char *absurd_text[] = {"1e+300", "-1e+300", "1e+15", "inf", "nan"};
    for (int k = 0; k < 5; k++) {
        dsc_datetime t;
        int ok = cf_time_parse("hours since 1900-01-01", NULL, &u) == DSC_OK && cf_time_decode(&u, absurd[k], &t) == DSC_ERR &&
                 strstr(dsc_message(), absurd_text[k]) != NULL;
        tap_check(ok, "time value %s rejected with its value (%s)", absurd_text[k], dsc_message());
        dsc_clear();
    }
    {
        dsc_datetime t;
        int ok = cf_time_parse("days since 999999-12-31", "noleap", &u) == DSC_OK && cf_time_decode(&u, 0, &t) == DSC_OK &&
                 t.year == 999999 && cf_time_decode(&u, 366, &t) == DSC_ERR && strstr(dsc_message(), "year");
        tap_check(ok, "a date beyond year 1000000 rejected (%s)", dsc_message());
        dsc_clear();
    }
    const char *bad_units[] = {"days since 2147483647-01-01", "days since -2147483648-01-01", "days since 99999999999999999999-01-01"};
    for (int k = 0; k < 3; k++) {
        tap_check(cf_time_parse(bad_units[k], NULL, &u) == DSC_ERR && strstr(dsc_message(), "reference year"),
                  "'%s' rejected (%s)", bad_units[k], dsc_message());
        dsc_clear();
    }
    tap_check(cf_time_parse("days since 2000-4294967297-01", NULL, &u) == DSC_ERR, "a huge month is not a valid date");
    dsc_clear();
    tap_check(cf_time_parse("days since 2000-01-01 00:00:1e300", NULL, &u) == DSC_ERR, "huge seconds are not a valid date");
    dsc_clear();

    tap_check(cf_time_parse("fortnights since 2000-01-01", NULL, &u) == DSC_ERR && strstr(dsc_message(), "fortnights"),
              "unknown unit rejected with its name");
    dsc_clear();
    tap_check(cf_time_parse("hours since 2000-13-01", NULL, &u) == DSC_ERR, "invalid reference date rejected");
    dsc_clear();
    tap_check(cf_time_parse("hours since 2000-01-01", "julian_leap", &u) == DSC_ERR && strstr(dsc_message(), "julian_leap"),
              "unknown calendar rejected with its name");
    dsc_clear();
    tap_check(cf_time_parse("days since 2000-01-01", "none", &u) == DSC_ERR && strstr(dsc_message(), "'none'") &&
                  strstr(dsc_message(), "no dates"),
              "calendar none rejected: it gives no dates");
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
