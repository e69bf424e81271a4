/*
 * thread-group: behaviours in which a thread is not just a process that shares.
 *
 *   thread-group --scenario end --unit thread|process --how exit|sys_exit|tgkill
 *   thread-group --scenario NAME
 *
 * "end" measures what one task's ending takes with it, inside this probe and
 * before any deadline of the harness, against a process baseline. This
 * process is the observer: it forks an experiment process E (a process group
 * of its own) with three members, then makes one member, the actor, end:
 *   --unit thread   E's main thread (the leader), the actor and a bystander
 *                   are threads of E
 *   --unit process  E (the parent) and two child processes of E: the actor
 *                   and a bystander
 *   --how exit      the actor calls libc exit(3): exit_group(2)
 *   --how sys_exit  the actor calls the raw exit(2) syscall with status 3
 *   --how tgkill    the observer sends SIGTERM (default action) to the actor
 *                   with tgkill(2); a tgkill that fails is an error record
 * The leader (or parent) waits for the actor (pthread_join, or waitpid with
 * the actor's status) and then tells the observer that it went on. The
 * observer polls /proc, bounded, until every member ended (gone, or a
 * zombie: state Z or X, proc(5)), or the leader went on, or the bound
 * passed; it prints one "ending" record with what ended and what remained,
 * then kills E's group and reaps everything it made (it is a child
 * subreaper, prctl(2), so E's orphans come back to it).
 *
 * Other scenarios print "ready" with the group's TIDs and wait for "release":
 *   exec                a worker execve()s this program with the old IDs on the
 *                       command line (--scenario after-exec): de_thread() gives it
 *                       the leader's PID. First, as the process baseline, a
 *                       child process execs the same way while this group's
 *                       threads run, and the group counts its threads after.
 *   leader-exit-signal  the leader leaves (raw exit), a worker holds the group;
 *                       the harness sends SIGUSR1 to the TGID; the worker reports
 *                       which thread's handler ran (or that none ran in 1 s)
 *   ppid                a thread made by a thread: both report getppid(); that
 *                       thread also forks a child process, which reports its own
 *   creds-raw           (root) a worker changes its own UIDs with the raw
 *                       setresuid syscall: credentials are per task
 *   creds-libc          (root) the leader calls libc setresuid(3), which applies
 *                       it to every thread (glibc's setxid broadcast, nptl(7))
 *   sched               after "ready", the command "set" makes the leader set one
 *                       worker's nice value (and, with 2 or more CPUs allowed, its
 *                       CPU affinity) by TID; it says what it asked for and what
 *                       each call returned; both workers burn CPU of their own first
 */
#include "clonelab.h"
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>

#define NWORKERS 2
static pthread_t workers[NWORKERS + 1];
static long long tids[NWORKERS + 1];
static long long getpids[NWORKERS + 1];
static int started, go, spin;
static int creds_result; /* 0, or the errno of the worker's raw setresuid */
static const char *scenario;
static char self_path[4096];
static volatile pid_t handled_by;

static void on_usr1(int sig)
{
	(void)sig;
	handled_by = (pid_t)syscall(SYS_gettid);
}

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

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

/* ------------------------------------------------------------------ end */

enum unit {
	UNIT_THREAD,
	UNIT_PROCESS
};
enum how {
	HOW_EXIT,
	HOW_SYS_EXIT,
	HOW_TGKILL
};
#define NMEMBERS 3 /* [0] leader or parent, [1] the actor, [2] a bystander */
#define END_BOUND_MS 2000

static enum how end_how;
static int go_fd =
	-1; /* read end: the actor waits here for the observer's word */
static int report_fd =
	-1; /* write end: E tells the observer its members, then that it went on */

/* What E's leader (or parent) tells the observer once the actor has ended. */
struct went_on {
	int status_known; /* the parent reaped the actor (process unit) */
	int status;       /* its wait status */
};

static void write_all_or_die(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(125); /* the observer is gone; it kills and reaps us anyway */
		c += w;
		n -= (size_t)w;
	}
}

/* The actor: wait for the word, then end as asked (tgkill: the observer ends it). */
static void act(void)
{
	char c;
	ssize_t r;
	do
		r = read(go_fd, &c, 1);
	while (r < 0 && errno == EINTR);
	if (end_how == HOW_TGKILL || r != 1)
		for (;;)
			pause();
	if (end_how == HOW_EXIT)
		exit(3);   /* libc exit(): exit_group(2) */
	cl_exit_thread(3); /* raw exit(2): this task only */
}

/*
 * 1 while the actor thread lives: its own clear_child_tid word (set_tid_address(2)),
 * which the kernel zeroes and futex-wakes when the thread exits, whichever exit ended
 * it (kernel/fork.c mm_release()). Not pthread_join(): libcs join differently, and a
 * thread ended by the raw exit syscall never joins under musl (its pthread_join waits
 * for a state only pthread_exit sets), while glibc's waits on this very word.
 */
static int actor_alive;

static void *actor_thread(void *arg)
{
	(void)arg;
	actor_alive = 1;
	syscall(SYS_set_tid_address, &actor_alive);
	tids[1] = cl_gettid();
	cl_add_wake(&started, 1);
	act();
	return NULL;
}

static void *bystander_thread(void *arg)
{
	(void)arg;
	tids[2] = cl_gettid();
	cl_add_wake(&started, 1);
	for (;;)
		pause();
	return NULL;
}

/* In the forked experiment process E: make the members, report them, wait for the actor. */
static __attribute__((noreturn)) void experiment(enum unit unit, pid_t observer)
{
	/* Die with the observer, and never outlive it (prctl(2) PR_SET_PDEATHSIG). */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != observer)
		_exit(126);
	signal(SIGTERM, SIG_DFL); /* the default action is what is measured */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	pid_t members[NMEMBERS];
	members[0] = cl_getpid();
	struct went_on w = {0, 0};
	if (unit == UNIT_THREAD) {
		tids[0] = cl_gettid();
		if (pthread_create(&workers[1], NULL, actor_thread, NULL) !=
			    0 ||
		    pthread_create(&workers[2], NULL, bystander_thread, NULL) !=
			    0)
			_exit(124);
		cl_wait_eq(&started, 2);
		members[1] = (pid_t)tids[1];
		members[2] = (pid_t)tids[2];
		write_all_or_die(report_fd, members, sizeof(members));
		cl_wait_eq(&actor_alive, 0);
	} else {
		for (int i = 1; i < NMEMBERS; i++) {
			pid_t c = fork();
			if (c < 0)
				_exit(124);
			if (c == 0) {
				if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
					_exit(126);
				if (i == 1)
					act();
				for (;;)
					pause();
			}
			members[i] = c;
		}
		write_all_or_die(report_fd, members, sizeof(members));
		while (waitpid(members[1], &w.status, 0) < 0 && errno == EINTR)
			;
		w.status_known = 1;
	}
	write_all_or_die(report_fd, &w, sizeof(w));
	for (;;)
		pause(); /* the observer ends us */
}

/* 1: the task ended (its /proc entry is gone, or it is a zombie); 0: it is there; -1: unreadable (errno). */
static int task_ended(pid_t tgid, pid_t tid, char *state)
{
	char path[96], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", tgid, tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT || errno == ESRCH ? (*state = 0, 1) : -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	int e = errno;
	close(fd);
	if (n < 0) {
		if (e == ESRCH)
			return *state = 0, 1;
		errno = e;
		return -1;
	}
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2]) {
		errno = EINVAL;
		return -1;
	}
	*state = p[2];
	return *state == 'Z' || *state == 'X';
}

static pid_t end_e = -1;

/* Kill E's whole group and reap everything this observer made, then exit as asked. */
static void end_cleanup(void)
{
	if (end_e > 0) {
		kill(-end_e,
		     SIGKILL); /* E's process group: only tasks made here */
		kill(end_e, SIGKILL);
	}
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

static __attribute__((noreturn)) void end_die(const char *op)
{
	int e = errno;
	end_cleanup();
	errno = e;
	cl_die(op);
}

static void end_scenario(int argc, char **argv)
{
	if (argc != 7 || strcmp(argv[3], "--unit") || strcmp(argv[5], "--how"))
		cl_usage(
			"thread-group: end needs --unit thread|process --how exit|sys_exit|tgkill");
	enum unit unit;
	if (strcmp(argv[4], "thread") == 0)
		unit = UNIT_THREAD;
	else if (strcmp(argv[4], "process") == 0)
		unit = UNIT_PROCESS;
	else
		cl_usage("thread-group: --unit thread|process, got '%s'",
			 argv[4]);
	if (strcmp(argv[6], "exit") == 0)
		end_how = HOW_EXIT;
	else if (strcmp(argv[6], "sys_exit") == 0)
		end_how = HOW_SYS_EXIT;
	else if (strcmp(argv[6], "tgkill") == 0)
		end_how = HOW_TGKILL;
	else
		cl_usage("thread-group: --how exit|sys_exit|tgkill, got '%s'",
			 argv[6]);

	/* Orphans of E (the process unit's children once E is killed) come back here. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) != 0)
		cl_die("prctl-subreaper");
	int gop[2], rep[2];
	if (pipe2(gop, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0)
		cl_die("pipe2");
	pid_t observer = cl_getpid();
	end_e = fork();
	if (end_e < 0)
		cl_die("fork");
	if (end_e == 0) {
		setpgid(0, 0);
		close(gop[1]);
		close(rep[0]);
		go_fd = gop[0];
		report_fd = rep[1];
		experiment(unit, observer);
	}
	setpgid(end_e,
		end_e); /* also here: whichever runs first, E leads its own group */
	close(gop[0]);
	close(rep[1]);

	pid_t members[NMEMBERS];
	struct pollfd pfd = {rep[0], POLLIN, 0};
	size_t got = 0;
	while (got < sizeof(members)) {
		int pr = poll(&pfd, 1, 5000);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr == 0)
			errno = ETIMEDOUT;
		if (pr <= 0)
			end_die("experiment-members");
		ssize_t n = read(rep[0], (char *)members + got,
				 sizeof(members) - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			errno = n == 0 ? ECHILD : errno;
			end_die("experiment-members");
		}
		got += (size_t)n;
	}
	pid_t tgid_of[NMEMBERS];
	for (int i = 0; i < NMEMBERS; i++)
		tgid_of[i] = unit == UNIT_THREAD ? end_e : members[i];

	long long t0 = now_ms();
	if (end_how == HOW_TGKILL) {
		if (cl_tgkill(tgid_of[1], members[1], SIGTERM) != 0)
			end_die("tgkill");
	} else {
		char c = 'g';
		if (write(gop[1], &c, 1) != 1)
			end_die("write-go");
	}

	/* Bounded: until every member ended, or the leader went on once the actor had
	 * ended (pthread_join returns when the TID word is cleared, a little before the
	 * task leaves /proc), or END_BOUND_MS passed. */
	struct went_on w = {0, 0};
	size_t wgot = 0;
	int went_on = 0, ended[NMEMBERS] = {0};
	char state[NMEMBERS] = {0};
	for (;;) {
		int all = 1;
		for (int i = 0; i < NMEMBERS; i++) {
			int e = task_ended(tgid_of[i], members[i], &state[i]);
			if (e < 0)
				end_die("read-task-stat");
			ended[i] = e;
			all &= e;
		}
		if (all || (went_on && ended[1]) ||
		    now_ms() - t0 > END_BOUND_MS)
			break;
		if (pfd.fd < 0 || went_on) {
			sleep_ms(1);
			continue;
		}
		int pr = poll(&pfd, 1, 1);
		if (pr <= 0)
			continue; /* nothing yet, or EINTR */
		ssize_t n = read(rep[0], (char *)&w + wgot, sizeof(w) - wgot);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			pfd.fd = -1; /* EOF: every task of E that held the pipe is gone */
		else
			wgot += (size_t)n;
		went_on = wgot == sizeof(w);
	}
	long long waited = now_ms() - t0;
	/* The group's own status, not reaped yet (waitid(2) WNOWAIT): only once E ended. */
	siginfo_t si;
	memset(&si, 0, sizeof(si));
	int waitid_errno = 0;
	int e_status = 0;
	if (unit == UNIT_THREAD) {
		if (waitid(P_PID, (id_t)end_e, &si,
			   WEXITED | WNOHANG | WNOWAIT) == 0)
			e_status = si.si_pid == end_e;
		else
			waitid_errno =
				errno; /* the status is then not known: say why, not "no status" */
	}

	long long ms[NMEMBERS], endl[NMEMBERS], reml[NMEMBERS];
	size_t ne = 0, nr = 0;
	char states[64] = "";
	for (int i = 0; i < NMEMBERS; i++) {
		ms[i] = members[i];
		if (ended[i])
			endl[ne++] = members[i];
		else
			reml[nr++] = members[i];
		size_t l = strlen(states);
		snprintf(states + l, sizeof(states) - l, "%s%c", i ? " " : "",
			 state[i] ? state[i] : '-');
	}
	cl_begin(CL_REC, "ending");
	cl_str(CL_REC, "unit", unit == UNIT_THREAD ? "thread" : "process");
	cl_str(CL_REC, "how", argv[6]);
	cl_ints(CL_REC, "members", ms, NMEMBERS);
	cl_int(CL_REC, "actor", members[1]);
	cl_ints(CL_REC, "ended", endl, ne);
	cl_ints(CL_REC, "remaining", reml, nr);
	/* Each member's state letter at the end of the wait ("-": its entry was gone). */
	cl_str(CL_REC, "states", states);
	cl_bool(CL_REC, "leaderWentOn", went_on);
	if (unit == UNIT_THREAD && e_status) {
		cl_str(CL_REC, "statusOf", "group");
		if (si.si_code == CLD_EXITED)
			cl_int(CL_REC, "exitCode", si.si_status);
		else
			cl_int(CL_REC, "killedBySignal", si.si_status);
	} else if (unit == UNIT_PROCESS && went_on && w.status_known) {
		cl_str(CL_REC, "statusOf", "actor");
		if (WIFEXITED(w.status))
			cl_int(CL_REC, "exitCode", WEXITSTATUS(w.status));
		else if (WIFSIGNALED(w.status))
			cl_int(CL_REC, "killedBySignal", WTERMSIG(w.status));
	}
	if (waitid_errno)
		cl_str(CL_REC, "statusErrno", cl_errno_name(waitid_errno));
	cl_int(CL_REC, "waitedMs", waited);
	cl_int(CL_REC, "boundMs", END_BOUND_MS);
	cl_end(CL_REC);
	end_cleanup();
	cl_done();
	exit(0);
}

/* ---------------------------------------------------------------- others */

/* out[0..1]: this thread's TID and getppid(); out[2..3]: those of a thread it makes;
 * out[4..5]: the PID and getppid() of a child process it forks. */
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
	int p[2];
	if (pipe2(p, O_CLOEXEC) != 0)
		return NULL;
	pid_t c = fork();
	if (c == 0) {
		long long pp = cl_getppid();
		_exit(write(p[1], &pp, sizeof(pp)) == sizeof(pp) ? 0 : 1);
	}
	close(p[1]);
	if (c > 0) {
		long long pp;
		if (read(p[0], &pp, sizeof(pp)) == sizeof(pp)) {
			out[4] = c;
			out[5] = pp;
		}
		while (waitpid(c, NULL, 0) < 0 && errno == EINTR)
			;
	} else {
		out[6] = errno;
	}
	close(p[0]);
	return NULL;
}

/* State letter of the group leader's task, or 0 when unreadable. */
static char leader_state(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/stat", cl_getpid());
	return cl_task_state(path);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	tids[i] = cl_gettid();
	getpids[i] = cl_getpid();
	if (spin)
		spin_cpu(40);
	if (strcmp(scenario, "creds-raw") == 0 && i == 1 &&
	    syscall(SYS_setresuid, 65534, 65534, 65534) !=
		    0) /* this task only: no libc broadcast */
		creds_result = errno;
	cl_add_wake(&started, 1);
	if (strcmp(scenario, "leader-exit-signal") == 0 && i == 1) {
		/* Hold the group once the leader is a zombie, then wait for the signal. */
		for (int polls = 0; polls < 5000 && leader_state() != 'Z';
		     polls++)
			sleep_ms(1);
		long long mine[1] = {tids[1]};
		cl_ready(cl_getpid(), mine, 1);
		cl_wait_release();
		/* The harness sent SIGUSR1 before "release"; delivery is asynchronous: bounded wait. */
		for (int polls = 0; polls < 1000 && !handled_by; polls++)
			sleep_ms(1);
		char st = leader_state();
		if (!st)
			cl_error_rec("read-leader-stat", errno ? errno : EIO,
				     0);
		scenario_rec(scenario);
		if (st)
			cl_str(CL_REC, "leaderState", (char[]){st, '\0'});
		cl_bool(CL_REC, "handled", handled_by != 0);
		if (handled_by)
			cl_int(CL_REC, "handlerTid", handled_by);
		cl_end(CL_REC);
		cl_done();
		exit(0);
	}
	cl_wait_eq(&go, 1);
	if (i != 1)
		return NULL;
	if (strcmp(scenario, "exec") == 0) {
		char tg[24], td[24];
		snprintf(tg, sizeof(tg), "%d", cl_getpid());
		snprintf(td, sizeof(td), "%d", cl_gettid());
		char *args[] = {self_path,    "--scenario", "after-exec",
				"--old-tgid", tg,           "--old-tid",
				td,           NULL};
		execv(self_path, args);
		cl_die("execv");
	}
	return NULL;
}

/* Threads: of /proc/self/status, or -1 with errno. */
static long own_threads(void)
{
	char buf[4096];
	if (cl_read_file_at(AT_FDCWD, "/proc/self/status", buf, sizeof(buf)) <=
	    0)
		return -1;
	char *t = strstr(buf, "\nThreads:");
	if (!t) {
		errno = EINVAL;
		return -1;
	}
	return atol(t + 9);
}

/* After execve: what this program is now. With --baseline (a child process
 * exec'd), no "done": the group that forked it goes on and ends the output. */
static void after_exec(int argc, char **argv)
{
	int baseline = argc == 8 && strcmp(argv[7], "--baseline") == 0;
	if (argc != 7 && !baseline)
		cl_usage(
			"thread-group: after-exec needs --old-tgid T --old-tid T [--baseline]");
	long threads = own_threads();
	if (threads < 0)
		cl_error_rec("read-threads", errno, 0);
	scenario_rec(baseline ? "after-exec-process" : "after-exec");
	cl_int(CL_REC, "getpid", cl_getpid());
	cl_int(CL_REC, "gettid", cl_gettid());
	cl_int(CL_REC, "oldTgid", atoll(argv[4]));
	cl_int(CL_REC, "oldTid", atoll(argv[6]));
	if (threads >= 0)
		cl_int(CL_REC, "threads", threads);
	cl_end(CL_REC);
	if (!baseline)
		cl_done();
	exit(0);
}

/* The process baseline of "exec": a child process execs while this group's threads run. */
static void exec_baseline(void)
{
	pid_t c = fork();
	if (c < 0)
		cl_die("fork");
	if (c == 0) {
		char id[24];
		snprintf(id, sizeof(id), "%d", cl_getpid());
		char *args[] = {self_path,    "--scenario", "after-exec",
				"--old-tgid", id,           "--old-tid",
				id,           "--baseline", NULL};
		execv(self_path, args);
		_exit(127);
	}
	int status;
	while (waitpid(c, &status, 0) < 0)
		if (errno != EINTR)
			cl_die("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		errno = ECHILD;
		cl_die("exec-baseline-child");
	}
	long threads = own_threads();
	if (threads < 0)
		cl_die("read-threads");
	scenario_rec("exec-process-baseline");
	cl_int(CL_REC, "oldTid", c);
	cl_int(CL_REC, "getpid", cl_getpid());
	cl_int(CL_REC, "threads", threads);
	cl_end(CL_REC);
}

/* "set": nice (and affinity, with 2+ CPUs allowed) of worker 1, by TID. */
static void sched_set(void)
{
	cpu_set_t allowed;
	if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0)
		cl_die("sched_getaffinity");
	int ncpu = CPU_COUNT(&allowed);
	errno = 0;
	int before = getpriority(PRIO_PROCESS, (id_t)tids[1]);
	if (before == -1 && errno)
		cl_die("getpriority");
	/* A value other than the group's: higher is always allowed (setpriority(2)). */
	int want = before <= 12 ? before + 7 : before < 19 ? 19 : 18;
	int pri = setpriority(PRIO_PROCESS, (id_t)tids[1],
			      want); /* a TID: that task only? */
	int pri_errno = errno;
	scenario_rec("schedSet");
	cl_int(CL_REC, "target", tids[1]);
	cl_int(CL_REC, "cpus", ncpu);
	cl_int(CL_REC, "niceWanted", want);
	cl_str(CL_REC, "nice", pri == 0 ? "ok" : cl_errno_name(pri_errno));
	if (ncpu >= 2) {
		int cpu = 0;
		while (!CPU_ISSET(cpu, &allowed))
			cpu++;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		int aff = sched_setaffinity((pid_t)tids[1], sizeof(one),
					    &one); /* by TID */
		cl_str(CL_REC, "affinity",
		       aff == 0 ? "ok" : cl_errno_name(errno));
		cl_int(CL_REC, "cpu", cpu);
	}
	cl_ints(CL_REC, "getpids", getpids, NWORKERS + 1);
	cl_end(CL_REC);
}

int main(int argc, char **argv)
{
	if (argc == 8 && strcmp(argv[2], "after-exec") == 0) {
		/* The exec baseline's child: its parent is this probe, not the harness,
		 * so cl_setup()'s parent check does not apply; it dies with its parent. */
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
			cl_die("prctl-pdeathsig");
		after_exec(argc, argv);
	}
	cl_setup();
	if (argc < 3 || strcmp(argv[1], "--scenario") != 0)
		cl_usage(
			"usage: thread-group --scenario end|exec|leader-exit-signal|ppid|creds-raw|creds-libc|sched");
	scenario = argv[2];
	ssize_t n = readlink("/proc/self/exe", self_path,
			     sizeof(self_path) - 1);
	if (n < 0)
		cl_die("readlink-self");
	self_path[n] = '\0';
	if (strcmp(scenario, "after-exec") == 0)
		after_exec(argc, argv);
	if (strcmp(scenario, "end") == 0)
		end_scenario(argc, argv);
	static const char *known[] = {"exec",       "leader-exit-signal",
				      "ppid",       "creds-raw",
				      "creds-libc", "sched"};
	size_t k;
	for (k = 0;
	     k < sizeof(known) / sizeof(known[0]) && strcmp(known[k], scenario);
	     k++)
		;
	if (k == sizeof(known) / sizeof(known[0]))
		cl_usage("thread-group: unknown scenario '%s'", scenario);
	spin = strcmp(scenario, "sched") == 0;

	if (strcmp(scenario, "ppid") == 0) {
		long long ids[7] = {0};
		pthread_t ta;
		/* A thread makes a thread: the new one's getppid() is still the group's parent.
		 * The same thread forks a process: its getppid() is this group (fork(2)). */
		if (pthread_create(&ta, NULL, outer, ids) ||
		    pthread_join(ta, NULL))
			cl_die("pthread_create");
		if (!ids[4]) {
			errno = ids[6] ? (int)ids[6] : ECHILD;
			cl_die("fork-from-thread");
		}
		scenario_rec(scenario);
		cl_int(CL_REC, "leaderTid", cl_gettid());
		cl_int(CL_REC, "getpid", cl_getpid());
		cl_int(CL_REC, "leaderPpid", cl_getppid());
		cl_int(CL_REC, "threadTid", ids[0]);
		cl_int(CL_REC, "threadPpid", ids[1]);
		cl_int(CL_REC, "nestedTid", ids[2]);
		cl_int(CL_REC, "nestedPpid", ids[3]);
		cl_int(CL_REC, "forkedPid", ids[4]);
		cl_int(CL_REC, "forkedPpid", ids[5]);
		cl_end(CL_REC);
		cl_done();
		return 0;
	}
	if (strcmp(scenario, "leader-exit-signal") == 0) {
		struct sigaction sa = {0};
		sa.sa_handler = on_usr1;
		if (sigaction(SIGUSR1, &sa, NULL) != 0)
			cl_die("sigaction");
	}
	tids[0] = cl_gettid();
	getpids[0] = cl_getpid();
	for (long i = 1; i <= NWORKERS; i++)
		if (pthread_create(&workers[i], NULL, worker, (void *)i) != 0)
			cl_die("pthread_create");
	cl_wait_eq(&started, NWORKERS);
	if (strcmp(scenario, "leader-exit-signal") == 0)
		cl_exit_thread(0); /* the worker takes over */
	if (strcmp(scenario, "creds-raw") == 0) {
		scenario_rec("credsSet");
		cl_int(CL_REC, "target", tids[1]);
		cl_str(CL_REC, "setresuid",
		       creds_result ? cl_errno_name(creds_result) : "ok");
		cl_end(CL_REC);
	}
	if (strcmp(scenario, "creds-libc") == 0) {
		int r = setresuid(65534, 65534, 65534);
		scenario_rec("credsSet");
		cl_int(CL_REC, "target", tids[0]);
		cl_str(CL_REC, "setresuid",
		       r == 0 ? "ok" : cl_errno_name(errno));
		cl_end(CL_REC);
	}
	if (strcmp(scenario, "exec") == 0)
		exec_baseline();
	cl_ready(cl_getpid(), tids, NWORKERS + 1);
	if (strcmp(scenario, "sched") == 0) {
		char cmd[256];
		while (strcmp(cl_read_command(cmd, sizeof(cmd)), "set") != 0 &&
		       strcmp(cmd, "release") != 0)
			cl_unknown_command(cmd);
		if (strcmp(cmd, "set") == 0) {
			sched_set();
			cl_wait_release();
		}
	} else {
		cl_wait_release();
	}
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	cl_futex_wake(&go, 1 << 30);
	if (strcmp(scenario, "exec") == 0) {
		for (;;)
			pause(); /* ended by the worker's execve */
	}
	for (int i = 1; i <= NWORKERS; i++)
		pthread_join(workers[i], NULL);
	cl_done();
	return 0;
}
