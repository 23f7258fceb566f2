/*
 * fuzz_labels.c - labels and truth CSV files (src/run/labels.c: labels_read,
 * labels_match), as dsc eval --truth and dsc train --truth read them.
 */
#include "fuzz_common.h"
#include "labels.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup(argc, argv, ".csv");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_write(data, size) != 0) return 0;
    label_table t;
    if (labels_read(MPI_COMM_SELF, fuzz_path, &t) == DSC_OK) {
        /* match the first labelled times, by second and by day */
        long long n = t.n < 8 ? t.n : 8;
        int out[8];
        double times[8];
        for (long long i = 0; i < n; i++) times[i] = t.hours[i];
        (void)labels_match(out, &t, fuzz_path, times, n, 0);
        dsc_clear();
        (void)labels_match(out, &t, fuzz_path, times, n, 1);
        labels_destroy(&t);
    }
    dsc_clear();
    return 0;
}
