/*
 * fuzz_config.c - configuration files (src/cli.c: cli_read_config), as
 * dsc train --config reads them, with an option table of the same kinds as
 * the real commands': flags, options with values, the "input" list key.
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
};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup(argc, argv, ".conf");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_write(data, size) != 0) return 0;
    cli_command cmd = {.command = "train", .usage = "[OPTIONS] FILES...", .summary = "fuzzing", .options = options,
                       .noptions = (int)(sizeof options / sizeof options[0])};
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
            for (int i = 0; i < cmd.nconfig_list; i++) (void)strlen(cmd.config_list[i]);
            FILE *devnull = fopen("/dev/null", "w");
            if (devnull) {
                cli_write_config(devnull, &cmd, "input");
                fclose(devnull);
            }
        }
        cli_free(&cmd);
    }
    dsc_clear();
    return 0;
}
