#include "MPIShim.h"

MPI_Comm sprig_mpi_comm_world(void) { return MPI_COMM_WORLD; }
MPI_Datatype sprig_mpi_float(void) { return MPI_FLOAT; }
MPI_Datatype sprig_mpi_double(void) { return MPI_DOUBLE; }
MPI_Datatype sprig_mpi_int64(void) { return MPI_INT64_T; }
MPI_Datatype sprig_mpi_byte(void) { return MPI_BYTE; }
MPI_Op sprig_mpi_op_sum(void) { return MPI_SUM; }
MPI_Op sprig_mpi_op_max(void) { return MPI_MAX; }
MPI_Request sprig_mpi_request_null(void) { return MPI_REQUEST_NULL; }
MPI_Status *sprig_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
int sprig_mpi_success(void) { return MPI_SUCCESS; }
