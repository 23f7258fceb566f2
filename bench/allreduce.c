/*
 * allreduce.c - the time of one MPI_Allreduce (sum) of the gradient buffer of
 * the paper's network (19,405,383 floats, 78 MB), as dsc train does once per
 * joint step; best and mean of 10 after 2 untimed.  With CHUNK, the buffer is
 * reduced in pieces of CHUNK floats, as model_allreduce_gradients does
 * (1048576 floats = 4 MB).  Not built by make:
 *
 *   mpicc -O2 -o allreduce bench/allreduce.c && mpirun -n 2 ./allreduce [FLOATS [CHUNK]]
 */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 19405383;
    if (n == 0 || n > 1u << 30) n = 19405383;
    size_t chunk = argc > 2 ? (size_t)strtoull(argv[2], NULL, 10) : n;
    if (chunk == 0 || chunk > n) chunk = n;
    float *g = malloc(n * sizeof(float));
    if (!g) MPI_Abort(MPI_COMM_WORLD, 1);
    for (size_t i = 0; i < n; i++) g[i] = 1e-3f * (float)(i % 1000);
    double best = 1e9, sum = 0;
    for (int it = 0; it < 12; it++) {
        MPI_Barrier(MPI_COMM_WORLD);
        double t = MPI_Wtime();
        for (size_t at = 0; at < n; at += chunk)
            MPI_Allreduce(MPI_IN_PLACE, g + at, (int)(n - at < chunk ? n - at : chunk), MPI_FLOAT, MPI_SUM,
                          MPI_COMM_WORLD);
        t = MPI_Wtime() - t;
        if (it >= 2) {
            sum += t;
            if (t < best) best = t;
        }
    }
    if (rank == 0)
        printf("allreduce of %zu floats (%.0f MB) in pieces of %zu: best %.1f ms, mean %.1f ms\n", n, (double)n * 4 / 1e6,
               chunk, best * 1e3, sum / 10 * 1e3);
    free(g);
    MPI_Finalize();
    return 0;
}
