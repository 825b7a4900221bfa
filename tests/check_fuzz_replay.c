/*
 * check_fuzz_replay.c - replays the saved inputs of a fuzz harness without
 * libFuzzer, so that `make check` runs them with any compiler (and under the
 * sanitizers or valgrind when the tree is built so).
 *
 * Built once per harness with FUZZ_TARGET naming it ("api", "npy"): with no
 * arguments it replays every file in $top_srcdir/tests/fuzz/FUZZ_TARGET/corpus
 * and .../regressions, in name order; with arguments, the files or
 * directories named.  The harness aborts on a broken property; the name of
 * the input being replayed is printed first.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz/fuzz.h"

#ifndef FUZZ_TARGET
#error "define FUZZ_TARGET, the harness's directory under tests/fuzz"
#endif

static char current[4096]; /* the input being replayed, for the crash message */

static void on_fatal(int sig)
{
    static const char head[] = "\ncheck_fuzz_replay: crashed on ";
    if (write(2, head, sizeof head - 1) < 0 || write(2, current, strlen(current)) < 0 ||
        write(2, "\n", 1) < 0) {
        /* nothing more to say */
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    unsigned char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            fprintf(stderr, "%s: out of memory\n", path);
            return -1;
        }
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap);
    }
    int err = ferror(f);
    fclose(f);
    if (err) {
        free(buf);
        fprintf(stderr, "%s: read error\n", path);
        return -1;
    }
    /* An exact-size copy, so that the harness's reads are checked against the
     * input's real end. */
    unsigned char *exact = malloc(len ? len : 1);
    if (!exact) {
        free(buf);
        return -1;
    }
    memcpy(exact, buf, len);
    free(buf);
    snprintf(current, sizeof current, "%s", path);
    LLVMFuzzerTestOneInput(exact, len);
    free(exact);
    return 0;
}

static int skip_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || (n > 3 && strcmp(name + n - 3, ".md") == 0);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file of dir, in name order; how many, or -1. */
static int replay_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "%s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (skip_name(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, cap * sizeof *names);
            if (!grown)
                break;
            names = grown;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    int count = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        if (names[i] && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            if (replay_file(path) == 0)
                count++;
            else
                failed = 1;
        }
        free(names[i]);
    }
    free(names);
    return failed ? -1 : count;
}

static int replay_path(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode))
        return replay_dir(path);
    return replay_file(path) == 0 ? 1 : -1;
}

int main(int argc, char **argv)
{
    signal(SIGABRT, on_fatal);
    signal(SIGSEGV, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGFPE, on_fatal);
    int total = 0;
    if (argc > 1) {
        for (int i = 1; i < argc; i++) {
            int n = replay_path(argv[i]);
            if (n < 0)
                return 1;
            total += n;
        }
    } else {
        const char *top = getenv("top_srcdir");
        static const char *const kinds[] = {"corpus", "regressions"};
        for (int i = 0; i < 2; i++) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", top ? top : ".", FUZZ_TARGET,
                     kinds[i]);
            struct stat st;
            if (i == 1 && stat(dir, &st) != 0) {
                printf("%s: none\n", dir); /* git keeps no empty directory */
                continue;
            }
            int n = replay_dir(dir);
            if (n < 0)
                return 1;
            printf("%s: replayed %d inputs\n", dir, n);
            total += n;
        }
        if (total == 0) {
            fprintf(stderr, "no saved inputs for the %s harness\n", FUZZ_TARGET);
            return 99;
        }
    }
    printf("%s: %d inputs replayed, all passed\n", FUZZ_TARGET, total);
    return 0;
}
