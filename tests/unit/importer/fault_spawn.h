/* Starts fault_server.py (FAULT_SERVER) in a mode; returns its port, or -1. The server
 * exits when *stdin_fd is closed; the caller also kills and reaps *pid. */
#ifndef IAS_TEST_FAULT_SPAWN_H
#define IAS_TEST_FAULT_SPAWN_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static int fault_spawn(const char *mode, pid_t *pid, int *stdin_fd)
{
    int in[2], out[2];
    if (pipe(in) || pipe(out))
        return -1;
    *pid = fork();
    if (*pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execlp("python3", "python3", FAULT_SERVER, mode, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    *stdin_fd = in[1];
    /* the whole line: a read may be interrupted or return it in pieces */
    char line[32] = {0};
    size_t got = 0;
    while (got < sizeof line - 1 && !memchr(line, '\n', got)) {
        ssize_t n = read(out[0], line + got, sizeof line - 1 - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(out[0]);
    int port = got ? atoi(line) : 0;
    return port > 0 ? port : -1;
}

#endif
