/*
 * fuzz_common.h - shared parts of the libFuzzer targets in tests/fuzz/.
 *
 * Every target parses bytes the way dsc does when it reads a file: the
 * input is written to a file (PnetCDF, fopen and the checkpoint reader all
 * take a path) in a tmpfs directory when there is one, then the parser
 * under test opens it.  MPI is initialised once, in LLVMFuzzerInitialize,
 * and the parsers run on MPI_COMM_SELF.  Error messages of rejected inputs
 * are consumed with dsc_clear() so they do not pile up.
 */
#ifndef DSC_FUZZ_COMMON_H
#define DSC_FUZZ_COMMON_H
#include "status.h"

#include <mpi.h>
#include <sanitizer/lsan_interface.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fuzz_path[256];

/* MPI_Finalize is not called: Open MPI frees only part of what MPI_Init
 * allocated and unloads its components, so LeakSanitizer's exit check would
 * report Open MPI's memory with stacks it cannot name.  Without it that
 * memory stays reachable; the leaks libFuzzer looks for are those of one
 * input, checked after each run. */
static void fuzz_finalize(void)
{
    if (fuzz_path[0]) unlink(fuzz_path);
}

/* MPI_Init and a per-process input file name (suffix: ".nc", ".csv", ...).
 * Open MPI allocates some memory for good on MPI_Init and on the first
 * collective of a communicator (its frames cannot be named by the fast
 * unwinder, so lsan.supp cannot match them); that start-up is done here with
 * leak detection off, so every leak reported later is one of an input. */
static void fuzz_setup(int *argc, char ***argv, const char *suffix)
{
    __lsan_disable();
    MPI_Init(argc, argv);
    int v = 1;
    double d = 1;
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, MPI_COMM_SELF);
    MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_SUM, MPI_COMM_SELF);
    MPI_Allreduce(MPI_IN_PLACE, &d, 1, MPI_DOUBLE, MPI_SUM, MPI_COMM_SELF);
    MPI_Bcast(&v, 1, MPI_INT, 0, MPI_COMM_SELF);
    MPI_Barrier(MPI_COMM_SELF);
    __lsan_enable();
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_path, sizeof fuzz_path, "%s/dsc-fuzz-%ld%s", dir, (long)getpid(), suffix);
    atexit(fuzz_finalize);
}

/* Writes the input to fuzz_path; returns 0 on success. */
static int fuzz_write(const uint8_t *data, size_t size)
{
    FILE *f = fopen(fuzz_path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, size, f) == size;
    ok = (fclose(f) == 0) && ok;
    return ok ? 0 : -1;
}
#endif
