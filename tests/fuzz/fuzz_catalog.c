/*
 * fuzz_catalog.c - the netCDF catalog (src/data/era5_catalog.c, src/data/cf_time.c):
 * header, dimensions and their sizes, variable names and aliases,
 * attributes (units, calendar, scale_factor, add_offset, _FillValue,
 * missing_value), coordinate values, as dsc info / train read a file.
 *
 * The input is a whole netCDF file (classic, 64-bit offset or CDF-5); the
 * seeds are the test files of tests/data, so most mutations change a value,
 * a name, a size or an attribute text of an otherwise valid header.  Each
 * input is opened twice: all variables, and with a box, a time range and
 * daily means.  The first bytes choose the library (nc_file_sniff): seeds
 * with the HDF5 signature (at 0, and after a 512-byte user block) fuzz that
 * choice; the fuzz build has no netcdf-c, so HDF5 files end at the
 * conversion hint and HDF5 itself is not fuzzed (doc/robustness.md).
 */
#include "era5_catalog.h"
#include "fuzz_common.h"

#include <pnetcdf.h>

/* PnetCDF and MPI-IO set up their components on the first file: done
 * here, on a small file of our own, with leak detection off (see
 * fuzz_setup). */
static void warm_up(void)
{
    __lsan_disable();
    int nc, dim, var;
    if (ncmpi_create(MPI_COMM_SELF, fuzz_path, NC_CLOBBER, MPI_INFO_NULL, &nc) == NC_NOERR) {
        ncmpi_def_dim(nc, "time", 2, &dim);
        ncmpi_def_var(nc, "time", NC_DOUBLE, 1, &dim, &var);
        ncmpi_put_att_text(nc, var, "units", 20, "hours since 1900-1-1");
        ncmpi_enddef(nc);
        ncmpi_close(nc);
        char *paths[1] = {fuzz_path};
        era5_options opt;
        memset(&opt, 0, sizeof opt);
        era5_catalog cat;
        if (era5_catalog_open(MPI_COMM_SELF, paths, 1, &opt, &cat) == DSC_OK) era5_catalog_destroy(&cat);
        dsc_clear();
    }
    __lsan_enable();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fuzz_setup(argc, argv, ".nc");
    warm_up();
    return 0;
}

static void open_once(const era5_options *opt)
{
    char *paths[1] = {fuzz_path};
    era5_catalog cat;
    memset(&cat, 0, sizeof cat);
    if (era5_catalog_open(MPI_COMM_SELF, paths, 1, opt, &cat) == DSC_OK) era5_catalog_destroy(&cat);
    dsc_clear();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1 << 20) || fuzz_write(data, size) != 0) return 0;
    era5_options opt;
    memset(&opt, 0, sizeof opt);
    open_once(&opt);
    opt.has_box = 1;
    opt.lat_min = 50;
    opt.lat_max = 60;
    opt.lon_min = -10;
    opt.lon_max = 5;
    opt.has_start = opt.has_end = 1;
    opt.start = (dsc_datetime){2000, 1, 1, 0, 0, 0};
    opt.end = (dsc_datetime){2030, 12, 31, 23, 59, 59};
    opt.daily_mean = 1;
    open_once(&opt);
    return 0;
}
