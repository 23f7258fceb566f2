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

static int hex_digit(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* The value of a line, from just after its '=': a quoted value unescaped in
 * place (never longer than its text), or the text up to a '#', trimmed.
 * NULL with *why on a quoted value that does not parse. */
static char *config_value(char *s, const char **why)
{
    while (*s == ' ' || *s == '\t') s++;
    if (*s != '"') {
        char *hash = strchr(s, '#');
        if (hash) *hash = '\0';
        return trim(s);
    }
    char *value = s, *out = s, *p = s + 1;
    for (; *p && *p != '"'; p++) {
        if (*p != '\\') {
            *out++ = *p;
            continue;
        }
        p++;
        int hi, lo;
        switch (*p) {
        case '\\': case '"': *out++ = *p; break;
        case 'n': *out++ = '\n'; break;
        case 't': *out++ = '\t'; break;
        case 'r': *out++ = '\r'; break;
        case 'x':
            hi = hex_digit(p[1]);
            lo = hi < 0 ? -1 : hex_digit(p[2]);
            if (lo < 0 || hi * 16 + lo == 0) {
                *why = "has \\x without two hex digits (00 excluded)";
                return NULL;
            }
            *out++ = (char)(hi * 16 + lo);
            p += 2;
            break;
        default:
            *why = *p ? "has an unknown escape" : "ends in a backslash";
            return NULL;
        }
    }
    if (*p != '"') {
        *why = "has no closing quote";
        return NULL;
    }
    for (p++; *p == ' ' || *p == '\t' || *p == '\r'; p++) continue;
    if (*p && *p != '#') {
        *why = "has text after the closing quote";
        return NULL;
    }
    *out = '\0';
    return value;
}

static int refused(const cli_command *cmd, const char *key)
{
    for (const char *const *r = cmd->config_refused; r && *r; r++)
        if (!strcmp(*r, key)) return 1;
    return 0;
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
        char *eq = s + strcspn(s, "=#"); /* a '#' before any '=' starts a comment */
        if (*eq == '#') *eq = '\0';
        s = trim(s);
        if (!*s) continue;
        if (*eq != '=') return dsc_fail("%s: line %d: no '=' in '%s'; write 'key = value'", path, line, s);
        *eq = '\0';
        const char *why = NULL;
        char *key = trim(s), *value = config_value(eq + 1, &why);
        if (!value)
            return dsc_fail("%s: line %d: the value of '%s' %s; write \"...\" with the escapes \\\\ \\\" \\n \\t \\r \\xHH",
                            path, line, key, why);
        if (refused(cmd, key))
            return dsc_fail("%s: line %d: '%s' cannot be set in a configuration file; give --%s on the command line", path,
                            line, key, key);
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

/* Whether value would not read back as it is without quotes. */
static int needs_quotes(const char *value)
{
    size_t n = strlen(value);
    if (n == 0 || value[0] == '"' || strchr(" \t", value[0]) || strchr(" \t", value[n - 1])) return 1;
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f || *p == '#') return 1;
    return 0;
}

void cli_write_value(FILE *f, const char *key, const char *value)
{
    if (!needs_quotes(value)) {
        fprintf(f, "%s = %s\n", key, value);
        return;
    }
    fprintf(f, "%s = \"", key);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p == '\r') fputs("\\r", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\x%02x", *p);
        else fputc(*p, f);
    }
    fputs("\"\n", f);
}

void cli_write_config(FILE *f, const cli_command *cmd, const char *list_key)
{
    for (int i = 0; i < cmd->noptions; i++) {
        const cli_option *o = &cmd->options[i];
        if (!o->metavar) fprintf(f, "%s = %s\n", o->name, cmd->values[i] ? "on" : "off");
        else if (cmd->values[i]) cli_write_value(f, o->name, cmd->values[i]);
    }
    if (list_key)
        for (int a = 0; a < cmd->nargs; a++) cli_write_value(f, list_key, cmd->args[a]);
}
