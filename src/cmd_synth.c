#include "commands.h"
#include "status.h"
int synth_command(int argc, char **argv, MPI_Comm comm)
{
    (void)argc; (void)argv;
    return dsc_agree(comm, dsc_fail("dsc synth is not available yet"));
}
