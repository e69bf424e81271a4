/*
 * signals: where a signal sent to a thread's ID lands.
 *
 *   signals [--threads N]        (N >= 2 workers besides the leader)
 *
 * Every test signal is blocked in every thread (the mask is set before the
 * threads exist, so they inherit it) and has a handler that records the TID
 * that ran it. A blocked signal stays pending where the kernel queued it:
 * the group's shared set (ShdPnd in /proc/PID/task/TID/status) for a
 * process-directed signal, or one thread's private set (SigPnd) for a
 * thread-directed one (signal(7), kernel/signal.c __send_signal_locked()).
 *
 * After "ready" (tgid, all TIDs, then the TID of a thread that has already
 * exited and been joined), commands on stdin:
 *   send METHOD TID SIG   METHOD: kill (raw syscall), libc-kill (libc's
 *                         kill(), which claims name), tgkill,
 *                         tgkill-wrong-tgid, tkill, pidfd (pidfd_open(TID,
 *                         0)), pidfd-thread (pidfd_open(TID, PIDFD_THREAD),
 *                         Linux 6.9+)
 *                         -> "sent" with "ok" or the errno name, and the
 *                         syscall that gave it (pidfd_open or
 *                         pidfd_send_signal for the pidfd methods)
 *   unblock INDEX SIG     worker INDEX (1..N) unblocks SIG; -> "handled" with
 *                         the TID whose handler ran within 300 ms, or no
 *                         handlerTid at all when none ran (never a 0 that
 *                         could be read as a TID)
 *   release
 * The probe only ever signals its own tasks; towards the exited TID the
 * harness sends signal 0 (an existence check: kill(2)), never a real one.
 */
#include "clonelab.h"
#include <pthread.h>
#include <sys/syscall.h>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL /* include/uapi/linux/pidfd.h, Linux 6.9 */
#endif

#define MAX_WORKERS 16

static int nworkers = 2;
static pthread_t workers[MAX_WORKERS + 1];
static long long tids[MAX_WORKERS + 1];
static int started;
static int command_seq[MAX_WORKERS + 1]; /* bumped to hand a worker its command */
static int command_sig[MAX_WORKERS + 1];
static int quit;
static volatile pid_t handled_by[_NSIG];

static void handler(int sig)
{
	handled_by[sig] = (pid_t)syscall(SYS_gettid);
}

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	tids[i] = cl_gettid();
	cl_add_wake(&started, 1);
	int seen = 0;
	for (;;) {
		cl_wait_eq_not(&command_seq[i], seen);
		seen = __atomic_load_n(&command_seq[i], __ATOMIC_ACQUIRE);
		if (__atomic_load_n(&quit, __ATOMIC_ACQUIRE))
			return NULL;
		sigset_t one;
		sigemptyset(&one);
		sigaddset(&one, command_sig[i]);
		/* A pending signal is delivered on return. A refused unblock would make "no handler ran" a lie. */
		int e = pthread_sigmask(SIG_UNBLOCK, &one, NULL);
		if (e) {
			errno = e;
			cl_die("pthread_sigmask (unblocking in a worker)");
		}
	}
}

static void send(const char *method, pid_t target, int sig)
{
	pid_t tgid = cl_getpid();
	int r, err = 0;
	const char *sys = method;
	if (strcmp(method, "kill") == 0)
		r = cl_kill(target, sig);
	else if (strcmp(method, "libc-kill") == 0) {
		r = kill(target,
			 sig); /* what a program calling kill(2) gets: libc's wrapper */
		sys = "kill";
	} else if (strcmp(method, "tgkill") == 0)
		r = cl_tgkill(tgid, target, sig);
	else if (strcmp(method, "tgkill-wrong-tgid") == 0) {
		r = cl_tgkill(cl_getppid(), target,
			      sig); /* the reaper's PID: not the thread's group */
		sys = "tgkill";
	} else if (strcmp(method, "tkill") == 0)
		r = cl_tkill(target, sig);
	else if (strcmp(method, "pidfd") == 0 ||
		 strcmp(method, "pidfd-thread") == 0) {
		int fd = cl_pidfd_open(target, strcmp(method, "pidfd") == 0 ?
						       0 :
						       PIDFD_THREAD);
		sys = "pidfd_open";
		if (fd < 0) {
			r = -1;
		} else {
			sys = "pidfd_send_signal";
			r = cl_pidfd_send_signal(fd, sig, NULL, 0);
			err = errno;
			close(fd);
			errno = err;
		}
	} else {
		cl_unknown_command(method);
		return;
	}
	err = r < 0 ? errno : 0;
	cl_begin(CL_REC, "sent");
	cl_str(CL_REC, "method", method);
	cl_int(CL_REC, "target", target);
	cl_int(CL_REC, "sig", sig);
	cl_str(CL_REC, "result", r == 0 ? "ok" : cl_errno_name(err));
	cl_str(CL_REC, "syscall", sys);
	cl_end(CL_REC);
}

static void unblock(int index, int sig)
{
	handled_by[sig] = 0;
	command_sig[index] = sig;
	cl_add_wake(&command_seq[index], 1);
	int waited_ms = 0;
	for (; waited_ms < 300 && !handled_by[sig]; waited_ms++) {
		struct timespec ts = {0, 1000000};
		/* A refused sleep would end the 300 ms wait at once: no handler "within 300 ms" would be a lie. */
		if (nanosleep(&ts, NULL) != 0 && errno != EINTR)
			cl_die("nanosleep (waiting for the handler)");
	}
	cl_begin(CL_REC, "handled");
	cl_int(CL_REC, "sig", sig);
	cl_int(CL_REC, "unblockedIn", tids[index]);
	if (handled_by[sig])
		cl_int(CL_REC, "handlerTid", handled_by[sig]);
	cl_int(CL_REC, "waitedMs", waited_ms);
	cl_end(CL_REC);
}

int main(int argc, char **argv)
{
	cl_setup();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			nworkers = (int)cl_arg_long("--threads", argv[++i], 2,
						    MAX_WORKERS);
		else
			cl_usage("usage: signals [--threads N]");
	}
	/* Block every signal a test uses, in this thread before any other exists. */
	sigset_t all;
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	/* Every later statement about where a signal was queued rests on this block: it must have worked. */
	int e = pthread_sigmask(SIG_BLOCK, &all, NULL);
	if (e) {
		errno = e;
		cl_die("pthread_sigmask (blocking the test signals)");
	}
	struct sigaction sa = {0};
	sa.sa_handler = handler;
	for (int s = 1; s < _NSIG; s++)
		if (sigismember(&all, s) && sigaction(s, &sa, NULL) != 0 &&
		    errno != EINVAL) /* EINVAL: libc-reserved */
			cl_die("sigaction (installing the handler)");

	/* A thread that has exited and been joined: its TID for the ESRCH checks. */
	pthread_t gone;
	tids[0] = 0;
	if (pthread_create(&gone, NULL, worker, (void *)0L) != 0)
		cl_die("pthread_create");
	cl_wait_eq(&started, 1);
	long long exited_tid = tids[0];
	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	cl_add_wake(&command_seq[0], 1);
	pthread_join(gone, NULL);
	__atomic_store_n(&quit, 0, __ATOMIC_RELEASE);
	started = 0;

	tids[0] = cl_gettid();
	for (long i = 1; i <= nworkers; i++)
		if (pthread_create(&workers[i], NULL, worker, (void *)i) != 0)
			cl_die("pthread_create");
	cl_wait_eq(&started, nworkers);
	long long all_tids[MAX_WORKERS + 2];
	for (int i = 0; i <= nworkers; i++)
		all_tids[i] = tids[i];
	all_tids[nworkers + 1] = exited_tid; /* last: not a member any more */
	cl_ready(cl_getpid(), all_tids, (size_t)nworkers + 2);

	char cmd[256];
	for (;;) {
		cl_read_command(cmd, sizeof(cmd));
		if (strcmp(cmd, "release") == 0)
			break;
		char verb[32], method[32];
		int a, b;
		if (sscanf(cmd, "send %31s %d %d", method, &a, &b) == 3 &&
		    b >= 0 && b < _NSIG)
			send(method, a, b);
		else if (sscanf(cmd, "%31s %d %d", verb, &a, &b) == 3 &&
			 strcmp(verb, "unblock") == 0 && a >= 1 &&
			 a <= nworkers && b > 0 && b < _NSIG)
			unblock(a, b);
		else
			cl_unknown_command(cmd);
	}
	/* Leave with every signal still blocked: nothing pending runs a default action. */
	__atomic_store_n(&quit, 1, __ATOMIC_RELEASE);
	for (int i = 1; i <= nworkers; i++) {
		cl_add_wake(&command_seq[i], 1);
		pthread_join(workers[i], NULL);
	}
	cl_done();
	return 0;
}
