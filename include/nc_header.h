/*
 * nc_header.h - a walk through the header of a netCDF classic, 64-bit
 * offset or CDF-5 file before PnetCDF parses it.
 *
 * PnetCDF allocates what a header's counts ask for (dimensions of a
 * variable, attributes, name and value lengths) before it reads them, and
 * does not check every allocation: a damaged count can crash it.  This walk
 * reads the header as the format specification describes it and refuses one
 * whose counts, names, types or dimension ids do not fit in the file, so
 * every allocation PnetCDF then makes is bounded by the file size.
 */
#ifndef DSC_NC_HEADER_H
#define DSC_NC_HEADER_H

#include <stddef.h>
#include <stdio.h>

/* fp: the file, positioned anywhere; size: its size in bytes.  Returns 0
 * when the header is well formed (*header_end, when not NULL, gets its
 * length in bytes), -1 otherwise with a short reason in why[0..len)
 * ("variable 3 claims 1694564352 dimensions; the 412 bytes left hold at
 * most 17").  Only the header is read. */
int nc_header_check(FILE *fp, long long size, long long *header_end, char *why, size_t len);

#endif
