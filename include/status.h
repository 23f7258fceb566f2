/*
 * status.h - error reporting that keeps every rank in step.
 *
 * A function that fails records one message with dsc_fail() and returns
 * DSC_ERR.  Before the next collective operation all ranks call
 * dsc_agree(comm, status): if any rank failed, every rank gets DSC_ERR back
 * and rank 0 prints the message of the lowest failing rank as one line
 *     dsc: error: <what was wrong with which file or option>; <what to do>
 * so that one rank's bad file never leaves the others waiting in a collective.
 */
#ifndef DSC_STATUS_H
#define DSC_STATUS_H

#include <mpi.h>

enum { DSC_OK = 0, DSC_ERR = 1 };
/* A run stopped on request (SIGTERM, SIGUSR1) after writing its checkpoint:
 * the program exits with this status (3) so job scripts can requeue. */
enum { DSC_STOPPED = 3 };

/* Records a printf-style message for this rank (the first one wins until
 * dsc_agree() or dsc_clear() consumes it) and returns DSC_ERR. */
int dsc_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Message recorded on this rank, "" if none. */
const char *dsc_message(void);
void dsc_clear(void);

/* Collective over comm.  Returns DSC_ERR on every rank if status != DSC_OK on
 * any rank; rank 0 of comm then prints the lowest failing rank's message to
 * stderr.  Returns DSC_OK otherwise. */
int dsc_agree(MPI_Comm comm, int status);

/* Prints a warning line "dsc: warning: ..." (call on one rank only). */
void dsc_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Checked allocation: on failure records "out of memory allocating N bytes
 * for WHAT" and returns NULL. */
void *dsc_malloc(size_t bytes, const char *what);
void *dsc_calloc(size_t count, size_t size, const char *what);

#endif
