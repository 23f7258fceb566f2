/*
 * cf_time.h - CF-convention time coordinates ("hours since 1900-01-01").
 *
 * Internally every time step is kept as hours since 1900-01-01 00:00 UTC in
 * the proleptic Gregorian calendar, which orders files and steps and gives
 * the ISO 8601 strings written to labels and JSON.  Times are decoded in
 * their own calendar (cf_time_decode; the standard calendar counts days
 * before 1582-10-15 in the Julian calendar, as CF and cftime do, which
 * matters for reference dates such as "hours since 1-1-1 00:00:0.0").
 * Only dates that name the same day in the proleptic Gregorian calendar
 * have a place on the common axis (cf_date_is_gregorian): the catalog
 * refuses the others (era5_catalog.c).
 * Reference and decoded years are limited to -1000000..1000000.
 */
#ifndef DSC_CF_TIME_H
#define DSC_CF_TIME_H

#include <stddef.h>

/* CAL_GREGORIAN is proleptic Gregorian; CAL_STANDARD is the CF standard
 * (= gregorian) calendar, Julian before 1582-10-15; CAL_JULIAN is Julian
 * throughout.  The CF calendar "none" is refused by cf_time_parse. */
typedef enum { CAL_GREGORIAN, CAL_NOLEAP, CAL_ALL_LEAP, CAL_360_DAY, CAL_STANDARD, CAL_JULIAN } cf_calendar;

typedef struct {
    int year, month, day, hour, minute, second;
} dsc_datetime;

typedef struct {
    double seconds_per_unit; /* 1, 60, 3600, 86400 */
    cf_calendar calendar;
    dsc_datetime epoch;      /* the "since" date */
    long long epoch_day;     /* day number of epoch in its calendar */
    int epoch_second;        /* seconds into that day */
} cf_time_units;

/* Parses a units attribute ("hours since 1900-01-01 00:00:00.0",
 * "days since 1979-1-1", "seconds since 1970-01-01T00:00:00Z") and a calendar
 * attribute (NULL or "" = gregorian).  DSC_ERR with a message on failure. */
int cf_time_parse(const char *units, const char *calendar, cf_time_units *out);

/* value in units -> date (rounded to the nearest second).  DSC_ERR with a
 * message for a value that is not finite or lands beyond the supported
 * years; *out is then zeroed. */
int cf_time_decode(const cf_time_units *u, double value, dsc_datetime *out);
/* date -> value in units. */
double cf_time_encode(const cf_time_units *u, const dsc_datetime *t);

/* The CF name of a calendar ("standard", "proleptic_gregorian", "noleap",
 * "all_leap", "360_day", "julian"). */
const char *cf_calendar_name(cf_calendar cal);
/* 1 when date t of calendar cal names the same day in the proleptic
 * Gregorian calendar, so that it has its own place on the common axis:
 * every date of proleptic_gregorian and noleap, and of standard from
 * 1582-10-15 on; never for julian, all_leap and 360_day, whose dates
 * (30 February, Julian names) the common axis cannot hold. */
int cf_date_is_gregorian(cf_calendar cal, const dsc_datetime *t);

/* The common axis: hours since 1900-01-01 00:00, proleptic Gregorian. */
double datetime_to_hours(const dsc_datetime *t);
void datetime_from_hours(double hours, dsc_datetime *out);

/* "YYYY-MM-DDTHH:MM:SS" (buffer of at least 20 bytes). */
void datetime_format(const dsc_datetime *t, char *buf, size_t len);
/* Accepts YYYY-MM-DD, YYYY-MM-DDTHH:MM[:SS][Z] and a space for T. */
int datetime_parse(const char *text, dsc_datetime *out);

/* 1..366, Gregorian. */
int datetime_day_of_year(const dsc_datetime *t);
int days_in_month(int year, int month, cf_calendar cal);

#endif
