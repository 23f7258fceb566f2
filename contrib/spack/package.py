# Spack recipe for dsc (Deep Spatiotemporal Clustering of climate reanalysis).
# Copy into a Spack repository as packages/dsc/package.py (see doc/install.md).
# Not exercised by the dsc test suite.

from spack.package import *


class Dsc(AutotoolsPackage):
    """Deep Spatiotemporal Clustering (CNN-LSTM autoencoder + Student-t
    clustering layer) of gridded climate reanalysis such as ERA5, in C with
    MPI, PnetCDF, netcdf-c (parallel HDF5), OpenBLAS and OpenMP."""

    homepage = "https://example.org/dsc"
    # A release tarball made by `make dist`: point url at the site's copy and
    # give its sha256 (`spack checksum dsc` prints it).
    url = "file:///path/to/dsc-0.1.0.tar.gz"

    license("MIT")

    version("0.1.0")

    depends_on("c", type="build")
    depends_on("pkgconfig", type="build")
    depends_on("mpi")
    depends_on("parallel-netcdf")
    # netCDF-4/HDF5 input (new CDS, NCAR RDA) through netcdf-c's parallel API
    variant("netcdf4", default=True, description="read netCDF-4/HDF5 files with netcdf-c over parallel HDF5")
    depends_on("netcdf-c+mpi", when="+netcdf4")
    depends_on("hdf5+mpi", when="+netcdf4")
    depends_on("blas")
    # dsc calls cblas_sgemm from OpenMP regions: an OpenMP OpenBLAS does not
    # start threads of its own on top of them.
    depends_on("openblas threads=openmp", when="^[virtuals=blas] openblas")

    def configure_args(self):
        spec = self.spec
        pnetcdf = spec["parallel-netcdf"]
        blas = spec["blas"]
        return [
            "MPICC={0}".format(spec["mpi"].mpicc),
            "PNETCDF_CFLAGS=-I{0}".format(pnetcdf.prefix.include),
            "PNETCDF_LIBS={0}".format(pnetcdf.libs.ld_flags),
            "BLAS_CFLAGS={0}".format(blas.headers.include_flags),
            "BLAS_LIBS={0}".format(blas.libs.ld_flags),
            "DSC_MPI={0} {1}".format(spec["mpi"].name, spec["mpi"].version),
            "DSC_BLAS={0} {1}".format(blas.name, blas.version),
        ] + self.netcdf4_args()

    def netcdf4_args(self):
        if "+netcdf4" not in self.spec:
            return ["--without-netcdf4"]
        netcdf = self.spec["netcdf-c"]
        return [
            "--with-netcdf4",
            "NETCDF4_CFLAGS=-I{0}".format(netcdf.prefix.include),
            "NETCDF4_LIBS={0}".format(netcdf.libs.ld_flags),
        ]

    def setup_run_environment(self, env):
        env.set("DSC_ROOT", self.prefix)
        env.prepend_path("MANPATH", self.prefix.share.man)
