#include <cblas.h>
// OpenBLAS extension: the number of threads BLAS calls may use.
void openblas_set_num_threads(int num_threads);
// OpenBLAS extension: the name of the kernel family it selected at load time.
char *openblas_get_corename(void);
