/*
 * cmd_info.c - dsc info: what the reader sees in a list of ERA5 files.
 *
 *   mpirun -n 4 dsc info era5_*.nc
 *   dsc info --json --vars t2m,sst --box 50,60,-10,2 era5_2001.nc
 *
 * The catalog (era5_catalog.c) gives files, variables, grid and time axis;
 * the missing values are counted by reading the data with the parallel
 * reader, so they are exactly what training would see (after unpacking,
 * combining expver entries and, with --daily-mean, forming daily means).
 * The time axis is read in blocks so that a long record never has to fit
 * in memory at once.  Only rank 0 prints.
 */
#include "commands.h"
#include "cli.h"
#include "era5_catalog.h"
#include "nc_file.h"
#include "run_options.h"
#include "json.h"
#include "era5_reader.h"
#include "status.h"

#include <math.h>
#include <pnetcdf.h>
#include <stdio.h>
#include <string.h>

/* Values of the samples one rank holds per block of the missing-value count
 * (the reader holds up to about three times this during the exchange). */
#define INFO_BLOCK_VALUES ((long long)16 << 20)

static const cli_option info_options[] = {
    ERA5_CLI_OPTIONS,
    {"json", 0, NULL, NULL, "print JSON instead of text"},
};

static const char *type_name(int xtype)
{
    switch (xtype) {
    case NC_BYTE: return "int8";
    case NC_UBYTE: return "uint8";
    case NC_SHORT: return "int16";
    case NC_USHORT: return "uint16";
    case NC_INT: return "int32";
    case NC_UINT: return "uint32";
    case NC_INT64: return "int64";
    case NC_UINT64: return "uint64";
    case NC_FLOAT: return "float32";
    case NC_DOUBLE: return "float64";
    default: return "unknown";
    }
}

static const char *format_name(int format)
{
    switch (format) {
    case NC_FILE_FORMAT_CLASSIC: return "classic";
    case NC_FILE_FORMAT_64BIT: return "64-bit offset";
    case NC_FILE_FORMAT_CDF5: return "CDF-5";
    case NC_FILE_FORMAT_NETCDF4: return "netCDF-4";
    case NC_FILE_FORMAT_NETCDF4_CLASSIC: return "netCDF-4 classic model";
    default: return "unknown";
    }
}

/* How the fields of a file are stored: "contiguous" (every classic file),
 * or the compression and the chunk lengths along time x latitude x
 * longitude ("zlib level 1, shuffle, chunks 11x37x53"); "mixed" when the
 * variables differ. */
static void storage_text(const era5_catalog *cat, const era5_file *f, char *buf, size_t len)
{
    char first[160] = "";
    int v0 = -1; /* the first variable the file holds */
    for (int v = 0; v < cat->nvars; v++) {
        const era5_file_variable *fv = &f->vars[v];
        char one[160];
        size_t n = 0;
        if (fv->part < 0) continue; /* a variable of the other stream (era5_catalog.h) */
        one[0] = '\0';
        if (fv->deflate_level > 0) n += (size_t)snprintf(one + n, sizeof one - n, "zlib level %d, ", fv->deflate_level);
        if (fv->shuffle) n += (size_t)snprintf(one + n, sizeof one - n, "shuffle, ");
        if (fv->filter) n += (size_t)snprintf(one + n, sizeof one - n, "HDF5 filter %d, ", fv->filter < 0 ? -fv->filter : fv->filter);
        if (fv->chunk[0] > 0 && f->nhours > 0) /* initial time x forecast hour x latitude x longitude */
            snprintf(one + n, sizeof one - n, "chunks %lldx%lldx%lldx%lld", fv->chunk[0], fv->chunk[5], fv->chunk[2], fv->chunk[3]);
        else if (fv->chunk[0] > 0)
            snprintf(one + n, sizeof one - n, "chunks %lldx%lldx%lld", fv->chunk[0], fv->chunk[2], fv->chunk[3]);
        else snprintf(one + n, sizeof one - n, "contiguous");
        if (v0 < 0) {
            v0 = v;
            snprintf(first, sizeof first, "%s", one);
        } else if (strcmp(first, one) != 0) {
            snprintf(buf, len, "storage differs between variables (%s: %s)", cat->vars[v0].name, first);
            return;
        }
    }
    snprintf(buf, len, "%s", first);
}

/* How a file's steps are laid out: "360 time steps", or for the forecast
 * layout (NCAR RDA's accumulated fluxes) "forecast layout: 30 initial times
 * x 12 hours". */
static void layout_text(const era5_file *f, char *buf, size_t len)
{
    if (f->nhours > 0) snprintf(buf, len, "forecast layout: %lld initial times x %lld hours", f->ninit, f->nhours);
    else snprintf(buf, len, "%lld time steps", f->ntime);
}

/* The file variable that describes variable v: that of the first file that
 * holds it (files of the forecast layout hold only their own). */
static const era5_file_variable *describing(const era5_catalog *cat, int v, const char **path)
{
    for (int i = 0; i < cat->nfiles; i++)
        if (cat->files[i].vars[v].part >= 0) {
            *path = cat->files[i].path;
            return &cat->files[i].vars[v];
        }
    *path = cat->files[0].path;
    return &cat->files[0].vars[v];
}

/* Spacing of the output times: days for --daily-mean (unless the steps
 * are further apart than that already). */
static double output_step_hours(const era5_catalog *cat, const era5_options *opt)
{
    return opt->daily_mean && cat->step_hours < 24.0 ? 24.0 : cat->step_hours;
}

static void format_hours(double hours, char *buf, size_t len)
{
    dsc_datetime t;
    datetime_from_hours(hours, &t);
    datetime_format(&t, buf, len);
}

/* Collective: missing values per variable over the whole selection, read
 * block by block of output times (each block has at least one time step
 * per rank, as the reader needs). */
static int count_missing(MPI_Comm comm, const era5_catalog *cat, const era5_options *opt, long long *missing)
{
    int nranks;
    MPI_Comm_size(comm, &nranks);
    for (int v = 0; v < cat->nvars; v++) missing[v] = 0;
    long long per_time = (long long)cat->nvars * cat->nlat * cat->nlon;
    long long block = INFO_BLOCK_VALUES / (per_time > 0 ? per_time : 1) * nranks;
    if (block < 2 * nranks) block = 2 * nranks;
    for (long long t0 = 0; t0 < cat->ntime;) {
        long long nt = cat->ntime - t0;
        /* the last block must not be shorter than the rank count either */
        if (nt > block) nt = (nt - block < nranks) ? nt - nranks : block;
        /* a view of the catalog: output times [t0, t0 + nt); the steps stay
         * shared, time_first_step indexes them */
        era5_catalog view = *cat;
        view.ntime = nt;
        view.time = cat->time + t0;
        view.time_first_step = cat->time_first_step + t0;
        era5_samples s;
        /* a variable missing in one block is not an error here: info reports it */
        if (era5_read_samples_unchecked(comm, &view, opt, &s) != DSC_OK) return DSC_ERR;
        for (int v = 0; v < cat->nvars; v++) missing[v] += s.missing[v];
        era5_samples_destroy(&s);
        t0 += nt;
    }
    return DSC_OK;
}

/* ------------------------------------------------------------------------ */
/* text                                                                     */

static void print_text(const era5_catalog *cat, const era5_options *opt, const long long *missing)
{
    printf("files: %d\n", cat->nfiles);
    for (int i = 0; i < cat->nfiles; i++) {
        char storage[256];
        storage_text(cat, &cat->files[i], storage, sizeof storage);
        char layout[96];
        layout_text(&cat->files[i], layout, sizeof layout);
        printf("  %s (%s, %s, %s)\n", cat->files[i].path, format_name(cat->files[i].format), storage, layout);
        for (int p = 0; p < cat->files[i].nparts; p++) {
            char names[512] = "";
            size_t used = 0;
            for (int v = 0; v < cat->nvars && used + 1 < sizeof names; v++)
                if (cat->files[i].vars[v].part == p + 1)
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", cat->vars[v].name);
            printf("    + %s (%s: %s)\n", cat->files[i].parts[p].path, format_name(cat->files[i].parts[p].format), names);
        }
    }
    const long long values = cat->ntime * cat->nlat * cat->nlon;
    printf("variables: %d\n", cat->nvars);
    for (int v = 0; v < cat->nvars; v++) {
        const era5_variable *var = &cat->vars[v];
        const char *path;
        const era5_file_variable *fv = describing(cat, v, &path);
        printf("  %-6s %-10s %s\n", var->name, var->units[0] ? var->units : "-",
               var->long_name[0] ? var->long_name : "-");
        if (strcmp(fv->nc_name, var->name) != 0) printf("         named '%s' in the files\n", fv->nc_name);
        if (fv->packed)
            printf("         packed %s (scale_factor %.9g, add_offset %.9g in %s)\n", type_name(fv->xtype),
                   fv->scale_factor, fv->add_offset, path);
        else
            printf("         %s\n", type_name(fv->xtype));
        printf("         missing %lld of %lld values (%.2f%%)\n", missing[v], values,
               values > 0 ? 100.0 * (double)missing[v] / (double)values : 0.0);
    }
    printf("grid: %d x %d (latitude x longitude)", cat->nlat, cat->nlon);
    if (opt->has_box) printf(", box at index %d, %d of the file grid", cat->lat0, cat->lon0);
    printf("\n");
    const double *lat = cat->lat, *lon = cat->lon;
    printf("  latitude  %g .. %g (%s)\n", lat[0], lat[cat->nlat - 1],
           cat->nlat < 2 ? "one row" : lat[0] > lat[cat->nlat - 1] ? "north to south" : "south to north");
    printf("  longitude %g .. %g\n", lon[0], lon[cat->nlon - 1]);
    if (cat->nlat > 1 || cat->nlon > 1)
        printf("  resolution %g x %g degrees\n", cat->nlat > 1 ? fabs(lat[1] - lat[0]) : 0.0,
               cat->nlon > 1 ? fabs(lon[1] - lon[0]) : 0.0);
    char first[32], last[32];
    format_hours(cat->time[0], first, sizeof first);
    format_hours(cat->time[cat->ntime - 1], last, sizeof last);
    printf("time: %s .. %s, %lld %s", first, last, cat->ntime, opt->daily_mean ? "daily means" : "steps");
    if (opt->daily_mean)
        printf(" (every %g hours) of %lld steps every %g hours\n", output_step_hours(cat, opt), cat->nsteps,
               cat->step_hours);
    else printf(", every %g hours\n", cat->step_hours);
    printf("  calendar %s\n", cf_calendar_name(cat->calendar));
}

/* ------------------------------------------------------------------------ */
/* JSON                                                                     */

static void print_json(const era5_catalog *cat, const era5_options *opt, const long long *missing)
{
    printf("{\n  \"files\": [");
    for (int i = 0; i < cat->nfiles; i++) {
        printf(i ? ", " : "");
        json_write_string(stdout, cat->files[i].path);
    }
    printf("],\n  \"file_details\": [");
    for (int i = 0; i < cat->nfiles; i++) {
        const era5_file *f = &cat->files[i];
        printf("%s\n    {\"path\": ", i ? "," : "");
        json_write_string(stdout, f->path);
        printf(", \"format\": ");
        json_write_string(stdout, format_name(f->format));
        char storage[256];
        storage_text(cat, f, storage, sizeof storage);
        printf(", \"storage\": ");
        json_write_string(stdout, storage);
        printf(", \"steps\": %lld, \"time_is_record\": %s, \"expver\": %lld, \"parts\": [", f->ntime,
               f->time_is_record ? "true" : "false", f->nexpver);
        for (int p = 0; p < f->nparts; p++) {
            printf(p ? ", " : "");
            json_write_string(stdout, f->parts[p].path);
        }
        printf("]");
        /* the forecast layout only: other files keep their fields as before */
        if (f->nhours > 0) printf(", \"forecast_layout\": {\"initial_times\": %lld, \"hours\": %lld}", f->ninit, f->nhours);
        printf("}");
    }
    printf("\n  ],\n  \"variables\": [");
    for (int v = 0; v < cat->nvars; v++) {
        const era5_variable *var = &cat->vars[v];
        const char *path;
        const era5_file_variable *fv = describing(cat, v, &path);
        printf("%s\n    {\"name\": ", v ? "," : "");
        json_write_string(stdout, var->name);
        printf(", \"nc_name\": ");
        json_write_string(stdout, fv->nc_name);
        printf(", \"units\": ");
        json_write_string(stdout, var->units);
        printf(", \"long_name\": ");
        json_write_string(stdout, var->long_name);
        printf(", \"type\": ");
        json_write_string(stdout, type_name(fv->xtype));
        printf(", \"packed\": %s, \"scale_factor\": ", fv->packed ? "true" : "false");
        if (fv->packed) json_write_number(stdout, fv->scale_factor);
        else printf("null");
        printf(", \"add_offset\": ");
        if (fv->packed) json_write_number(stdout, fv->add_offset);
        else printf("null");
        printf(", \"missing\": %lld}", missing[v]);
    }
    const double *lat = cat->lat, *lon = cat->lon;
    printf("\n  ],\n  \"grid\": {\"nlat\": %d, \"nlon\": %d, \"lat_first\": ", cat->nlat, cat->nlon);
    json_write_number(stdout, lat[0]);
    printf(", \"lat_last\": ");
    json_write_number(stdout, lat[cat->nlat - 1]);
    printf(", \"lon_first\": ");
    json_write_number(stdout, lon[0]);
    printf(", \"lon_last\": ");
    json_write_number(stdout, lon[cat->nlon - 1]);
    printf(", \"lat_resolution\": ");
    json_write_number(stdout, cat->nlat > 1 ? fabs(lat[1] - lat[0]) : 0.0);
    printf(", \"lon_resolution\": ");
    json_write_number(stdout, cat->nlon > 1 ? fabs(lon[1] - lon[0]) : 0.0);
    printf(", \"lat_offset\": %d, \"lon_offset\": %d},\n", cat->lat0, cat->lon0);
    char first[32], last[32];
    format_hours(cat->time[0], first, sizeof first);
    format_hours(cat->time[cat->ntime - 1], last, sizeof last);
    printf("  \"time\": {\"count\": %lld, \"first\": \"%s\", \"last\": \"%s\", \"step_hours\": ", cat->ntime, first,
           last);
    json_write_number(stdout, output_step_hours(cat, opt));
    printf(", \"steps\": %lld, \"input_step_hours\": ", cat->nsteps);
    json_write_number(stdout, cat->step_hours);
    printf(", \"daily_mean\": %s, \"calendar\": \"%s\"}\n}\n", opt->daily_mean ? "true" : "false",
           cf_calendar_name(cat->calendar));
}

int info_command(int argc, char **argv, MPI_Comm comm)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    cli_command cmd = {
        .command = "info",
        .usage = "[OPTIONS] FILES...",
        .summary = "Show what the reader sees in ERA5 netCDF files: each file's format (classic, 64-bit offset, "
                   "CDF-5, netCDF-4 with its compression and chunks), variables, packing, grid, time axis and "
                   "missing values.  Legacy CDS files, new CDS files (netCDF-4; the instant and accum files of a "
                   "request are merged by variable), NCAR RDA ds633.0 files (SSTK, VAR_2T, ...; the accumulated "
                   "fluxes SSHF, SLHF in their forecast layout, joined by valid time) and variables on "
                   "pressure levels (--level 500 or --vars z@500) are read as they are.",
        .options = info_options,
        .noptions = (int)(sizeof info_options / sizeof info_options[0]),
    };
    int status = cli_parse(&cmd, argc, argv, rank);
    if (status == CLI_HELP) {
        cli_free(&cmd);
        return CLI_HELP;
    }
    era5_options opt;
    if (status == DSC_OK) status = era5_options_from_cli(&cmd, &opt);
    if (dsc_agree(comm, status) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }

    era5_catalog cat;
    if (era5_catalog_open(comm, cmd.args, cmd.nargs, &opt, &cat) != DSC_OK) {
        cli_free(&cmd);
        return DSC_ERR;
    }
    long long missing[ERA5_MAX_VARS] = {0};
    status = count_missing(comm, &cat, &opt, missing);
    if (status == DSC_OK) {
        /* Same rule as the reader, over the whole selection (every rank has
         * the reduced counts, so the decision is the same everywhere). */
        const long long values = cat.ntime * cat.nlat * cat.nlon;
        for (int v = 0; v < cat.nvars && status == DSC_OK; v++)
            if (values > 0 && missing[v] == values)
                status = dsc_agree(comm, dsc_fail("%s: every value is missing in the selection; drop it with --vars or "
                                                  "choose another --time-range/--box", cat.vars[v].name));
    }
    if (status == DSC_OK && rank == 0) {
        if (cli_flag(&cmd, "json")) print_json(&cat, &opt, missing);
        else print_text(&cat, &opt, missing);
        fflush(stdout);
    }
    era5_catalog_destroy(&cat);
    cli_free(&cmd);
    return status;
}
