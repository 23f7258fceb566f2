/*
 * blas_check.h - a BLAS that is fast and right.
 *
 * Older OpenBLAS builds compute wrong matrix products (or crash) with the
 * kernels they pick for some new processors; sites then force a kernel with
 * OPENBLAS_CORETYPE.  dsc checks before it starts: a few single-precision
 * products whose shapes reach the kernels' edge and packing paths (1 to 259
 * rows, every transpose), on small integers so that every exact result is
 * representable and any difference is a wrong kernel, not rounding.
 *
 * When OpenBLAS's kernels fail it, dsc starts itself again (execv, before
 * MPI_Init) with OPENBLAS_CORETYPE set to the next weaker family (AVX-512 ->
 * HASWELL -> SANDYBRIDGE -> PRESCOTT) until one passes, and rank 0 says so in
 * one warning; when none passes, or the BLAS is not OpenBLAS, every rank
 * stops with one error.  The faster kernel that blas_check_warn_core advises is
 * checked the same way first, in a child process (dsc with
 * DSC_BLAS_CHECK_ONLY set runs the check and exits 0 or 1), and is advised
 * only when it passes.
 *
 * Fault injection for the tests: DSC_FAULT_BLAS_WRONG=CORE[,CORE...] (or
 * "all") makes the check see a wrong product under those OpenBLAS cores.
 */
#ifndef DSC_BLAS_CHECK_H
#define DSC_BLAS_CHECK_H

#include <mpi.h>
#include <stddef.h>

/* 1 when this BLAS's sgemm matches the reference on every shape; else 0 and
 * detail receives the first difference. */
int blas_check_sgemm(char *detail, size_t len);

/* Before MPI_Init, in every process of a command that multiplies matrices:
 * the check, and a start-over with a weaker OpenBLAS kernel when it fails
 * (does not return then).  Also the child mode DSC_BLAS_CHECK_ONLY (exits). */
void blas_check_start(char **argv);

/* Collective, after MPI_Init: rank 0 warns once when dsc fell back to a
 * weaker kernel; DSC_ERR (agreed, one error) when the BLAS is wrong and no
 * kernel is left to try. */
int blas_check_report(MPI_Comm comm);

/* Whether OpenBLAS's kernels for coretype pass the check here: 1 yes, 0 no,
 * -1 could not tell (the child could not run).  Runs dsc in a child process. */
int blas_check_coretype(const char *coretype);

/* Prints one "dsc: warning:" line with the fix when the core is weaker than
 * the CPU and the fix passes the check (call on one rank).  Returns 1 when it
 * warned. */
int blas_check_warn_core(void);

/* The kernel dsc fell back from ("" when it did not). */
const char *blas_check_fallback_from(void);

#endif
