// Reads files start to end the two ways a merge can read its inputs, and prints the time of each:
//   pread  positional reads of 8 MiB into one reused buffer (what Amalgam does since issue 14)
//   mmap   one read-only mapping per file, every 64-byte line touched, 8 MiB at a time, pages dropped behind
//          (MADV_DONTNEED) as the mapped reader did before
// Built and run by benchmarks/read-path.sh; each line is "<way> <seconds>".
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: read-paths pread|mmap FILE...\n");
    return 2;
  }
  const long chunk = 8L << 20;
  int use_mmap = argv[1][0] == 'm';
  char *buffer = aligned_alloc(4096, chunk);
  volatile long sink = 0;
  double start = now();
  for (int f = 2; f < argc; f++) {
    int fd = open(argv[f], O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
      perror(argv[f]);
      return 1;
    }
    long n = st.st_size;
    char *mapped = use_mmap ? mmap(NULL, n, PROT_READ, MAP_SHARED, fd, 0) : NULL;
    for (long at = 0; at < n; at += chunk) {
      long c = n - at < chunk ? n - at : chunk;
      const char *p = buffer;
      if (use_mmap) {
        p = mapped + at;
      } else if (pread(fd, buffer, c, at) != c) {
        perror("pread");
        return 1;
      }
      long s = 0;
      for (long i = 0; i < c; i += 64) s += p[i];
      sink += s;
      if (use_mmap) madvise(mapped + at, c, MADV_DONTNEED);
    }
    if (use_mmap) munmap(mapped, n);
    close(fd);
  }
  printf("%s %.3f\n", use_mmap ? "mmap" : "pread", now() - start);
  return sink == 42 ? 0 : 0;
}
