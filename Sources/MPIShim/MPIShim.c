#include "MPIShim.h"

MPI_Comm sprig_mpi_comm_world(void) { return MPI_COMM_WORLD; }
MPI_Datatype sprig_mpi_float(void) { return MPI_FLOAT; }
MPI_Datatype sprig_mpi_double(void) { return MPI_DOUBLE; }
MPI_Datatype sprig_mpi_uint64(void) { return MPI_UINT64_T; }
MPI_Datatype sprig_mpi_byte(void) { return MPI_BYTE; }
MPI_Op sprig_mpi_op_sum(void) { return MPI_SUM; }
MPI_Op sprig_mpi_op_max(void) { return MPI_MAX; }
MPI_Errhandler sprig_mpi_errors_return(void) { return MPI_ERRORS_RETURN; }
void *sprig_mpi_in_place(void) { return MPI_IN_PLACE; }
MPI_Request sprig_mpi_request_null(void) { return MPI_REQUEST_NULL; }
MPI_Status *sprig_mpi_status_ignore(void) { return MPI_STATUS_IGNORE; }
int sprig_mpi_success(void) { return MPI_SUCCESS; }
int sprig_mpi_thread_funneled(void) { return MPI_THREAD_FUNNELED; }
int sprig_mpi_max_error_string(void) { return MPI_MAX_ERROR_STRING; }
