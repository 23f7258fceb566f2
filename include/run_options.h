/*
 * run_options.h - the options every command that reads ERA5 files takes
 * (info, train, kmeans, ward, predict, eval, compare) and those every
 * clustering command takes (--truth, --sample, --force, --quiet).
 */
#ifndef DSC_RUN_OPTIONS_H
#define DSC_RUN_OPTIONS_H

#include "cli.h"
#include "era5_catalog.h"

/* Options table entries for cli.h, to be placed in a command's table. */
#define ERA5_CLI_OPTIONS                                                                                        \
    {"vars", 0, "LIST", NULL, "comma-separated variables to read (names or aliases: t2m, 2t, var167, ...); all if absent"}, \
    {"box", 0, "S,N,W,E", NULL, "latitude/longitude box in degrees (south,north,west,east); whole grid if absent"},   \
    {"time-range", 0, "START/END", NULL, "inclusive time range, ISO 8601 (1980-01-01/1989-12-31: END's whole day; START/ or /END leave one side open); everything if absent"}, \
    {"daily-mean", 0, NULL, NULL, "average sub-daily steps into daily means (UTC days)"},                          \
    {"level", 0, "HPA", NULL, "pressure levels to read of variables on levels, comma-separated (500,850); or name one in --vars as z@500"}, \
    {"process-grid", 0, "TxYxX", "auto", "ranks along time, latitude and longitude for reading"}

/* Fills opt from a parsed command that contains ERA5_CLI_OPTIONS; DSC_ERR
 * with a message naming the option. */
int era5_options_from_cli(const cli_command *cmd, era5_options *opt);

/* Options every clustering command takes, for its cli_option table. */
#define RUN_CLI_OPTIONS                                                                                           \
    {"truth", 0, "FILE", NULL, "reference labelling ('time,label' CSV, e.g. truth.csv of dsc synth): ARI and NMI in metrics.json"}, \
    {"sample", 0, "N", "0", "silhouettes of the final labels on a random subset of N time steps (0: all, exact)"},      \
    {"force", 0, NULL, NULL, "write into a non-empty output folder"},                                                   \
    {"quiet", 'q', NULL, NULL, "print nothing but errors"}

/* Local: DSC_ERR with a message naming option --sample of command when
 * sample (0: all time steps) cannot hold k clusters with a sample to spare,
 * which the silhouette needs. */
int run_check_sample(const char *command, long sample, long k);

#endif
