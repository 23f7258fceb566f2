/*
 * persistence_option.h - --persistence Nd of dsc train and dsc predict: a
 * mean episode length in days, and the regime chain it gives on the data a
 * run reads (clustering_persistent.h): the switch probability per time step
 * of these data and the record's segments (a gap ends an episode).
 */
#ifndef DSC_PERSISTENCE_OPTION_H
#define DSC_PERSISTENCE_OPTION_H

#include "clustering_persistent.h"
#include "run_skeleton.h"

/* Local: text "0" (days 0: none) or "Nd" with N > 0; else a one-line error of
 * dsc COMMAND naming the option. */
int persistence_option_days(const char *command, const char *text, double *days);

/* Collective: the chain of a mean episode of days (> 0) in the time steps of
 * r's input (at least two of them, or an error of dsc COMMAND), its penalty
 * left to be chosen (-1); *segments receives the record's segment starts,
 * which c points to (the caller frees them). */
int persistence_option_chain(const run_state *r, const char *command, double days, regime_chain *c, long long **segments);

/* Collective: the record's segment starts (*nseg of them, the first 0) of
 * the files r read, into *segments (the caller frees them). */
int persistence_option_segments(const run_state *r, long long **segments, int *nseg);

#endif
