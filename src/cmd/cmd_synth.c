/*
 * cmd_synth.c - dsc synth: options of the ERA5-like sample data set
 * generator; the work is synth_write() (synth.c).
 *
 *   mpirun -n 4 dsc synth -o sample --years 1979-2020 --encoding legacy
 */
#include "cli.h"
#include "commands.h"
#include "status.h"
#include "synth.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const cli_option synth_cli[] = {
    {"output", 'o', "DIR", "sample", "directory of the files era5_YYYY.nc, truth.csv and manifest.txt (created if missing)"},
    {"years", 0, "FIRST[-LAST]", "2001-2003", "years to write, one file each (a short sample by default; e.g. 1979-2020)"},
    {"grid", 0, "NLATxNLON", "41x41", "grid size, from 45N 30W southward and eastward"},
    {"resolution", 0, "DEG", "0.25", "grid spacing in degrees"},
    {"vars", 0, "LIST", "sst,sp,sshf,slhf,t2m,u10,v10", "variables to write, comma-separated"},
    {"regimes", 0, "K", "7", "number of planted weather regimes"},
    {"persistence", 0, "DAYS", "5", "mean number of days a regime lasts"},
    {"noise", 0, "SIGMA", "1.2", "std of the smooth red noise (AR(1), lag-1 correlation 0.7), in units of the regime anomaly amplitude"},
    {"seed", 0, "N", "42", "random seed (the output depends on it, not on the rank count)"},
    {"encoding", 0, "legacy|cdf5|newcds", "legacy", "legacy: CDF-2 with packed shorts as legacy CDS files; cdf5: CDF-5 with floats; newcds: compressed netCDF-4 as the new CDS delivers it, an instant and an accum file a year"},
    {"steps-per-day", 0, "N", "1", "time steps per day (divides 24; the regime is per day)"},
    {"hourly", 0, NULL, NULL, "24 steps per day (same as --steps-per-day 24)"},
    {"force", 0, NULL, NULL, "replace another data set in the folder: remove the files its manifest.txt lists"},
    {"quiet", 'q', NULL, NULL, "print nothing on success"},
};

static int parse_long_text(const char *text, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(text, &end, 10);
    while (end != text && (*end == ' ' || *end == '\t')) end++; /* as cli_long: spaces around a number are ignored */
    if (errno || end == text || *end != '\0') return DSC_ERR;
    *out = x;
    return DSC_OK;
}

/* "1979-2020" or "2001". */
static int parse_years(const char *text, int *first, int *last)
{
    char buf[64];
    if (strlen(text) >= sizeof buf) return dsc_fail("dsc synth: option --years: '%s' is too long", text);
    strcpy(buf, text);
    char *dash = strchr(buf, '-');
    long a, b;
    if (dash) *dash = '\0';
    if (parse_long_text(buf, &a) != DSC_OK || (dash && parse_long_text(dash + 1, &b) != DSC_OK))
        return dsc_fail("dsc synth: option --years: '%s' is not a year or a range FIRST-LAST such as 1979-2020", text);
    if (!dash) b = a;
    if (a < 1900 || b > 2200 || b < 1900 || a > 2200)
        return dsc_fail("dsc synth: option --years: '%s' is outside 1900-2200", text);
    if (a > b) return dsc_fail("dsc synth: option --years: '%s' ends before it starts; give FIRST-LAST with FIRST <= LAST", text);
    *first = (int)a;
    *last = (int)b;
    return DSC_OK;
}

/* "41x41" */
static int parse_grid(const char *text, int *nlat, int *nlon)
{
    long ab[2];
    if (cli_parse_dims(text, 2, ab) != DSC_OK)
        return dsc_fail("dsc synth: option --grid: '%s' is not NLATxNLON such as 41x41", text);
    const long a = ab[0], b = ab[1];
    if (a < 2 || b < 2 || a > 4096 || b > 4096)
        return dsc_fail("dsc synth: option --grid: '%s' must have 2 to 4096 latitudes and longitudes", text);
    *nlat = (int)a;
    *nlon = (int)b;
    return DSC_OK;
}

static int parse_options(synth_options *opt, const cli_command *cmd)
{
    synth_options_default(opt);
    long k, spd;
    if (cmd->nargs > 0) return dsc_fail("dsc synth: unexpected argument '%s'; the output directory is given with -o DIR", cmd->args[0]);
    opt->output_dir = cli_get(cmd, "output");
    if (parse_years(cli_get(cmd, "years"), &opt->year_first, &opt->year_last)) return DSC_ERR;
    if (parse_grid(cli_get(cmd, "grid"), &opt->nlat, &opt->nlon)) return DSC_ERR;
    if (cli_double(cmd, "resolution", 1e-6, 10.0, &opt->resolution)) return DSC_ERR;
    if (synth_parse_vars(cli_get(cmd, "vars"), opt->use_var)) return DSC_ERR;
    if (cli_long(cmd, "regimes", 1, 100, &k)) return DSC_ERR;
    opt->regimes = (int)k;
    if (cli_double(cmd, "persistence", 1.0, 1e6, &opt->persistence)) return DSC_ERR;
    if (cli_double(cmd, "noise", 0.0, 100.0, &opt->noise)) return DSC_ERR;
    const char *seed = cli_get(cmd, "seed");
    char *end;
    errno = 0;
    unsigned long long s = strtoull(seed, &end, 10);
    if (errno || end == seed || *end != '\0' || seed[0] == '-')
        return dsc_fail("dsc synth: option --seed: '%s' is not a non-negative integer", seed);
    opt->seed = s;
    const char *enc = cli_get(cmd, "encoding");
    if (strcmp(enc, "legacy") == 0) opt->encoding = SYNTH_LEGACY;
    else if (strcmp(enc, "cdf5") == 0) opt->encoding = SYNTH_CDF5;
    else if (strcmp(enc, "newcds") == 0) opt->encoding = SYNTH_NEWCDS;
    else return dsc_fail("dsc synth: option --encoding: unknown encoding '%s'; use legacy, cdf5 or newcds", enc);
    if (cli_long(cmd, "steps-per-day", 1, 24, &spd)) return DSC_ERR;
    if (cli_flag(cmd, "hourly")) {
        if (cli_given(cmd, "steps-per-day") && spd != 24)
            return dsc_fail("dsc synth: option --hourly contradicts --steps-per-day %ld; give one of them", spd);
        spd = 24;
    }
    opt->steps_per_day = (int)spd;
    opt->verbose = !cli_flag(cmd, "quiet");
    opt->force = cli_flag(cmd, "force");
    return synth_options_check(opt);
}

int synth_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    cli_command cmd = {.command = "synth",
                       .usage = "[OPTIONS]",
                       .summary = "Write an ERA5-like sample data set: one netCDF file per year (era5_YYYY.nc, daily, "
                                  "the paper's seven variables) with planted weather regimes, and truth.csv with the "
                                  "regime of every day.  The output is the same at any number of ranks.",
                       .options = synth_cli,
                       .noptions = (int)(sizeof synth_cli / sizeof synth_cli[0])};
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    synth_options opt;
    if (status == DSC_OK) status = parse_options(&opt, &cmd);
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    status = synth_write(comm, &opt);
    if (status == DSC_OK && rank == 0 && opt.verbose) {
        const int years = opt.year_last - opt.year_first + 1;
        if (opt.encoding == SYNTH_NEWCDS)
            printf("wrote %d year%s of instant and accum files era5_%04d_*.nc .. era5_%04d_*.nc and truth.csv to %s\n",
                   years, years > 1 ? "s" : "", opt.year_first, opt.year_last, opt.output_dir);
        else
            printf("wrote %d file%s era5_%04d.nc .. era5_%04d.nc and truth.csv to %s\n", years, years > 1 ? "s" : "",
                   opt.year_first, opt.year_last, opt.output_dir);
    }
    cli_free(&cmd);
    return status;
}
