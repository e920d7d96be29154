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

// SIGINT while a library call runs (the Python package's fit): caught into a flag, the
// caller's handler (Python's) put back when the last such call ends.
#include <pthread.h>

static volatile sig_atomic_t interrupted = 0;
static struct sigaction caller_action;
static int interrupt_depth = 0;
static pthread_mutex_t interrupt_lock = PTHREAD_MUTEX_INITIALIZER;

static void remember_interrupt(int signal_number) {
    (void)signal_number;
    interrupted = 1;
}

void sprig_catch_interrupt(void) {
    pthread_mutex_lock(&interrupt_lock);
    if (interrupt_depth++ == 0) {
        struct sigaction action;
        memset(&action, 0, sizeof action);
        action.sa_handler = remember_interrupt;
        action.sa_flags = SA_RESTART;
        sigemptyset(&action.sa_mask);
        interrupted = 0;
        sigaction(SIGINT, &action, &caller_action);
    }
    pthread_mutex_unlock(&interrupt_lock);
}

int sprig_release_interrupt(void) {
    pthread_mutex_lock(&interrupt_lock);
    int received = interrupted;
    if (interrupt_depth > 0 && --interrupt_depth == 0) {
        sigaction(SIGINT, &caller_action, NULL);
        interrupted = 0;
    }
    pthread_mutex_unlock(&interrupt_lock);
    return received;
}

int sprig_interrupt_received(void) { return interrupted; }
