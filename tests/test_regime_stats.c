/*
 * test_regime_stats.c - regime life-cycle statistics (src/metrics/regime_stats.c)
 * on a labelling worked out by hand: episodes cut at a segment start, medians of
 * odd and even counts, transitions only inside segments, monthly shares, and
 * durations in days at two steps a day.
 */
#include "regime_stats.h"
#include "status.h"
#include "tap.h"

#include <math.h>

static int near(double a, double b) { return fabs(a - b) < 1e-12; }

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    /* segment 1: 0 0 1 1 1 0 2 2   segment 2: 2 2 */
    const int labels[10] = {0, 0, 1, 1, 1, 0, 2, 2, 2, 2};
    const int month[10] = {1, 1, 1, 1, 1, 2, 2, 2, 2, 2};
    const long long seg[2] = {0, 8};
    regime_stats st;
    tap_check(regime_stats_compute(&st, labels, month, 10, 3, seg, 2, 1) == DSC_OK, "computed");
    tap_check(st.episodes[0] == 2 && st.episodes[1] == 1 && st.episodes[2] == 2 && st.total_episodes == 5,
              "episodes 2, 1, 2 (the run of 2s split by the segment start): %lld %lld %lld", st.episodes[0],
              st.episodes[1], st.episodes[2]);
    tap_check(near(st.mean_duration[0], 1.5) && near(st.mean_duration[1], 3) && near(st.mean_duration[2], 2),
              "mean durations 1.5, 3, 2 days");
    tap_check(near(st.median_duration[0], 1.5) && near(st.median_duration[1], 3) && near(st.median_duration[2], 2),
              "median durations 1.5 (even count), 3, 2 days");
    tap_check(near(st.all_mean_duration, 2) && near(st.all_median_duration, 2), "all episodes: mean 2, median 2 days");
    const long long tr[9] = {1, 1, 1, 1, 2, 0, 0, 0, 2};
    int same = 1;
    for (int i = 0; i < 9; i++) same &= st.transitions[i] == tr[i];
    tap_check(same, "transitions counted inside segments only (no 2 -> 2 across the segment start)");
    tap_check(near(st.frequency[0], 0.4) && near(st.frequency[1], 0.6) && near(st.frequency[2], 0) &&
                  near(st.frequency[3], 0.2) && near(st.frequency[4], 0) && near(st.frequency[5], 0.8),
              "monthly shares: January 0.4 0.6 0, February 0.2 0 0.8");
    tap_check(isnan(st.frequency[2 * 3]) && isnan(st.frequency[11 * 3 + 2]), "months without steps: NaN");
    regime_stats_destroy(&st);

    regime_stats_compute(&st, labels, month, 10, 3, NULL, 0, 2);
    tap_check(st.episodes[2] == 1 && near(st.mean_duration[2], 2) && near(st.mean_duration[1], 1.5) &&
                  st.transitions[2 * 3 + 2] == 3,
              "one segment, two steps a day: the 2s one episode of 2 days, the 1s 1.5 days");
    regime_stats_destroy(&st);

    const int one[1] = {1}, jan[1] = {1};
    regime_stats_compute(&st, one, jan, 1, 2, NULL, 0, 1);
    tap_check(st.episodes[0] == 0 && isnan(st.mean_duration[0]) && st.episodes[1] == 1 && near(st.median_duration[1], 1),
              "one step: one episode of one day; a regime never seen: no episode, NaN durations");
    regime_stats_destroy(&st);
    int status = tap_finish();
    MPI_Finalize();
    return status;
}
