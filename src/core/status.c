/*
 * status.c - one error message per failure, agreed on by all ranks.
 * See status.h for the protocol.
 */
#include "status.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MESSAGE_LEN 1024

static char message[MESSAGE_LEN];

int dsc_fail(const char *fmt, ...)
{
    if (message[0] == '\0') {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(message, sizeof message, fmt, ap);
        va_end(ap);
        if (message[0] == '\0') snprintf(message, sizeof message, "unknown error");
    }
    return DSC_ERR;
}

const char *dsc_message(void) { return message; }

void dsc_clear(void) { message[0] = '\0'; }

int dsc_agree(MPI_Comm comm, int status)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    int mine = (status != DSC_OK) ? rank : size;
    int first = size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm);
    if (first == size) return DSC_OK;

    /* The lowest failing rank sends its message to rank 0, which prints it. */
    char text[MESSAGE_LEN];
    if (rank == first) {
        snprintf(text, sizeof text, "%s", message[0] ? message : "unknown error");
    }
    if (first != 0) {
        if (rank == first) MPI_Send(text, MESSAGE_LEN, MPI_CHAR, 0, 7341, comm);
        if (rank == 0) MPI_Recv(text, MESSAGE_LEN, MPI_CHAR, first, 7341, comm, MPI_STATUS_IGNORE);
    }
    if (rank == 0) {
        fprintf(stderr, "dsc: error: %s\n", text);
        fflush(stderr);
    }
    dsc_clear();
    return DSC_ERR;
}

void dsc_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("dsc: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    fflush(stderr);
}

void *dsc_malloc(size_t bytes, const char *what)
{
    void *p = malloc(bytes ? bytes : 1);
    if (!p) dsc_fail("out of memory allocating %zu bytes for %s; use more ranks or a smaller selection", bytes, what);
    return p;
}

void *dsc_calloc(size_t count, size_t size, const char *what)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) dsc_fail("out of memory allocating %zu x %zu bytes for %s; use more ranks or a smaller selection", count, size, what);
    return p;
}
