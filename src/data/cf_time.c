/*
 * cf_time.c - decoding of CF time coordinates.
 *
 * Gregorian day numbers follow the days-from-civil algorithm of Howard
 * Hinnant ("chrono-compatible low-level date algorithms"): an era of 400
 * years has exactly 146097 days, so the conversion is pure integer arithmetic
 * valid for any year.
 */
#include "cf_time.h"
#include "status.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Years a reference date or a decoded date may have.  Far beyond any data
 * set, yet small enough that day and second counts (about 3.2e13 seconds)
 * stay exact in a double and far from the limits of long long and int. */
#define CF_YEAR_LIMIT 1000000L

/* First day of the Gregorian calendar in the CF standard calendar; the day
 * before it is 1582-10-04 in the Julian calendar. */
#define SWITCH_YEAR 1582
#define SWITCH_MONTH 10
#define SWITCH_DAY 15

static long long floor_div(long long a, long long b)
{
    long long q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) q--;
    return q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static long long gregorian_days(int y, int m, int d)
{
    y -= m <= 2;
    long long era = floor_div(y, 400);
    long long yoe = y - era * 400;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Days since 1970-01-01 (Gregorian) of a Julian calendar date: the same
 * algorithm with 4-year eras of 1461 days; Julian 0000-03-01 is Gregorian
 * 0000-02-29, two days earlier than in the Gregorian count. */
static long long julian_days(int y, int m, int d)
{
    y -= m <= 2;
    long long era = floor_div(y, 4);
    long long yoe = y - era * 4;
    long long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    return era * 1461 + yoe * 365 + doy - 719470;
}

static void julian_civil(long long z, int *y, int *m, int *d)
{
    z += 719470;
    long long era = floor_div(z, 1461);
    long long doe = z - era * 1461;
    long long yoe = (doe - doe / 1460) / 365;
    long long doy = doe - 365 * yoe;
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 4 + (*m <= 2));
}

static void gregorian_civil(long long z, int *y, int *m, int *d)
{
    z += 719468;
    long long era = floor_div(z, 146097);
    long long doe = z - era * 146097;
    long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long long yy = yoe + era * 400;
    long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int before_switch(int y, int m, int d)
{
    if (y != SWITCH_YEAR) return y < SWITCH_YEAR;
    if (m != SWITCH_MONTH) return m < SWITCH_MONTH;
    return d < SWITCH_DAY;
}

int days_in_month(int year, int month, cf_calendar cal)
{
    static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month < 1 || month > 12) return 0;
    if (cal == CAL_360_DAY) return 30;
    if (month == 2) {
        if (cal == CAL_NOLEAP) return 28;
        if (cal == CAL_ALL_LEAP) return 29;
        if (cal == CAL_JULIAN || (cal == CAL_STANDARD && year < SWITCH_YEAR)) return 28 + (year % 4 == 0);
        return 28 + is_leap(year);
    }
    return dm[month - 1];
}

/* Day number of a date in a calendar (day 0 = year 0, Jan 1 for the fixed
 * length calendars; 1970-01-01 for Gregorian and standard). */
static long long calendar_days(cf_calendar cal, int y, int m, int d)
{
    if (cal == CAL_GREGORIAN) return gregorian_days(y, m, d);
    if (cal == CAL_JULIAN) return julian_days(y, m, d);
    if (cal == CAL_STANDARD) return before_switch(y, m, d) ? julian_days(y, m, d) : gregorian_days(y, m, d);
    if (cal == CAL_360_DAY) return (long long)y * 360 + (m - 1) * 30 + (d - 1);
    long long days = (long long)y * (cal == CAL_NOLEAP ? 365 : 366);
    for (int k = 1; k < m; k++) days += days_in_month(y, k, cal);
    return days + d - 1;
}

static void calendar_civil(cf_calendar cal, long long days, int *y, int *m, int *d)
{
    if (cal == CAL_GREGORIAN) {
        gregorian_civil(days, y, m, d);
        return;
    }
    if (cal == CAL_JULIAN) {
        julian_civil(days, y, m, d);
        return;
    }
    if (cal == CAL_STANDARD) {
        if (days < gregorian_days(SWITCH_YEAR, SWITCH_MONTH, SWITCH_DAY)) julian_civil(days, y, m, d);
        else gregorian_civil(days, y, m, d);
        return;
    }
    int ylen = cal == CAL_360_DAY ? 360 : (cal == CAL_NOLEAP ? 365 : 366);
    long long yy = floor_div(days, ylen);
    int doy = (int)(days - yy * ylen);
    int mm = 1;
    while (doy >= days_in_month((int)yy, mm, cal)) {
        doy -= days_in_month((int)yy, mm, cal);
        mm++;
    }
    *y = (int)yy;
    *m = mm;
    *d = doy + 1;
}

static int valid_date(const dsc_datetime *t, cf_calendar cal)
{
    /* the ten days dropped when the standard calendar switched to Gregorian */
    if (cal == CAL_STANDARD && t->year == SWITCH_YEAR && t->month == SWITCH_MONTH && t->day > 4 && t->day < SWITCH_DAY)
        return 0;
    return t->month >= 1 && t->month <= 12 && t->day >= 1 && t->day <= days_in_month(t->year, t->month, cal) &&
           t->hour >= 0 && t->hour <= 23 && t->minute >= 0 && t->minute <= 59 && t->second >= 0 && t->second <= 60;
}

/* Reads the unsigned decimal number at p into *out; 0 when there is none or
 * it exceeds max, so that no later int arithmetic on it can overflow. */
static int parse_field(const char *p, char **end, long max, int *out)
{
    if (!isdigit((unsigned char)*p)) return 0;
    errno = 0;
    long v = strtol(p, end, 10);
    if (errno == ERANGE || v > max) return 0;
    *out = (int)v;
    return 1;
}

/* Parses "Y-M-D[( |T)h[:m[:s[.frac]]]][Z| UTC| +00:00]"; returns chars used,
 * -1 when it is not a date, -2 when the year lies beyond CF_YEAR_LIMIT. */
static int parse_date(const char *s, dsc_datetime *t)
{
    const char *p = s;
    char *end;
    memset(t, 0, sizeof *t);
    int sign = 1;
    if (*p == '-') { sign = -1; p++; }
    if (!isdigit((unsigned char)*p)) return -1;
    if (!parse_field(p, &end, CF_YEAR_LIMIT, &t->year)) return -2;
    t->year *= sign;
    if (*end != '-') return -1;
    /* fields of more than two digits are never valid; 99 keeps them in int */
    if (!parse_field(end + 1, &end, 99, &t->month) || *end != '-') return -1;
    if (!parse_field(end + 1, &end, 99, &t->day)) return -1;
    p = end;
    if ((*p == 'T' || *p == ' ') && isdigit((unsigned char)p[1])) {
        if (!parse_field(p + 1, &end, 99, &t->hour)) return -1;
        p = end;
        if (*p == ':' && isdigit((unsigned char)p[1])) {
            if (!parse_field(p + 1, &end, 99, &t->minute)) return -1;
            p = end;
            if (*p == ':' && isdigit((unsigned char)p[1])) {
                double sec = strtod(p + 1, &end);
                /* checked before the conversion to int, which is undefined
                 * for values out of range */
                if (!(sec >= 0 && sec < 61)) return -1;
                t->second = (int)floor(sec + 0.5);
                p = end;
            }
        }
    }
    if (*p == 'Z') p++;
    else if (strncmp(p, " UTC", 4) == 0) p += 4;
    else if (strncmp(p, "+00:00", 6) == 0 || strncmp(p, " +00:00", 7) == 0) p += (*p == ' ') ? 7 : 6;
    else if (strncmp(p, " 00:00", 6) == 0) p += 6; /* "since 1900-01-01 00:00:00 00:00" time zone */
    return (int)(p - s);
}

static const char *cf_unit_name(const cf_time_units *u)
{
    if (u->seconds_per_unit == 1) return "seconds";
    if (u->seconds_per_unit == 60) return "minutes";
    if (u->seconds_per_unit == 3600) return "hours";
    return "days";
}

int cf_time_parse(const char *units, const char *calendar, cf_time_units *out)
{
    memset(out, 0, sizeof *out);
    if (!units) return dsc_fail("time has no units attribute");
    while (isspace((unsigned char)*units)) units++;
    const char *since = strstr(units, " since ");
    if (!since) return dsc_fail("time units '%s' are not of the form 'UNITS since DATE'", units);
    size_t n = (size_t)(since - units);
    char word[32];
    if (n == 0 || n >= sizeof word) return dsc_fail("time units '%s' are not understood", units);
    memcpy(word, units, n);
    word[n] = '\0';
    for (char *c = word; *c; c++) *c = (char)tolower((unsigned char)*c);
    if (!strcmp(word, "seconds") || !strcmp(word, "second") || !strcmp(word, "secs") || !strcmp(word, "sec") || !strcmp(word, "s"))
        out->seconds_per_unit = 1;
    else if (!strcmp(word, "minutes") || !strcmp(word, "minute") || !strcmp(word, "mins") || !strcmp(word, "min"))
        out->seconds_per_unit = 60;
    else if (!strcmp(word, "hours") || !strcmp(word, "hour") || !strcmp(word, "hrs") || !strcmp(word, "hr") || !strcmp(word, "h"))
        out->seconds_per_unit = 3600;
    else if (!strcmp(word, "days") || !strcmp(word, "day") || !strcmp(word, "d"))
        out->seconds_per_unit = 86400;
    else
        return dsc_fail("time units '%s': '%s' is not seconds, minutes, hours or days", units, word);

    /* CF: a missing calendar attribute means standard */
    if (!calendar || !*calendar || !strcasecmp(calendar, "gregorian") || !strcasecmp(calendar, "standard"))
        out->calendar = CAL_STANDARD;
    else if (!strcasecmp(calendar, "proleptic_gregorian"))
        out->calendar = CAL_GREGORIAN;
    else if (!strcasecmp(calendar, "noleap") || !strcasecmp(calendar, "365_day"))
        out->calendar = CAL_NOLEAP;
    else if (!strcasecmp(calendar, "all_leap") || !strcasecmp(calendar, "366_day"))
        out->calendar = CAL_ALL_LEAP;
    else if (!strcasecmp(calendar, "360_day"))
        out->calendar = CAL_360_DAY;
    else if (!strcasecmp(calendar, "julian"))
        out->calendar = CAL_JULIAN;
    else if (!strcasecmp(calendar, "none"))
        return dsc_fail("calendar 'none' gives the time steps no dates; give a time variable with a calendar such as "
                        "standard");
    else
        return dsc_fail("calendar '%s' is not a CF calendar (use standard, gregorian, proleptic_gregorian, julian, "
                        "noleap, 365_day, all_leap, 366_day or 360_day)",
                        calendar);

    const char *d = since + 7;
    while (isspace((unsigned char)*d)) d++;
    int used = parse_date(d, &out->epoch);
    if (used == -2)
        return dsc_fail("time units '%s': the reference year is out of range (years -%ld to %ld are supported)", units,
                        CF_YEAR_LIMIT, CF_YEAR_LIMIT);
    if (used < 0 || !valid_date(&out->epoch, out->calendar))
        return dsc_fail("time units '%s': the reference date is not a valid date", units);
    out->epoch_day = calendar_days(out->calendar, out->epoch.year, out->epoch.month, out->epoch.day);
    out->epoch_second = out->epoch.hour * 3600 + out->epoch.minute * 60 + out->epoch.second;
    return DSC_OK;
}

int cf_time_decode(const cf_time_units *u, double value, dsc_datetime *out)
{
    memset(out, 0, sizeof *out);
    if (!isfinite(value)) return dsc_fail("time value %g is not a number", value);
    /* Bounding the offset to twice the supported years keeps llround and
     * every sum below in range; the date itself is checked afterwards. */
    const double limit = 2.0 * CF_YEAR_LIMIT * 366.0 * 86400.0;
    double total = value * u->seconds_per_unit + u->epoch_second;
    if (!(fabs(total) <= limit))
        return dsc_fail("time value %g (%s) lies beyond year %ld", value, cf_unit_name(u), CF_YEAR_LIMIT);
    /* rounded, not truncated: 1/24 days is 3599.99999... seconds in binary */
    long long secs = llround(total);
    long long day = floor_div(secs, 86400);
    long long rem = secs - day * 86400;
    long long z = u->epoch_day + day;
    /* the year fits in int here: at most CF_YEAR_LIMIT * 3 in magnitude */
    calendar_civil(u->calendar, z, &out->year, &out->month, &out->day);
    if (labs((long)out->year) > CF_YEAR_LIMIT) {
        int year = out->year;
        memset(out, 0, sizeof *out);
        return dsc_fail("time value %g (%s) gives year %d, beyond year %ld", value, cf_unit_name(u), year, CF_YEAR_LIMIT);
    }
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem % 3600 / 60);
    out->second = (int)(rem % 60);
    return DSC_OK;
}

double cf_time_encode(const cf_time_units *u, const dsc_datetime *t)
{
    long long day = calendar_days(u->calendar, t->year, t->month, t->day) - u->epoch_day;
    double secs = (double)day * 86400.0 + t->hour * 3600.0 + t->minute * 60.0 + t->second - u->epoch_second;
    return secs / u->seconds_per_unit;
}

const char *cf_calendar_name(cf_calendar cal)
{
    switch (cal) {
    case CAL_GREGORIAN: return "proleptic_gregorian";
    case CAL_NOLEAP: return "noleap";
    case CAL_ALL_LEAP: return "all_leap";
    case CAL_360_DAY: return "360_day";
    case CAL_JULIAN: return "julian";
    case CAL_STANDARD: break;
    }
    return "standard";
}

int cf_date_is_gregorian(cf_calendar cal, const dsc_datetime *t)
{
    if (cal == CAL_STANDARD) return !before_switch(t->year, t->month, t->day);
    return cal == CAL_GREGORIAN || cal == CAL_NOLEAP;
}

double datetime_to_hours(const dsc_datetime *t)
{
    long long day = gregorian_days(t->year, t->month, t->day) - gregorian_days(1900, 1, 1);
    return (double)day * 24.0 + t->hour + t->minute / 60.0 + t->second / 3600.0;
}

void datetime_from_hours(double hours, dsc_datetime *out)
{
    long long secs = (long long)llround(hours * 3600.0);
    long long day = floor_div(secs, 86400);
    long long rem = secs - day * 86400;
    gregorian_civil(day + gregorian_days(1900, 1, 1), &out->year, &out->month, &out->day);
    out->hour = (int)(rem / 3600);
    out->minute = (int)(rem % 3600 / 60);
    out->second = (int)(rem % 60);
}

void datetime_format(const dsc_datetime *t, char *buf, size_t len)
{
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d", t->year, t->month, t->day, t->hour, t->minute, t->second);
}

int datetime_parse(const char *text, dsc_datetime *out)
{
    int used = parse_date(text, out);
    if (used == -2)
        return dsc_fail("'%s': the year is out of range (years -%ld to %ld are supported)", text, CF_YEAR_LIMIT,
                        CF_YEAR_LIMIT);
    if (used < 0 || text[used] != '\0' || !valid_date(out, CAL_GREGORIAN))
        return dsc_fail("'%s' is not a date (use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)", text);
    return DSC_OK;
}

int datetime_day_of_year(const dsc_datetime *t)
{
    return (int)(gregorian_days(t->year, t->month, t->day) - gregorian_days(t->year, 1, 1)) + 1;
}
