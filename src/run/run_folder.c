/*
 * run_folder.c - the output folder of a clustering run: made or checked
 * (empty unless --force, writable, not an input) and no input overwritten
 * by the files the run writes there (see run_folder.h).
 */
#include "run_folder.h"
#include "output_file.h"
#include "status.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static int folder_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int any = 0;
    while (!any && (e = readdir(d)) != NULL) any = strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return any;
}

static int check_folder(const char *dir, int force, const char *command, char **inputs, int ninputs)
{
    struct stat st;
    char option[64];
    snprintf(option, sizeof option, "dsc %s: -o", command);
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return dsc_fail("dsc %s: -o %s is not a folder; give a folder for the outputs", command, dir);
        if (!force && folder_has_files(dir))
            return dsc_fail("dsc %s: output folder %s is not empty; choose a new folder, or add --force to overwrite its outputs",
                            command, dir);
    } else if (mkdir(dir, 0777) != 0) {
        int e = errno;
        /* the folder is made, never its parents: name the one that is missing */
        int n = (int)strlen(dir);
        while (n > 1 && dir[n - 1] == '/') n--;
        while (n > 0 && dir[n - 1] != '/') n--;
        while (n > 1 && dir[n - 1] == '/') n--;
        if (e == ENOENT && n > 0)
            return dsc_fail("dsc %s: cannot create output folder %s: %s: the folder %.*s does not exist; create it first "
                            "(mkdir -p %.*s)", command, dir, strerror(e), n, dir, n, dir);
        return dsc_fail("dsc %s: cannot create output folder %s: %s; check the path and permissions", command, dir, strerror(e));
    }
    return output_check(dir, OUTPUT_FOLDER, option, inputs, ninputs);
}

int run_folder_spares(MPI_Comm comm, const char *dir, const char *command, const char *option, const char *input)
{
    static const char *written[] = {"labels.csv", "labels.nc", "latent.nc", "centroids.nc", "composites.nc",
                                    "metrics.json", "model.ckpt", "checkpoint.ckpt", "config.txt"};
    int rank, status = DSC_OK;
    MPI_Comm_rank(comm, &rank);
    for (size_t i = 0; rank == 0 && input && status == DSC_OK && i < sizeof written / sizeof written[0]; i++) {
        char path[PATH_MAX + 32];
        snprintf(path, sizeof path, "%s/%s", dir, written[i]);
        if (output_same_file(path, input))
            status = dsc_fail("dsc %s: -o %s would overwrite the %s file %s (as %s); choose another folder", command, dir,
                              option, input, written[i]);
    }
    return dsc_agree(comm, status);
}

int run_folder_prepare(MPI_Comm comm, const char *dir, int force, const char *command, char **inputs, int ninputs)
{
    int rank;
    MPI_Comm_rank(comm, &rank);
    int status = rank == 0 ? check_folder(dir, force, command, inputs, ninputs) : DSC_OK;
    return dsc_agree(comm, status);
}
