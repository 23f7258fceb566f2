/*
 * cli.h - command-line options of the dsc subcommands.
 *
 * Each subcommand describes its options in one table; the same table drives
 * parsing and `dsc CMD --help`, so the help always lists every option with
 * its default.  Parsing is local and identical on every rank.
 */
#ifndef DSC_CLI_H
#define DSC_CLI_H

#include <stdio.h>

#define CLI_MAX_OPTIONS 64
/* Width of the option column of --help; the help text starts 3 columns
 * further (2 spaces of indent, 1 of separation). */
#define CLI_HELP_COLUMN 30

enum { CLI_HELP = 2 }; /* cli_parse: help was printed, exit 0 */

typedef struct {
    const char *name;          /* long option without "--" */
    char short_name;           /* single-letter alias, 0 for none */
    const char *metavar;       /* NULL: a flag without a value */
    const char *default_value; /* used when absent and shown in --help; NULL: none */
    const char *help;
} cli_option;

typedef struct {
    const char *command;       /* "synth" */
    const char *usage;         /* "[OPTIONS] FILES..." */
    const char *summary;       /* one sentence */
    const cli_option *options;
    int noptions;
    /* filled by cli_parse */
    const char *values[CLI_MAX_OPTIONS]; /* value, default, "1" for a given flag, or NULL */
    int given[CLI_MAX_OPTIONS];
    int nargs;
    char **args;               /* positional arguments (points into a copy of argv) */
    char *config_text;         /* cli_read_config: the file's text, values point into it */
    char **config_list;        /* cli_read_config: values of the list key, in order */
    int nconfig_list;
    const char *const *config_refused; /* keys refused inside a configuration file (NULL-terminated list, may be NULL) */
} cli_command;

/* Parses argv (argv[0] is the subcommand name).  Returns DSC_OK, CLI_HELP
 * after printing help on rank 0, or DSC_ERR with a message naming the bad
 * option. */
int cli_parse(cli_command *cmd, int argc, char **argv, int rank);
void cli_free(cli_command *cmd);
void cli_print_help(const cli_command *cmd);

/* Configuration files: `key = value` lines with the long option names as
 * keys ('#' starts a comment; flags take on/off, true/false, yes/no or 1/0).
 * A value in double quotes is taken as it is, '#' and blanks included, with
 * the escapes \\ \" \n \t \r and \xHH; a value without quotes ends at a
 * '#' and loses its surrounding blanks (files written before the quotes
 * read as they did).  Options given on the command line win; every other
 * option found in the file takes the file's value.  Lines with key list_key
 * (may be NULL) are collected, in order, into cmd->config_list (e.g. the
 * input files).  An unknown key, a key of cmd->config_refused or a
 * malformed line: DSC_ERR naming the file and line.  Local (each rank reads
 * the small file). */
int cli_read_config(cli_command *cmd, const char *path, const char *list_key);
/* Writes every option that has a value as `key = value` (flags on/off),
 * then one `list_key = ARG` line per positional argument; values that would
 * not read back as they are (blanks at either end, '#', control
 * characters, a leading quote, empty) are quoted and escaped. */
void cli_write_config(FILE *f, const cli_command *cmd, const char *list_key);
/* One `key = value` line, value quoted as cli_write_config does. */
void cli_write_value(FILE *f, const char *key, const char *value);

/* Lookups by long name; the name must be in the table. */
const char *cli_get(const cli_command *cmd, const char *name);
int cli_given(const cli_command *cmd, const char *name);
int cli_flag(const cli_command *cmd, const char *name);
/* Converters: DSC_ERR with "option --NAME: ..." on a bad value.  Spaces
 * around the number are ignored (' 4' and '4 ' read as 4); an empty or
 * blank value is an error. */
int cli_long(const cli_command *cmd, const char *name, long lo, long hi, long *out);
int cli_double(const cli_command *cmd, const char *name, double lo, double hi, double *out);
/* Sizes such as "48x48" or "4x1x1": exactly n unsigned decimal integers
 * joined by 'x' (or 'X'), nothing else (no signs, no spaces inside; spaces
 * around the whole are ignored).  DSC_ERR
 * without a message when text is not of that form: the caller names the
 * option and the form it wants. */
int cli_parse_dims(const char *text, int n, long *out);

#endif
