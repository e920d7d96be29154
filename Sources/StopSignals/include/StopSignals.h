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

// SIGINT (Ctrl-C) during a library call: from sprig_catch_interrupt until the matching
// sprig_release_interrupt, SIGINT only sets a flag (calls may nest, from several threads; the
// caller's own handler is put back when the last one ends). sprig_release_interrupt returns
// whether a SIGINT came meanwhile.
void sprig_catch_interrupt(void);
int sprig_release_interrupt(void);
// Whether a SIGINT came since the outermost sprig_catch_interrupt.
int sprig_interrupt_received(void);
