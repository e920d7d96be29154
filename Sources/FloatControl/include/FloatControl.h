// Subnormal floats slow sparse training 3-10x at high sparsity (Nerva's measurement).
// MXCSR is per thread: call this on every thread that runs kernels.
#pragma once
void sprig_flush_subnormals_to_zero(void);
int sprig_subnormals_flushed(void);
