/*
 * persistence_option.c - --persistence Nd of dsc train and dsc predict (see
 * persistence_option.h).
 */
#include "persistence_option.h"
#include "run_regimes.h"
#include "sample_exchange.h"
#include "status.h"

#include <math.h>
#include <stdlib.h>

int persistence_option_days(const char *command, const char *text, double *days)
{
    char *end = NULL;
    double v = text ? strtod(text, &end) : NAN;
    int ok = end && end != text && isfinite(v) &&
             ((v == 0 && *end == '\0') || (v > 0 && v <= 1e6 && (*end == 'd' || *end == 'D') && end[1] == '\0'));
    if (!ok)
        return dsc_fail("dsc %s: option --persistence: '%s' is not 0 or a mean episode length in days such as 5d", command,
                        text ? text : "");
    *days = v;
    return DSC_OK;
}

int persistence_option_segments(const run_state *r, long long **segments, int *nseg)
{
    const long long n = sample_segment_count();
    *segments = dsc_malloc((size_t)n * sizeof(long long), "record segments");
    if (dsc_agree(r->comm, *segments ? DSC_OK : DSC_ERR) != DSC_OK) return DSC_ERR;
    sample_segment_starts(*segments);
    *nseg = (int)n;
    return DSC_OK;
}

int persistence_option_chain(const run_state *r, const char *command, double days, regime_chain *c, long long **segments)
{
    const double step_hours = run_regimes_step_hours(&r->in.cat, r->p->eo.daily_mean);
    const double steps = days * 24.0 / (step_hours > 0 ? step_hours : 24.0);
    int status = DSC_OK, nseg = 0;
    if (!(steps >= 2))
        status = dsc_fail("dsc %s: option --persistence %gd: %.3g time steps of %g hours; give a mean episode of at least two "
                          "time steps (%gd)", command, days, steps, step_hours, 2 * step_hours / 24);
    if ((status = dsc_agree(r->comm, status)) != DSC_OK) return status;
    if (persistence_option_segments(r, segments, &nseg) != DSC_OK) return DSC_ERR;
    *c = (regime_chain){.switch_prob = 1.0 / steps, .penalty = -1, .seg_start = *segments, .nseg = nseg};
    return DSC_OK;
}
