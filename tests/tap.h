/*
 * tap.h - TAP output for the C tests.  Only rank 0 prints; tap_check_all()
 * combines a check over all ranks so a failure on any rank is reported.
 * tap_finish() returns the exit status: non-zero when any check failed.
 */
#ifndef DSC_TAP_H
#define DSC_TAP_H

#include <mpi.h>
#include <stdarg.h>
#include <stdio.h>

static int tap_count, tap_failures, tap_rank;

static void tap_vcheck(int ok, const char *fmt, va_list ap)
{
    tap_count++;
    if (!ok) tap_failures++;
    if (tap_rank == 0) {
        printf("%sok %d - ", ok ? "" : "not ", tap_count);
        vprintf(fmt, ap);
        printf("\n");
        fflush(stdout);
    }
}

static void tap_check(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3), unused));
static void tap_check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    tap_vcheck(ok, fmt, ap);
    va_end(ap);
}

/* Collective: passes only if ok on every rank of comm. */
static void tap_check_all(MPI_Comm comm, int ok, const char *fmt, ...) __attribute__((format(printf, 3, 4), unused));
static void tap_check_all(MPI_Comm comm, int ok, const char *fmt, ...)
{
    int all = 0;
    MPI_Allreduce(&ok, &all, 1, MPI_INT, MPI_LAND, comm);
    va_list ap;
    va_start(ap, fmt);
    tap_vcheck(all, fmt, ap);
    va_end(ap);
}

static void tap_note(const char *fmt, ...) __attribute__((format(printf, 1, 2), unused));
static void tap_note(const char *fmt, ...)
{
    if (tap_rank != 0) return;
    va_list ap;
    va_start(ap, fmt);
    printf("# ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void tap_init(void) __attribute__((unused));
static void tap_init(void) { MPI_Comm_rank(MPI_COMM_WORLD, &tap_rank); }

static int tap_finish(void) __attribute__((unused));
static int tap_finish(void)
{
    if (tap_rank == 0) printf("1..%d\n", tap_count);
    fflush(stdout);
    return tap_failures ? 1 : 0;
}

#endif
