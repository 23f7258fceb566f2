/*
 * run_common.h - everything the commands share about a run, one header per
 * concept: the options (run_options.h), the output folder (run_folder.h),
 * the input and --truth (run_input.h), gathers of per-time-step results
 * (run_gather.h) and the normalisation in a checkpoint (run_stats_blob.h).
 */
#ifndef DSC_RUN_COMMON_H
#define DSC_RUN_COMMON_H

#include "run_folder.h"
#include "run_gather.h"
#include "run_input.h"
#include "run_options.h"
#include "run_stats_blob.h"

#endif
