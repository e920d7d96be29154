// MPI's predefined handles (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, ...) are macros over
// implementation-specific globals that Swift cannot import; these functions expose them.
#pragma once
#include <mpi.h>

MPI_Comm sprig_mpi_comm_world(void);
MPI_Datatype sprig_mpi_float(void);
MPI_Datatype sprig_mpi_double(void);
MPI_Datatype sprig_mpi_uint64(void);
MPI_Datatype sprig_mpi_byte(void);
MPI_Op sprig_mpi_op_sum(void);
MPI_Op sprig_mpi_op_max(void);
MPI_Errhandler sprig_mpi_errors_return(void);
void *sprig_mpi_in_place(void);
MPI_Request sprig_mpi_request_null(void);
MPI_Status *sprig_mpi_status_ignore(void);
int sprig_mpi_success(void);
int sprig_mpi_thread_funneled(void);
int sprig_mpi_max_error_string(void);
