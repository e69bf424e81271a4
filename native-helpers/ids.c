/*
 * ids: a thread group whose every task reports the IDs the kernel gives it.
 *
 *   ids --threads N [--via pthread|clone] [--leader-exit none|pthread_exit|sys_exit]
 *
 *   ids ... [--spin-ms MS]
 *
 * Makes N threads besides the leader (N = 0: a single-threaded process), with
 * pthread_create(3) or with raw clone(2) using the flags NPTL passes
 * (CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_THREAD|CLONE_SYSVSEM, see
 * glibc sysdeps/nptl/createthread / clone-internal), each on its own stack.
 * In every task: libc getpid(), raw SYS_getpid, libc gettid() where the libc
 * has it, raw SYS_gettid. Prints one "task" record per task, then "ready" with
 * all TIDs, and keeps every task alive until the harness says "release".
 * A call that failed (a seccomp filter can make even getpid(2) return an
 * errno) is an "error" record naming it, and the probe stops: it never prints
 * a task record with a value it did not get.
 *
 * Whether the libc has a gettid() wrapper is decided at build time by what
 * the libc provides, not by its name or version: helpers/harness/build.ts compiles and
 * links a program calling gettid() with the same compiler and flags and passes
 * -DCLONELAB_HAVE_GETTID=1 or =0 (glibc has had one since 2.30, musl since
 * 1.2.2; gettid(2), VERSIONS).
 *
 * --leader-exit: the thread running main() leaves first (pthread_exit(3), or
 * the raw exit(2) syscall that ends only the calling task); the first worker
 * waits until /proc shows the leader as a zombie, prints "leaderExited", and
 * holds the group for inspection. Only with --via pthread: the controller
 * prints records, which a raw-clone task must not do.
 *
 * Each task also reads where /proc/self and /proc/thread-self point for it,
 * and with --spin-ms burns that much CPU time of its own first, so that
 * per-thread and whole-group CPU counters in /proc differ measurably.
 *
 * Commands after "ready": "join" lets the threads exit and joins them
 * (the process lives on, "joined" lists the TIDs that are gone), "release"
 * ends the probe.
 */
#include "clonelab.h"
#include <pthread.h>

#ifndef CLONELAB_HAVE_GETTID
#define CLONELAB_HAVE_GETTID                                                   \
	0 /* built without helpers/harness/build.ts's check: say "no wrapper" */
#endif

#define MAX_THREADS 1024
#define STACK_SIZE (256 * 1024)

struct task_ids {
	long long libc_getpid, raw_getpid, libc_gettid, raw_gettid;
	pid_t ptid; /* CLONE_PARENT_SETTID target: the kernel writes the new TID */
	pid_t ctid; /* CLONE_CHILD_CLEARTID target: zeroed when the task exits */
	long long created_as; /* what the creating call returned (clone: the TID) */
	char self_link[64], thread_self_link[64];
	const char *
		failed_op; /* the first call that failed in this task, or NULL */
	int failed_errno;
	pthread_t pthread;
	void *stack;
};

static struct task_ids tasks[MAX_THREADS + 1];
static int started;      /* workers that have recorded their IDs */
static int release_flag; /* set once the harness said "release" */
static int handoff;      /* leader-exit mode: the leader is about to leave */
static int nthreads;
static const char *via = "pthread";
static const char *leader_exit = "none";
static long spin_ms;

/*
 * Remember the first call that failed in a task. syscall(3) stores errno in
 * the caller's TLS, which a raw-clone task shares with its creator (no
 * CLONE_SETTLS): it is read at once, and a fault that refuses a call refuses
 * it with the same errno in every task, so a race between tasks cannot change
 * the name.
 */
static void note_failure_errno(struct task_ids *t, const char *op, int err)
{
	if (!t->failed_op) {
		t->failed_op = op;
		t->failed_errno = err;
	}
}

static void note_failure(struct task_ids *t, const char *op)
{
	note_failure_errno(t, op, errno);
}

/*
 * A libc call that "cannot fail" may not set errno when it does: glibc's
 * getpid() and gettid() return the kernel's -errno as it is (sysdeps/unix/
 * sysv/linux/syscalls.list, no error path). errno is cleared before the call
 * and, if still clear, the errno is read from the value.
 */
static void note_libc_failure(struct task_ids *t, const char *op, long long v)
{
	note_failure_errno(t, op,
			   errno ? errno : (v < 0 && v >= -4095 ? (int)-v : 0));
}

/* readlink(2) by raw syscall: safe in a raw-clone task (no stdio, no locks). */
static void raw_readlink(struct task_ids *t, const char *op, const char *path,
			 char *out, size_t size)
{
	long n = syscall(SYS_readlinkat, AT_FDCWD, path, out, size - 1);
	if (n < 0) {
		note_failure(t, op);
		n = 0;
	}
	out[n] = '\0';
}

/* Burn this task's own CPU time (CLOCK_THREAD_CPUTIME_ID, clock_gettime(2)). */
static void spin_cpu(long ms)
{
	struct timespec ts;
	syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts);
	long long end = ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
	do
		syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000000000LL + ts.tv_nsec < end);
}

static void observe_self(struct task_ids *t)
{
	/* getpid(2) and gettid(2) cannot fail on Linux, but a seccomp filter can
	 * make them return an errno: such a value is not an ID. */
	errno = 0;
	t->libc_getpid = getpid();
	if (t->libc_getpid <= 0)
		note_libc_failure(t, "getpid", t->libc_getpid);
	t->raw_getpid = cl_getpid();
	if (t->raw_getpid <= 0)
		note_failure(t, "SYS_getpid");
#if CLONELAB_HAVE_GETTID
	errno = 0;
	t->libc_gettid = gettid();
	if (t->libc_gettid <= 0)
		note_libc_failure(t, "gettid", t->libc_gettid);
#endif
	t->raw_gettid = cl_gettid();
	if (t->raw_gettid <= 0)
		note_failure(t, "SYS_gettid");
	/* The kernel's own name for this task, independent of getpid/gettid:
	 * the test finds the task's /proc entry by it (fs/proc/thread_self.c). */
	raw_readlink(t, "readlinkat /proc/self", "/proc/self", t->self_link,
		     sizeof(t->self_link));
	raw_readlink(t, "readlinkat /proc/thread-self", "/proc/thread-self",
		     t->thread_self_link, sizeof(t->thread_self_link));
	if (spin_ms)
		spin_cpu(spin_ms);
}

static void print_task(int index)
{
	struct task_ids *t = &tasks[index];
	cl_begin(CL_REC, "task");
	cl_str(CL_REC, "role", index == 0 ? "leader" : "thread");
	cl_int(CL_REC, "index", index);
	cl_str(CL_REC, "via", index == 0 ? "main" : via);
	cl_int(CL_REC, "libcGetpid", t->libc_getpid);
	cl_int(CL_REC, "rawGetpid", t->raw_getpid);
	cl_bool(CL_REC, "libcHasGettid", CLONELAB_HAVE_GETTID);
	if (CLONELAB_HAVE_GETTID)
		cl_int(CL_REC, "libcGettid", t->libc_gettid);
	cl_int(CL_REC, "rawGettid", t->raw_gettid);
	cl_str(CL_REC, "procSelf", t->self_link);
	cl_str(CL_REC, "procThreadSelf", t->thread_self_link);
	if (index > 0 && strcmp(via, "clone") == 0) {
		cl_int(CL_REC, "cloneReturned", t->created_as);
		cl_int(CL_REC, "parentSetTid", t->ptid);
	}
	cl_end(CL_REC);
}

/* Worker body for both creation paths: raw syscalls and atomics only. */
static int worker(void *arg)
{
	observe_self(arg);
	cl_add_wake(&started, 1);
	cl_wait_eq(&release_flag, 1);
	return 0;
}

/* The leader's state letter, or 0 when its stat could not be read. */
static char leader_state(pid_t tgid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tgid);
	return cl_task_state(path);
}

/* Every task's IDs were read, or the probe says which call failed and stops. */
static void check_observed(void)
{
	int failed = 0;
	for (int i = 0; i <= nthreads; i++) {
		if (!tasks[i].failed_op)
			continue;
		failed = 1;
		int said =
			0; /* one record per distinct failure, not one per task */
		for (int j = 0; j < i && !said; j++)
			said = tasks[j].failed_op == tasks[i].failed_op &&
			       tasks[j].failed_errno == tasks[i].failed_errno;
		if (!said)
			cl_error_rec(tasks[i].failed_op, tasks[i].failed_errno,
				     1);
	}
	if (failed)
		exit(1); /* exit_group(2): the parked tasks go too */
}

static void *controller(void *arg)
{
	observe_self(arg);
	cl_add_wake(&started, 1);
	cl_wait_eq(&handoff, 1);
	pid_t tgid = (pid_t)tasks[0].raw_getpid;
	/* The leader is reaped into EXIT_ZOMBIE asynchronously after it calls
	 * exit: poll with a bound (about 5 s), never sleep a fixed time. */
	char state = 0;
	int polls = 0;
	for (; polls < 5000; polls++) {
		errno = 0;
		state = leader_state(tgid);
		if (state == 'Z' || state == 'X')
			break;
		struct timespec ts = {0, 1000000};
		nanosleep(&ts, NULL);
	}
	if (!state)
		cl_error_rec("read /proc/self/task/TGID/stat", errno, 0);
	cl_begin(CL_REC, "leaderExited");
	cl_int(CL_REC, "tgid", tgid);
	cl_str(CL_REC, "method", leader_exit);
	if (state) /* unreadable: absent, with the error record above */
		cl_str(CL_REC, "leaderState", (char[]){state, '\0'});
	cl_int(CL_REC, "polls", polls);
	cl_int(CL_REC, "reporterTid", cl_gettid());
	cl_int(CL_REC, "reporterGetpid", cl_getpid());
	cl_end(CL_REC);
	long long tids[MAX_THREADS];
	for (int i = 1; i <= nthreads; i++)
		tids[i - 1] = tasks[i].raw_gettid;
	cl_ready_wait_release(tgid, tids, (size_t)nthreads);
	cl_done();
	exit(0); /* exit_group(2): ends the workers still parked on release_flag */
}

static void *worker_pthread(void *arg)
{
	worker(arg);
	return NULL;
}

static void create_thread(int i)
{
	struct task_ids *t = &tasks[i];
	if (strcmp(via, "pthread") == 0) {
		void *(*fn)(void *) = (i == 1 &&
				       strcmp(leader_exit, "none") != 0) ?
					      controller :
					      worker_pthread;
		int e = pthread_create(&t->pthread, NULL, fn, t);
		if (e) {
			errno = e;
			cl_die("pthread_create");
		}
		return;
	}
	void *top = cl_stack_top(STACK_SIZE, &t->stack);
	int flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND |
		    CLONE_THREAD | CLONE_SYSVSEM | CLONE_PARENT_SETTID |
		    CLONE_CHILD_CLEARTID;
	/* glibc's clone() wrapper issues the clone syscall itself and calls
	 * worker() on the new stack; no pthread bookkeeping is involved. */
	t->ctid = -1;
	long r = clone(worker, top, flags, t, &t->ptid, NULL, &t->ctid);
	if (r < 0)
		cl_die("clone");
	t->created_as = r;
}

static void join_thread(int i)
{
	struct task_ids *t = &tasks[i];
	if (strcmp(via, "pthread") == 0) {
		pthread_join(t->pthread, NULL);
		return;
	}
	cl_join_cleartid(&t->ctid);
	munmap(t->stack, STACK_SIZE);
}

int main(int argc, char **argv)
{
	cl_setup();
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!v)
			cl_usage("ids: %s needs a value", a);
		if (strcmp(a, "--threads") == 0)
			nthreads = (int)cl_arg_long("--threads", v, 0,
						    MAX_THREADS);
		else if (strcmp(a, "--spin-ms") == 0)
			spin_ms = cl_arg_long("--spin-ms", v, 0, 10000);
		else if (strcmp(a, "--via") == 0 &&
			 (strcmp(v, "pthread") == 0 || strcmp(v, "clone") == 0))
			via = v;
		else if (strcmp(a, "--leader-exit") == 0 &&
			 (strcmp(v, "none") == 0 ||
			  strcmp(v, "pthread_exit") == 0 ||
			  strcmp(v, "sys_exit") == 0))
			leader_exit = v;
		else
			cl_usage(
				"usage: ids --threads N [--via pthread|clone] [--leader-exit none|pthread_exit|sys_exit] [--spin-ms MS]");
		i++;
	}
	int leaves = strcmp(leader_exit, "none") != 0;
	if (leaves && (strcmp(via, "pthread") != 0 || nthreads < 1))
		cl_usage(
			"ids: --leader-exit needs --via pthread and --threads >= 1");

	observe_self(&tasks[0]);
	for (int i = 1; i <= nthreads; i++)
		create_thread(i);
	cl_wait_eq(&started, nthreads);
	check_observed();
	for (int i = 0; i <= nthreads; i++)
		print_task(i);

	if (leaves) {
		cl_store_wake(&handoff, 1);
		if (strcmp(leader_exit, "pthread_exit") == 0)
			pthread_exit(NULL);
		cl_exit_thread(0); /* SYS_exit: this task only, not the group */
	}

	long long tids[MAX_THREADS + 1];
	for (int i = 0; i <= nthreads; i++)
		tids[i] = tasks[i].raw_gettid;
	cl_ready((pid_t)tasks[0].raw_getpid, tids, (size_t)nthreads + 1);
	int joined = 0;
	char cmd[256];
	for (;;) {
		cl_read_command(cmd, sizeof(cmd));
		int release = strcmp(cmd, "release") == 0;
		if (!release && strcmp(cmd, "join") != 0) {
			cl_unknown_command(cmd);
			continue;
		}
		if (!joined) {
			cl_store_wake(&release_flag, 1);
			for (int i = 1; i <= nthreads; i++)
				join_thread(i);
			joined = 1;
			if (!release) {
				cl_begin(CL_REC, "joined");
				cl_ints(CL_REC, "tids", tids + 1,
					(size_t)nthreads);
				cl_end(CL_REC);
			}
		}
		if (release)
			break;
	}
	cl_done();
	return 0;
}
