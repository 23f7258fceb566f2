/*
 * cli.c - table-driven option parsing and help for the dsc subcommands.
 */
#include "cli.h"
#include "status.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int find_long(const cli_command *cmd, const char *name, size_t len)
{
    for (int i = 0; i < cmd->noptions; i++) {
        if (strlen(cmd->options[i].name) == len && strncmp(cmd->options[i].name, name, len) == 0) return i;
    }
    return -1;
}

static int find_short(const cli_command *cmd, char c)
{
    for (int i = 0; i < cmd->noptions; i++) {
        if (cmd->options[i].short_name == c) return i;
    }
    return -1;
}

void cli_print_help(const cli_command *cmd)
{
    printf("Usage: dsc %s %s\n\n%s\n\nOptions:\n", cmd->command, cmd->usage, cmd->summary);
    for (int i = 0; i < cmd->noptions; i++) {
        const cli_option *o = &cmd->options[i];
        char left[96];
        if (o->short_name)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->short_name, o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->metavar ? " " : "", o->metavar ? o->metavar : "");
        /* an option too long for the column gets a line of its own */
        if (strlen(left) > CLI_HELP_COLUMN) printf("  %s\n  %-*s %s", left, CLI_HELP_COLUMN, "", o->help);
        else printf("  %-*s %s", CLI_HELP_COLUMN, left, o->help);
        if (o->default_value) printf(" (default: %s)", o->default_value);
        else if (!o->metavar) printf(" (default: off)");
        printf("\n");
    }
    printf("  %-*s %s\n", CLI_HELP_COLUMN, "-h, --help", "print this help and exit");
}

static int set_value(cli_command *cmd, int i, const char *value)
{
    cmd->values[i] = value;
    cmd->given[i] = 1;
    return DSC_OK;
}

int cli_parse(cli_command *cmd, int argc, char **argv, int rank)
{
    if (cmd->noptions > CLI_MAX_OPTIONS) return dsc_fail("internal: too many options for dsc %s", cmd->command);
    for (int i = 0; i < cmd->noptions; i++) {
        cmd->values[i] = cmd->options[i].metavar ? cmd->options[i].default_value : NULL;
        cmd->given[i] = 0;
    }
    cmd->nargs = 0;
    cmd->args = dsc_calloc((size_t)argc + 1, sizeof(char *), "arguments");
    if (!cmd->args) return DSC_ERR;
    int only_args = 0;
    for (int a = 1; a < argc; a++) {
        char *s = argv[a];
        if (only_args || s[0] != '-' || s[1] == '\0') {
            cmd->args[cmd->nargs++] = s;
            continue;
        }
        if (strcmp(s, "--") == 0) { only_args = 1; continue; }
        if (strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0) {
            if (rank == 0) cli_print_help(cmd);
            return CLI_HELP;
        }
        int i;
        const char *inline_value = NULL;
        if (s[1] == '-') {
            const char *name = s + 2;
            const char *eq = strchr(name, '=');
            i = find_long(cmd, name, eq ? (size_t)(eq - name) : strlen(name));
            if (eq) inline_value = eq + 1;
        } else {
            if (s[2] != '\0') inline_value = s + 2;
            i = find_short(cmd, s[1]);
        }
        if (i < 0) return dsc_fail("dsc %s: unknown option '%s'; run 'dsc %s --help' for the list", cmd->command, s, cmd->command);
        const cli_option *o = &cmd->options[i];
        if (!o->metavar) {
            if (inline_value) return dsc_fail("dsc %s: option --%s takes no value", cmd->command, o->name);
            set_value(cmd, i, "1");
            continue;
        }
        if (!inline_value) {
            if (a + 1 >= argc) return dsc_fail("dsc %s: option --%s needs a value (%s)", cmd->command, o->name, o->metavar);
            inline_value = argv[++a];
        }
        set_value(cmd, i, inline_value);
    }
    return DSC_OK;
}

void cli_free(cli_command *cmd)
{
    free(cmd->config_text);
    free(cmd->config_list);
    cmd->config_text = NULL;
    cmd->config_list = NULL;
    cmd->nconfig_list = 0;
    free(cmd->args);
    cmd->args = NULL;
    cmd->nargs = 0;
}

static int index_of(const cli_command *cmd, const char *name)
{
    int i = find_long(cmd, name, strlen(name));
    if (i < 0) {
        fprintf(stderr, "dsc: internal error: option --%s is not in the table of dsc %s\n", name, cmd->command);
        abort();
    }
    return i;
}

const char *cli_get(const cli_command *cmd, const char *name) { return cmd->values[index_of(cmd, name)]; }
int cli_given(const cli_command *cmd, const char *name) { return cmd->given[index_of(cmd, name)]; }
int cli_flag(const cli_command *cmd, const char *name) { return cmd->values[index_of(cmd, name)] != NULL; }

/* The end of a number that strtol or strtod stopped at: spaces after it
 * are skipped (the converters skip those before it), so ' 4' and '4 ' read
 * alike; whatever else follows is the caller's error. */
static const char *number_end(const char *end)
{
    while (isspace((unsigned char)*end)) end++;
    return end;
}

int cli_long(const cli_command *cmd, const char *name, long lo, long hi, long *out)
{
    const char *v = cli_get(cmd, name);
    if (!v) return dsc_fail("dsc %s: option --%s is required", cmd->command, name);
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *number_end(end) != '\0') return dsc_fail("dsc %s: option --%s: '%s' is not an integer", cmd->command, name, v);
    if (x < lo || x > hi) return dsc_fail("dsc %s: option --%s: %ld is outside [%ld, %ld]", cmd->command, name, x, lo, hi);
    *out = x;
    return DSC_OK;
}

int cli_parse_dims(const char *text, int n, long *out)
{
    const char *p = text;
    while (isspace((unsigned char)*p)) p++;
    for (int k = 0; k < n; k++) {
        if (*p < '0' || *p > '9') return DSC_ERR;
        char *end;
        errno = 0;
        long x = strtol(p, &end, 10);
        if (errno) return DSC_ERR;
        if (k < n - 1 ? (*end != 'x' && *end != 'X') : *number_end(end) != '\0') return DSC_ERR;
        out[k] = x;
        p = end + 1;
    }
    return DSC_OK;
}

int cli_double(const cli_command *cmd, const char *name, double lo, double hi, double *out)
{
    const char *v = cli_get(cmd, name);
    if (!v) return dsc_fail("dsc %s: option --%s is required", cmd->command, name);
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *number_end(end) != '\0' || !isfinite(x)) return dsc_fail("dsc %s: option --%s: '%s' is not a number", cmd->command, name, v);
    if (x < lo || x > hi) return dsc_fail("dsc %s: option --%s: %g is outside [%g, %g]", cmd->command, name, x, lo, hi);
    *out = x;
    return DSC_OK;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r' || e[-1] == '\n')) *--e = '\0';
    return s;
}

int cli_read_config(cli_command *cmd, const char *path, const char *list_key)
{
    FILE *f = fopen(path, "rb");
    if (!f) return dsc_fail("%s: cannot open configuration file: %s; check the path given to --config", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *text = malloc(cap);
    int c;
    while (text && (c = fgetc(f)) != EOF) {
        if (len + 2 > cap) {
            char *t = cap < ((size_t)1 << 24) ? realloc(text, cap *= 2) : NULL;
            if (!t) {
                free(text);
                text = NULL;
                break;
            }
            text = t;
        }
        if (c == '\0') {
            free(text);
            fclose(f);
            return dsc_fail("%s: configuration file contains a NUL byte; give a text file of 'key = value' lines", path);
        }
        // cppcheck-suppress nullPointerRedundantCheck ; text is not NULL here: a failed realloc leaves the loop
        text[len++] = (char)c;
    }
    fclose(f);
    if (!text) return dsc_fail("%s: configuration file too large or out of memory", path);
    text[len] = '\0';
    free(cmd->config_text);
    free(cmd->config_list);
    cmd->config_text = text;
    cmd->nconfig_list = 0;
    cmd->config_list = calloc(len / 2 + 2, sizeof(char *));
    if (!cmd->config_list) return dsc_fail("out of memory reading %s", path);
    int line = 0;
    char *next = text;
    if ((unsigned char)next[0] == 0xef && (unsigned char)next[1] == 0xbb && (unsigned char)next[2] == 0xbf) next += 3; /* UTF-8 BOM */
    while (next && *next) {
        char *s = next;
        char *nl = strchr(s, '\n');
        if (nl) *nl = '\0';
        next = nl ? nl + 1 : NULL;
        line++;
        char *hash = strchr(s, '#');
        if (hash) *hash = '\0';
        s = trim(s);
        if (!*s) continue;
        char *eq = strchr(s, '=');
        if (!eq) return dsc_fail("%s: line %d: no '=' in '%s'; write 'key = value'", path, line, s);
        *eq = '\0';
        char *key = trim(s), *value = trim(eq + 1);
        if (list_key && strcmp(key, list_key) == 0) {
            cmd->config_list[cmd->nconfig_list++] = value;
            continue;
        }
        int i = find_long(cmd, key, strlen(key));
        if (i < 0) return dsc_fail("%s: line %d: unknown key '%s'; keys are the long options of 'dsc %s --help'", path, line, key, cmd->command);
        if (cmd->given[i]) continue; /* the command line wins */
        const cli_option *o = &cmd->options[i];
        if (!o->metavar) {
            if (!strcmp(value, "on") || !strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "1")) cmd->values[i] = "1";
            else if (!strcmp(value, "off") || !strcmp(value, "false") || !strcmp(value, "no") || !strcmp(value, "0")) cmd->values[i] = NULL;
            else return dsc_fail("%s: line %d: '%s' is a flag; give on or off, not '%s'", path, line, key, value);
        } else {
            cmd->values[i] = value;
        }
    }
    return DSC_OK;
}

void cli_write_config(FILE *f, const cli_command *cmd, const char *list_key)
{
    for (int i = 0; i < cmd->noptions; i++) {
        const cli_option *o = &cmd->options[i];
        if (!o->metavar) fprintf(f, "%s = %s\n", o->name, cmd->values[i] ? "on" : "off");
        else if (cmd->values[i]) fprintf(f, "%s = %s\n", o->name, cmd->values[i]);
    }
    if (list_key)
        for (int a = 0; a < cmd->nargs; a++) fprintf(f, "%s = %s\n", list_key, cmd->args[a]);
}
