/*
 * main.c - the dsc program: Deep Spatiotemporal Clustering of gridded
 * climate reanalysis.  Parses the subcommand and hands over; everything else
 * lives in the modules.
 *
 *   mpirun -n 4 dsc synth -o sample --years 1979-2020
 *   mpirun -n 4 dsc info sample/era5_*.nc
 *   mpirun -n 4 dsc train -k 7 -o run1 sample/era5_*.nc
 */
#include "blas_check.h"
#include "blas_env.h"
#include "cli.h"
#include "commands.h"
#include "status.h"
#include "config.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv, MPI_Comm comm);
    const char *summary;
    int blas; /* runs matrix products: warn first when the BLAS kernels are weaker than the CPU */
} subcommand;

static const subcommand subcommands[] = {
    {"synth", synth_command, "write the ERA5-like sample data set (one netCDF file per year, truth.csv)", 0},
    {"info", info_command, "show what the reader sees in a list of ERA5 netCDF files", 0},
    {"train", train_command, "train Deep Spatiotemporal Clustering and label every time step (the main job)", 1},
    {"kmeans", kmeans_command, "k-means on the normalised input (the baseline; with --anomalies the weather-regime standard)", 1},
    {"ward", ward_command, "agglomerative clustering with Ward's linkage (the hierarchical baseline; exact, T^2 memory)", 1},
    {"predict", predict_command, "label other years with a trained model", 1},
    {"eval", eval_command, "clustering metrics of a labelling (silhouette, Davies-Bouldin, RMSE, ARI, ...)", 1},
    {"compare", compare_command, "every method on the same data, once per seed, scored side by side (the paper's tables)", 1},
    {"bench", bench_command, "time training and inference of the network (samples/s, GFLOP/s)", 1},
};
static const int nsubcommands = (int)(sizeof subcommands / sizeof subcommands[0]);

static void print_usage(void)
{
    printf("Usage: dsc COMMAND [OPTIONS] [FILES...]\n\n"
           "Deep Spatiotemporal Clustering (CNN-LSTM autoencoder + Student-t clustering layer)\n"
           "of multi-year gridded climate data, in parallel with MPI.\n\nCommands:\n");
    for (int i = 0; i < nsubcommands; i++) printf("  %-8s %s\n", subcommands[i].name, subcommands[i].summary);
    printf("\nRun 'dsc COMMAND --help' for the options of a command (each with its default).\n"
           "  -h, --help     print this help\n  -V, --version  print the version\n");
}

static int asks_help(int argc, char **argv)
{
    for (int i = 2; i < argc; i++)
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) return 1;
    return 0;
}

/* The subcommand named by argv[1] when it multiplies matrices and is not asked for help. */
static int runs_blas(int argc, char **argv)
{
    if (argc < 2 || asks_help(argc, argv)) return 0;
    for (int i = 0; i < nsubcommands; i++)
        if (strcmp(argv[1], subcommands[i].name) == 0) return subcommands[i].blas;
    return 0;
}

int main(int argc, char **argv)
{
    /* before MPI_Init: a wrong BLAS kernel makes dsc start over on a weaker one */
    if (runs_blas(argc, argv) || getenv("DSC_BLAS_CHECK_ONLY")) blas_check_start(argv);
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int status = DSC_OK;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
        if (argc >= 3 && strcmp(argv[1], "help") == 0) {
            /* dsc help CMD == dsc CMD --help */
            char *help_argv[] = {argv[2], "--help", NULL};
            int found = 0;
            for (int i = 0; i < nsubcommands; i++)
                if (strcmp(argv[2], subcommands[i].name) == 0) {
                    subcommands[i].run(2, help_argv, MPI_COMM_WORLD);
                    found = 1;
                }
            if (!found)
                status = dsc_agree(MPI_COMM_WORLD, dsc_fail("dsc help: unknown command '%s'; run 'dsc --help' for the list of commands", argv[2]));
        } else if (rank == 0) {
            print_usage();
        }
        if (argc < 2) status = DSC_ERR;
    } else if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0) {
        if (rank == 0) printf("dsc %s\n", PACKAGE_VERSION);
    } else {
        const subcommand *sc = NULL;
        for (int i = 0; i < nsubcommands; i++)
            if (strcmp(argv[1], subcommands[i].name) == 0) sc = &subcommands[i];
        if (!sc) {
            status = dsc_agree(MPI_COMM_WORLD,
                               dsc_fail("unknown command '%s'; run 'dsc --help' for the list of commands", argv[1]));
        } else {
            if (sc->blas && !asks_help(argc, argv)) {
                status = blas_check_report(MPI_COMM_WORLD);
                if (status == DSC_OK && rank == 0) blas_check_warn_core();
            }
            if (status == DSC_OK) status = sc->run(argc - 1, argv + 1, MPI_COMM_WORLD);
            if (status == CLI_HELP) status = DSC_OK;
        }
    }
    MPI_Finalize();
    return status == DSC_OK ? 0 : status == DSC_STOPPED ? 3 : 1;
}
