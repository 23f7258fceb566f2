/*
 * train_signals.c - the flag that SIGTERM and SIGUSR1 set (see
 * train_signals.h); the loop reads it once per step.
 */
#include "train_signals.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t stop_requested = 0;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

void train_catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
}

int train_stop_requested(void) { return stop_requested; }
