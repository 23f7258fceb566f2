/*
 * run_options.c - the command-line options every run shares: the reading
 * options of ERA5_CLI_OPTIONS (--vars, --box, --time-range, --daily-mean,
 * --level, --process-grid) into era5_options, and the check of --sample
 * (see run_options.h).
 */
#include "run_options.h"
#include "status.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_doubles(const char *text, double *out, int n)
{
    const char *p = text;
    for (int k = 0; k < n; k++) {
        char *end;
        errno = 0;
        out[k] = strtod(p, &end);
        if (errno || end == p || !isfinite(out[k])) return -1;
        while (*end == ' ') end++;
        if (k < n - 1) {
            if (*end != ',') return -1;
            p = end + 1;
        } else if (*end != '\0') {
            return -1;
        }
    }
    return 0;
}

static int parse_vars(const cli_command *cmd, const char *text, era5_options *opt)
{
    const char *p = text;
    opt->nvars = 0;
    while (1) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        while (n > 0 && *p == ' ') { p++; n--; }
        while (n > 0 && p[n - 1] == ' ') n--;
        if (n == 0)
            return dsc_fail("dsc %s: option --vars: '%s' has an empty name; give names separated by commas (t2m,sst,sp)",
                            cmd->command, text);
        if (n >= ERA5_NAME_LEN)
            return dsc_fail("dsc %s: option --vars: a name in '%s' is longer than %d characters", cmd->command, text,
                            ERA5_NAME_LEN - 1);
        if (opt->nvars == ERA5_MAX_VARS)
            return dsc_fail("dsc %s: option --vars: more than %d variables; give at most %d", cmd->command,
                            ERA5_MAX_VARS, ERA5_MAX_VARS);
        char *name = opt->vars[opt->nvars];
        memcpy(name, p, n);
        name[n] = '\0';
        for (int v = 0; v < opt->nvars; v++)
            if (strcmp(era5_canonical_name(opt->vars[v]), era5_canonical_name(name)) == 0)
                return dsc_fail("dsc %s: option --vars: '%s' and '%s' are the same variable; give it once", cmd->command,
                                opt->vars[v], name);
        opt->nvars++;
        if (!comma) break;
        p = comma + 1;
    }
    return DSC_OK;
}

/* --level 500,850: positive pressures in hPa, each once. */
static int parse_levels(const cli_command *cmd, const char *text, era5_options *opt)
{
    const char *p = text;
    opt->nlevels = 0;
    while (1) {
        char *end;
        double lev = strtod(p, &end);
        while (*end == ' ') end++;
        if (end == p || (*end != ',' && *end != '\0') || !(lev > 0) || lev > 2000)
            return dsc_fail("dsc %s: option --level: '%s' is not a list of pressure levels in hPa; give numbers "
                            "such as 500 or 500,850",
                            cmd->command, text);
        if (opt->nlevels == ERA5_MAX_VARS)
            return dsc_fail("dsc %s: option --level: more than %d levels; give at most %d", cmd->command, ERA5_MAX_VARS,
                            ERA5_MAX_VARS);
        for (int k = 0; k < opt->nlevels; k++)
            if (opt->levels[k] == lev)
                return dsc_fail("dsc %s: option --level: level %g is given twice", cmd->command, lev);
        opt->levels[opt->nlevels++] = lev;
        if (*end == '\0') break;
        p = end + 1;
    }
    return DSC_OK;
}

static int parse_time_range(const cli_command *cmd, const char *text, era5_options *opt)
{
    const char *slash = strchr(text, '/');
    if (!slash || strchr(slash + 1, '/'))
        return dsc_fail("dsc %s: option --time-range: '%s' is not START/END; give two ISO 8601 dates such as "
                        "1980-01-01/1989-12-31 (either may be left out: 1980-01-01/)",
                        cmd->command, text);
    char start[64], end[64];
    size_t ns = (size_t)(slash - text), ne = strlen(slash + 1);
    if (ns >= sizeof start || ne >= sizeof end)
        return dsc_fail("dsc %s: option --time-range: '%s' is too long", cmd->command, text);
    memcpy(start, text, ns);
    start[ns] = '\0';
    memcpy(end, slash + 1, ne + 1);
    if (ns == 0 && ne == 0)
        return dsc_fail("dsc %s: option --time-range: '%s' gives neither START nor END", cmd->command, text);
    if (ns > 0) {
        if (datetime_parse(start, &opt->start) != DSC_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", dsc_message());
            dsc_clear();
            return dsc_fail("dsc %s: option --time-range: START %s", cmd->command, msg);
        }
        opt->has_start = 1;
    }
    if (ne > 0) {
        if (datetime_parse(end, &opt->end) != DSC_OK) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", dsc_message());
            dsc_clear();
            return dsc_fail("dsc %s: option --time-range: END %s", cmd->command, msg);
        }
        /* A date without a time of day means the whole day: 1989-12-31 ends
         * at 23:59:59, so START/END with plain dates includes both days. */
        if (strchr(end, 'T') == NULL && strchr(end, ' ') == NULL) {
            opt->end.hour = 23;
            opt->end.minute = 59;
            opt->end.second = 59;
        }
        opt->has_end = 1;
    }
    if (opt->has_start && opt->has_end && datetime_to_hours(&opt->start) > datetime_to_hours(&opt->end))
        return dsc_fail("dsc %s: option --time-range: START %s is after END %s; give START/END in that order",
                        cmd->command, start, end);
    return DSC_OK;
}

static int parse_process_grid(const cli_command *cmd, const char *text, era5_options *opt)
{
    opt->process_grid[0] = opt->process_grid[1] = opt->process_grid[2] = 0;
    if (strcmp(text, "auto") == 0) return DSC_OK;
    long tyx[3];
    if (cli_parse_dims(text, 3, tyx) != DSC_OK || tyx[0] > 1000000 || tyx[1] > 1000000 || tyx[2] > 1000000)
        return dsc_fail("dsc %s: option --process-grid: '%s' is not TxYxX; give three rank counts such as 4x1x1 "
                        "(0 = choose) or auto",
                        cmd->command, text);
    for (int k = 0; k < 3; k++) opt->process_grid[k] = (int)tyx[k];
    return DSC_OK;
}

int era5_options_from_cli(const cli_command *cmd, era5_options *opt)
{
    memset(opt, 0, sizeof *opt);
    const char *v = cli_get(cmd, "vars");
    if (v && parse_vars(cmd, v, opt) != DSC_OK) return DSC_ERR;

    v = cli_get(cmd, "box");
    if (v) {
        double b[4];
        if (parse_doubles(v, b, 4) != 0)
            return dsc_fail("dsc %s: option --box: '%s' is not S,N,W,E; give four numbers in degrees such as "
                            "50,58,-10,2",
                            cmd->command, v);
        if (b[0] < -90 || b[1] > 90 || b[0] > b[1])
            return dsc_fail("dsc %s: option --box: '%s': latitudes must satisfy -90 <= S <= N <= 90", cmd->command, v);
        if (b[2] < -360 || b[3] > 360 || b[2] > b[3] || b[3] - b[2] > 360)
            return dsc_fail("dsc %s: option --box: '%s': longitudes must satisfy W <= E, within -360..360 and at "
                            "most 360 degrees apart",
                            cmd->command, v);
        opt->has_box = 1;
        opt->lat_min = b[0];
        opt->lat_max = b[1];
        opt->lon_min = b[2];
        opt->lon_max = b[3];
    }

    v = cli_get(cmd, "time-range");
    if (v && parse_time_range(cmd, v, opt) != DSC_OK) return DSC_ERR;

    opt->daily_mean = cli_flag(cmd, "daily-mean");

    v = cli_get(cmd, "level");
    if (v && parse_levels(cmd, v, opt) != DSC_OK) return DSC_ERR;

    v = cli_get(cmd, "process-grid");
    if (v && parse_process_grid(cmd, v, opt) != DSC_OK) return DSC_ERR;
    return DSC_OK;
}

int run_check_sample(const char *command, long sample, long k)
{
    if (sample != 0 && sample < k + 1)
        return dsc_fail("dsc %s: option --sample: %ld time steps are too few for %ld clusters (the silhouette needs more "
                        "samples than clusters); give 0 (all time steps) or at least %ld", command, sample, k, k + 1);
    return DSC_OK;
}
