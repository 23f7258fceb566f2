#include "commands.h"
#include "status.h"
int info_command(int argc, char **argv, MPI_Comm comm)
{
    (void)argc; (void)argv;
    return dsc_agree(comm, dsc_fail("dsc info is not available yet"));
}
