#include "StopSignals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t received = 0;

static void remember(int signal_number) {
    if (received == 0) received = signal_number;
}

void sprig_catch_stop_signals(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = remember;
    action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGUSR1, &action, NULL);
}

int sprig_stop_signal(void) { return received; }
