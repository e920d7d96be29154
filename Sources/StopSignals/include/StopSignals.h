// Termination signals caught into a flag, so that a training run can stop between steps and
// write a final checkpoint (Slurm's scancel, a job's time limit and a requeue send SIGTERM; a
// batch script's `#SBATCH --signal=USR1@120` sends SIGUSR1 ahead of the limit). Swift cannot
// write a signal handler that is async-signal-safe; this one only stores the signal's number.
#pragma once

// Installs the handler for SIGTERM and SIGUSR1 (SA_RESTART, so system calls and MPI's
// progress carry on). Later signals of either kind only store their number again.
void sprig_catch_stop_signals(void);

// The number of the first stop signal received since sprig_catch_stop_signals, or 0.
int sprig_stop_signal(void);
