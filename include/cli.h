/*
 * cli.h - command-line options of the dsc subcommands.
 *
 * Each subcommand describes its options in one table; the same table drives
 * parsing and `dsc CMD --help`, so the help always lists every option with
 * its default.  Parsing is local and identical on every rank.
 */
#ifndef DSC_CLI_H
#define DSC_CLI_H

#define CLI_MAX_OPTIONS 64

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
} cli_command;

/* Parses argv (argv[0] is the subcommand name).  Returns DSC_OK, CLI_HELP
 * after printing help on rank 0, or DSC_ERR with a message naming the bad
 * option. */
int cli_parse(cli_command *cmd, int argc, char **argv, int rank);
void cli_free(cli_command *cmd);
void cli_print_help(const cli_command *cmd);

/* Lookups by long name; the name must be in the table. */
const char *cli_get(const cli_command *cmd, const char *name);
int cli_given(const cli_command *cmd, const char *name);
int cli_flag(const cli_command *cmd, const char *name);
/* Converters: DSC_ERR with "option --NAME: ..." on a bad value. */
int cli_long(const cli_command *cmd, const char *name, long lo, long hi, long *out);
int cli_double(const cli_command *cmd, const char *name, double lo, double hi, double *out);

#endif
