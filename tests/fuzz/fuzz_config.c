/*
 * fuzz_config.c - configuration files (src/core/cli.c: cli_read_config), as
 * dsc train --config reads them, with an option table of the same kinds as
 * the real commands': flags, options with values, the "input" list key, and
 * keys refused inside a file.  Every file that reads is written back
 * (cli_write_config, as config.txt is) and read again: the values must come
 * back byte for byte, quoted and escaped where needed.
 */
#include "cli.h"
#include "fuzz_common.h"

static const cli_option options[] = {
    {"clusters", 'k', "K", "7", "number of clusters"},
    {"anomalies", 0, NULL, NULL, "a flag"},
    {"max-iter", 0, "N", "100", "iterations"},
    {"output", 'o', "DIR", NULL, "output directory"},
    {"force", 0, NULL, NULL, "another flag"},
    {"alpha", 0, "A", "1.0", "a real number"},
    {"config", 0, "FILE", NULL, "refused inside a file"},
};
static const char *const refused[] = {"config", NULL};
static char out_path[300];

static void remove_out(void) { unlink(out_path); }

/* Local: cmd's values and list written to out_path and read back equal;
 * abort() (a finding) when not. */
static void round_trip(const cli_command *cmd)
{
    FILE *f = fopen(out_path, "w");
    if (!f) return;
    cli_write_config(f, cmd, NULL);
    for (int i = 0; i < cmd->nconfig_list; i++) cli_write_value(f, "input", cmd->config_list[i]);
    if (fclose(f) != 0) return;
    cli_command back = {.command = "train", .usage = "", .summary = "", .options = options,
                        .noptions = cmd->noptions, .config_refused = refused};
    char arg0[] = "train";
    char *argv[] = {arg0, NULL};
    if (cli_parse(&back, 1, argv, 1) != DSC_OK || cli_read_config(&back, out_path, "input") != DSC_OK) abort();
    for (int i = 0; i < cmd->noptions; i++) {
        const char *a = cmd->values[i], *b = back.values[i];
        if ((a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0)) abort();
    }
    if (back.nconfig_list != cmd->nconfig_list) abort();
    for (int i = 0; i < cmd->nconfig_list; i++)
        if (strcmp(cmd->config_list[i], back.config_list[i]) != 0) abort();
    cli_free(&back);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup(argc, argv, ".conf");
    snprintf(out_path, sizeof out_path, "%s.out", fuzz_path);
    atexit(remove_out);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_write(data, size) != 0) return 0;
    cli_command cmd = {.command = "train", .usage = "[OPTIONS] FILES...", .summary = "fuzzing", .options = options,
                       .noptions = (int)(sizeof options / sizeof options[0]), .config_refused = refused};
    char arg0[] = "train", arg1[] = "--force";
    char *argv[] = {arg0, arg1, NULL};
    if (cli_parse(&cmd, 2, argv, 1) == DSC_OK) {
        if (cli_read_config(&cmd, fuzz_path, "input") == DSC_OK) {
            long k;
            double a;
            (void)cli_long(&cmd, "clusters", 1, 1000, &k);
            dsc_clear();
            (void)cli_double(&cmd, "alpha", 0, 1e9, &a);
            dsc_clear();
            round_trip(&cmd);
        }
        cli_free(&cmd);
    }
    dsc_clear();
    return 0;
}
