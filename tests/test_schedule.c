/*
 * test_schedule.c - the pre-training length of --pretrain-epochs auto
 * (train_auto_epochs): 20 epochs, or the fewest whole epochs that pass
 * 96,000 samples through the network on a short record.
 */
#include "train.h"
#include "tap.h"

static void expect(long long T, int want, const char *what)
{
    int got = train_auto_epochs(T);
    tap_check(got == want, "T = %lld (%s): %d epochs (want %d)", T, what, got, want);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    tap_init();
    expect(14610, 20, "40 years of days: 20 epochs are 292,200 samples");
    expect(4800, 20, "20 epochs are exactly 96,000 samples");
    expect(4799, 21, "20 epochs fall 20 samples short");
    expect(1095, 88, "3 years: 87.7 epochs rounded up");
    expect(365, 264, "1 year");
    expect(96000, 20, "one epoch is enough, the floor of 20 holds");
    expect(1, 96000, "a single time step");
    int rc = tap_finish();
    MPI_Finalize();
    return rc;
}
