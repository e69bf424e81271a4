/*
 * bench: what it costs to create a task, let it exit, and reap (or join) it.
 *
 *   bench [--iterations N] [--warmup N] [--rounds R] [--pin-cpu C] [--mechanism NAME]... [--fork-mib MIB]...
 *
 * Mechanisms: fork, vfork, posix_spawn (of this program with --noop, which
 * exits at once), clone-fork (raw clone, exit signal only), clone-vm (clone
 * with CLONE_VM and a stack of its own), clone-thread (the thread flag set,
 * joined through CLONE_CHILD_CLEARTID), pthread (pthread_create + join).
 * Timed inside the probe with CLOCK_MONOTONIC, one sample per create-to-reap,
 * warm-up excluded; one "bench" record per mechanism with median, p10, p90
 * (ns) and ops/s.
 * --fork-mib M: fork with M MiB of the parent's memory touched first (one
 * "forkMemory" record each): the page-table copy a thread avoids.
 *
 * For medians that repeat from run to run: the mechanisms take turns in R
 * rounds (a disturbance hits all of them alike, not one), and --pin-cpu
 * keeps the probe and every task it makes on one CPU (sched_setaffinity is
 * inherited), so a cross-CPU wake-up is not part of one sample and not
 * another's.
 */
#include "clonelab.h"
#include <pthread.h>
#include <spawn.h>

extern char **environ;
#define STACK_SIZE (64 * 1024)
static char *stack_base;
static char self[4096];

static long long now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int child_exit(void *arg)
{
	(void)arg;
	return 0;
}
static void *thread_exit(void *arg)
{
	return arg;
}

static void one(const char *m)
{
	int st;
	if (strcmp(m, "fork") == 0) {
		pid_t p = fork();
		if (p == 0)
			_exit(0);
		if (p < 0 || waitpid(p, &st, 0) < 0)
			cl_die("fork");
	} else if (strcmp(m, "vfork") == 0) {
		pid_t p = vfork();
		if (p == 0)
			_exit(0);
		if (p < 0 || waitpid(p, &st, 0) < 0)
			cl_die("vfork");
	} else if (strcmp(m, "posix_spawn") == 0) {
		pid_t p;
		char *argv[] = {self, "--noop", NULL};
		if (posix_spawn(&p, self, NULL, NULL, argv, environ) != 0 ||
		    waitpid(p, &st, 0) < 0)
			cl_die("posix_spawn");
	} else if (strcmp(m, "clone-fork") == 0) {
		long p = cl_clone_forklike(SIGCHLD, NULL, NULL);
		if (p == 0)
			_exit(0);
		if (p < 0 || waitpid((pid_t)p, &st, 0) < 0)
			cl_die("clone");
	} else if (strcmp(m, "clone-vm") == 0) {
		long p = clone(child_exit, stack_base + STACK_SIZE,
			       CLONE_VM | SIGCHLD, NULL);
		if (p < 0 || waitpid((pid_t)p, &st, 0) < 0)
			cl_die("clone-vm");
	} else if (strcmp(m, "clone-thread") == 0) {
		static pid_t ctid;
		ctid = -1;
		long p = clone(child_exit, stack_base + STACK_SIZE,
			       CLONE_VM | CLONE_FS | CLONE_FILES |
				       CLONE_SIGHAND | CLONE_THREAD |
				       CLONE_SYSVSEM | CLONE_CHILD_CLEARTID,
			       NULL, NULL, NULL, &ctid);
		if (p < 0)
			cl_die("clone-thread");
		cl_join_cleartid(&ctid);
	} else if (strcmp(m, "pthread") == 0) {
		pthread_t t;
		if (pthread_create(&t, NULL, thread_exit, NULL) != 0)
			cl_die("pthread_create");
		pthread_join(t, NULL);
	} else {
		cl_usage("bench: unknown mechanism '%s'", m);
	}
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return (x > y) - (x < y);
}

struct series {
	const char *name, *mechanism;
	long long mib;
	long long *samples;
	int n, cap;
	long long total;
};

static void run_into(struct series *sr, int count)
{
	long long t0 = now_ns();
	for (int i = 0; i < count && sr->n < sr->cap; i++) {
		long long s0 = now_ns();
		one(sr->mechanism);
		sr->samples[sr->n++] = now_ns() - s0;
	}
	sr->total += now_ns() - t0;
}

static void report(struct series *sr)
{
	int n = sr->n;
	qsort(sr->samples, (size_t)n, sizeof(long long), cmp_ll);
	cl_begin(CL_REC, sr->name);
	cl_str(CL_REC, "mechanism", sr->mechanism);
	if (sr->mib >= 0)
		cl_int(CL_REC, "mib", sr->mib);
	cl_int(CL_REC, "iterations", n);
	cl_int(CL_REC, "medianNs", sr->samples[n / 2]);
	cl_int(CL_REC, "p10Ns", sr->samples[n / 10]);
	cl_int(CL_REC, "p90Ns", sr->samples[(n * 9) / 10]);
	cl_int(CL_REC, "opsPerSec",
	       (long long)((double)n * 1e9 / (double)sr->total));
	cl_end(CL_REC);
	free(sr->samples);
}

static struct series new_series(const char *name, const char *mechanism, int n,
				long long mib)
{
	struct series sr = {name, mechanism,
			    mib,  malloc(sizeof(long long) * (size_t)n),
			    0,    n,
			    0};
	if (!sr.samples)
		cl_die("malloc");
	return sr;
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--noop") == 0)
		return 0; /* the trivial program posix_spawn runs */
	cl_setup();
	int n = 1000, warmup = 100, rounds = 5, pin = -1;
	const char *mechanisms[16];
	int nm = 0;
	long long mibs[8];
	int nmib = 0;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			cl_usage("bench: %s needs a value", argv[i]);
		if (strcmp(argv[i], "--iterations") == 0)
			n = (int)cl_arg_long("--iterations", v, 10, 1000000);
		else if (strcmp(argv[i], "--warmup") == 0)
			warmup = (int)cl_arg_long("--warmup", v, 0, 100000);
		else if (strcmp(argv[i], "--rounds") == 0)
			rounds = (int)cl_arg_long("--rounds", v, 1, 100);
		else if (strcmp(argv[i], "--pin-cpu") == 0)
			pin = (int)cl_arg_long("--pin-cpu", v, -1, 4095);
		else if (strcmp(argv[i], "--mechanism") == 0 && nm < 16)
			mechanisms[nm++] = v;
		else if (strcmp(argv[i], "--fork-mib") == 0 && nmib < 8)
			mibs[nmib++] = cl_arg_long("--fork-mib", v, 0, 65536);
		else
			cl_usage(
				"usage: bench [--iterations N] [--warmup N] [--rounds R] [--pin-cpu C] [--mechanism NAME]... [--fork-mib MIB]...");
		i++;
	}
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len < 0)
		cl_die("readlink-self");
	self[len] = '\0';
	void *base;
	(void)cl_stack_top(STACK_SIZE, &base);
	stack_base = base;
	if (pin >= 0) {
		cpu_set_t one_cpu;
		CPU_ZERO(&one_cpu);
		CPU_SET(pin, &one_cpu);
		if (sched_setaffinity(0, sizeof(one_cpu), &one_cpu) != 0)
			cl_die("sched_setaffinity");
	}
	struct series sr[16];
	for (int i = 0; i < nm; i++) {
		sr[i] = new_series("bench", mechanisms[i], n, -1);
		for (int w = 0; w < warmup; w++)
			one(mechanisms[i]);
	}
	for (int r = 0; r < rounds;
	     r++) /* taking turns: round r of every mechanism */
		for (int i = 0; i < nm; i++)
			run_into(&sr[i], r == rounds - 1 ? n : n / rounds);
	for (int i = 0; i < nm; i++)
		report(&sr[i]);
	for (int i = 0; i < nmib; i++) {
		size_t bytes = (size_t)mibs[i] << 20;
		char *mem = bytes ? mmap(NULL, bytes, PROT_READ | PROT_WRITE,
					 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) :
				    NULL;
		if (mem == MAP_FAILED)
			cl_die("mmap");
		for (size_t off = 0; off < bytes; off += 4096)
			mem[off] =
				1; /* touch every page: fork must copy its page-table entries */
		/* Fewer rounds for big parents: each fork copies the page tables. */
		int count = mibs[i] >= 256 ? n / 10 : mibs[i] >= 32 ? n / 4 : n;
		struct series m = new_series("forkMemory", "fork",
					     count < 10 ? 10 : count, mibs[i]);
		for (int w = 0; w < warmup / 10; w++)
			one("fork");
		run_into(&m, m.cap);
		report(&m);
		if (mem)
			munmap(mem, bytes);
	}
	cl_done();
	return 0;
}
