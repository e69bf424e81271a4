/*
 * differ: behaviours in which a thread is not just a process that shares.
 *
 *   differ --scenario NAME
 *
 * Scenarios (each prints "ready" with the group's TIDs, waits for "release",
 * then does the thing):
 *   exit-group          a worker calls exit(3): exit_group(2) ends every thread,
 *                       the probe's exit status is 3
 *   sys-exit            a worker calls the raw exit(2): only it ends; the leader
 *                       sees it gone and finishes normally
 *   fatal-signal        the leader sends SIGTERM to the worker with tgkill(2):
 *                       the default action ends the whole group
 *   exec                a worker execve()s this program with the old IDs on the
 *                       command line (--scenario after-exec): de_thread() gives it
 *                       the leader's PID
 *   leader-exit-signal  the leader leaves (raw exit), a worker holds the group;
 *                       the harness sends SIGUSR1 to the TGID; the worker reports
 *                       which thread's handler ran
 *   ppid                a thread made by a thread: both report getppid()
 *   creds-raw           (root) a worker changes its own UIDs with the raw
 *                       setresuid syscall: credentials are per task
 *   creds-libc          (root) the leader calls libc setresuid(3), which applies
 *                       it to every thread (glibc's setxid broadcast, nptl(7))
 *   sched               the leader sets one worker's CPU affinity and nice value
 *                       by TID; both workers burn CPU of their own first
 */
#include "clonelab.h"
#include <pthread.h>
#include <sys/resource.h>

#define NWORKERS 2
static pthread_t workers[NWORKERS + 1];
static long long tids[NWORKERS + 1];
static int started, go, spin;
static const char *scenario;
static char self_path[4096];
static volatile pid_t handled_by;

static void on_usr1(int sig) { (void)sig; handled_by = (pid_t)syscall(SYS_gettid); }

static void spin_cpu(long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	long long end = ts.tv_sec * 1000000000LL + ts.tv_nsec + ms * 1000000LL;
	do
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	while (ts.tv_sec * 1000000000LL + ts.tv_nsec < end);
}

static void scenario_rec(const char *name)
{
	cl_begin(CL_REC, "scenario");
	cl_str(CL_REC, "name", name);
}

/* out[0..1]: this thread's TID and getppid(); out[2..3]: those of a thread it makes. */
static void *nested(void *arg)
{
	long long *out = arg;
	out[0] = cl_gettid();
	out[1] = cl_getppid();
	return NULL;
}

static void *outer(void *arg)
{
	long long *out = arg;
	nested(out);
	pthread_t t;
	if (pthread_create(&t, NULL, nested, out + 2) == 0)
		pthread_join(t, NULL);
	return NULL;
}

static char leader_state(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", cl_getpid());
	char st = cl_task_state(path);
	return st ? st : '?';
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	tids[i] = cl_gettid();
	if (spin)
		spin_cpu(40);
	if (strcmp(scenario, "creds-raw") == 0 && i == 1 &&
	    syscall(SYS_setresuid, 65534, 65534, 65534) != 0) /* this task only: no libc broadcast */
		tids[i] = -errno;
	cl_add_wake(&started, 1);
	if (strcmp(scenario, "leader-exit-signal") == 0 && i == 1) {
		/* Hold the group once the leader is a zombie, then wait for the signal. */
		for (int polls = 0; polls < 5000 && leader_state() != 'Z'; polls++) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		long long mine[1] = {tids[1]};
		cl_ready(cl_getpid(), mine, 1);
		cl_wait_release();
		scenario_rec(scenario);
		cl_str(CL_REC, "leaderState", (char[]){leader_state(), '\0'});
		cl_int(CL_REC, "handlerTid", handled_by);
		cl_end(CL_REC);
		cl_done();
		exit(0);
	}
	cl_wait_eq(&go, 1);
	if (i != 1)
		return NULL;
	if (strcmp(scenario, "exit-group") == 0)
		exit(3); /* exit_group(2) */
	if (strcmp(scenario, "sys-exit") == 0)
		cl_exit_thread(0);
	if (strcmp(scenario, "fatal-signal") == 0) {
		for (;;)
			pause(); /* stay alive: the leader's tgkill must find this thread */
	}
	if (strcmp(scenario, "exec") == 0) {
		char tg[24], td[24];
		snprintf(tg, sizeof(tg), "%d", cl_getpid());
		snprintf(td, sizeof(td), "%d", cl_gettid());
		char *args[] = {self_path, "--scenario", "after-exec", "--old-tgid", tg, "--old-tid", td, NULL};
		execv(self_path, args);
		cl_die("execv");
	}
	return NULL;
}

static void after_exec(int argc, char **argv)
{
	if (argc != 7)
		cl_usage("differ: after-exec needs --old-tgid T --old-tid T");
	char buf[4096];
	cl_read_file_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf));
	char *t = strstr(buf, "\nThreads:");
	scenario_rec("after-exec");
	cl_int(CL_REC, "getpid", cl_getpid());
	cl_int(CL_REC, "gettid", cl_gettid());
	cl_int(CL_REC, "oldTgid", atoll(argv[4]));
	cl_int(CL_REC, "oldTid", atoll(argv[6]));
	cl_int(CL_REC, "threads", t ? atoll(t + 9) : -1);
	cl_end(CL_REC);
	cl_done();
	exit(0);
}

int main(int argc, char **argv)
{
	cl_setup();
	if (argc < 3 || strcmp(argv[1], "--scenario") != 0)
		cl_usage("usage: differ --scenario exit-group|sys-exit|fatal-signal|exec|leader-exit-signal|ppid|creds-raw|creds-libc|sched");
	scenario = argv[2];
	if (strcmp(scenario, "after-exec") == 0)
		after_exec(argc, argv);
	static const char *known[] = {"exit-group", "sys-exit", "fatal-signal", "exec", "leader-exit-signal",
				      "ppid", "creds-raw", "creds-libc", "sched"};
	size_t k;
	for (k = 0; k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], scenario); k++)
		;
	if (k == sizeof(known) / sizeof(known[0]))
		cl_usage("differ: unknown scenario '%s'", scenario);
	ssize_t n = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
	if (n < 0)
		cl_die("readlink-self");
	self_path[n] = '\0';
	spin = strcmp(scenario, "sched") == 0;

	if (strcmp(scenario, "ppid") == 0) {
		long long ids[4] = {0};
		pthread_t ta;
		/* A thread makes a thread: the new one's getppid() is still the group's parent. */
		if (pthread_create(&ta, NULL, outer, ids) || pthread_join(ta, NULL))
			cl_die("pthread_create");
		scenario_rec(scenario);
		cl_int(CL_REC, "leaderTid", cl_gettid());
		cl_int(CL_REC, "leaderPpid", cl_getppid());
		cl_int(CL_REC, "threadTid", ids[0]);
		cl_int(CL_REC, "threadPpid", ids[1]);
		cl_int(CL_REC, "nestedTid", ids[2]);
		cl_int(CL_REC, "nestedPpid", ids[3]);
		cl_end(CL_REC);
		cl_done();
		return 0;
	}
	if (strcmp(scenario, "leader-exit-signal") == 0) {
		struct sigaction sa = {0};
		sa.sa_handler = on_usr1;
		sigaction(SIGUSR1, &sa, NULL);
	}
	tids[0] = cl_gettid();
	for (long i = 1; i <= NWORKERS; i++)
		if (pthread_create(&workers[i], NULL, worker, (void *)i) != 0)
			cl_die("pthread_create");
	cl_wait_eq(&started, NWORKERS);
	if (strcmp(scenario, "leader-exit-signal") == 0)
		cl_exit_thread(0); /* the worker takes over */
	if (strcmp(scenario, "creds-libc") == 0 && setresuid(65534, 65534, 65534) != 0)
		cl_die("setresuid");
	if (strcmp(scenario, "sched") == 0) {
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(0, &one);
		int aff = sched_setaffinity((pid_t)tids[1], sizeof(one), &one); /* by TID: that task only */
		int pri = setpriority(PRIO_PROCESS, (id_t)tids[1], 7);
		scenario_rec("schedSet");
		cl_int(CL_REC, "target", tids[1]);
		cl_str(CL_REC, "affinity", aff == 0 ? "ok" : cl_errno_name(errno));
		cl_str(CL_REC, "nice", pri == 0 ? "ok" : cl_errno_name(errno));
		cl_int(CL_REC, "cpus", sysconf(_SC_NPROCESSORS_ONLN));
		cl_end(CL_REC);
	}
	cl_ready_wait_release(cl_getpid(), tids, NWORKERS + 1);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	cl_futex_wake(&go, 1 << 30);
	if (strcmp(scenario, "fatal-signal") == 0) {
		cl_tgkill(cl_getpid(), (pid_t)tids[1], SIGTERM); /* default action: the whole group */
		for (;;)
			pause();
	}
	if (strcmp(scenario, "exit-group") == 0 || strcmp(scenario, "exec") == 0) {
		for (;;)
			pause(); /* ended by the worker's exit_group or execve */
	}
	if (strcmp(scenario, "sys-exit") == 0) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/task/%lld", tids[1]);
		int polls = 0;
		while (access(path, F_OK) == 0 && polls++ < 5000) {
			struct timespec ts = {0, 1000000};
			nanosleep(&ts, NULL);
		}
		scenario_rec(scenario);
		cl_bool(CL_REC, "threadGone", access(path, F_OK) != 0);
		cl_int(CL_REC, "polls", polls);
		cl_end(CL_REC);
		pthread_join(workers[2], NULL);
		cl_done();
		return 0;
	}
	for (int i = 1; i <= NWORKERS; i++)
		pthread_join(workers[i], NULL);
	cl_done();
	return 0;
}
