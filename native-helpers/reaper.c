/*
 * reaper: the harness starts every probe through this, so that no task a
 * probe makes outlives it, whatever the probe does.
 *
 *   reaper [--report-leftovers] PROBE [ARGS...]
 *
 * Why not just kill the probe's process group from node: an orphan is
 * reparented to the nearest child subreaper or to init, and not every init
 * reaps (container inits, sandbox agents: seen on the machine this was
 * written on), so killed grandchildren would stay zombies. Here the reaper
 * is a child subreaper (PR_SET_CHILD_SUBREAPER, prctl(2)): every orphan of
 * the probe's tree comes to it, and it reaps them all before it exits.
 * A CLONE_PARENT child of the probe also lands here, never in node.
 *
 * The probe runs in a process group of its own (setpgid) with stdin and
 * stdout untouched. When the probe ends, or when the reaper gets SIGTERM
 * (the harness's deadline, or PR_SET_PDEATHSIG when the harness dies), it
 * SIGKILLs the probe's group, then every child it still has, until wait
 * reports ECHILD. Its exit status is the probe's: the same exit code, or
 * death by the same signal. The reaper itself writes only to stderr.
 *
 * --report-leftovers (for npm run check:environments, which runs a whole
 * suite under it): a task still alive 10 s after the command exited (time to
 * wind down on its own, as a test runner's workers do after an interrupt)
 * is a leftover of the run; each is named on stderr in one line,
 * "clonelab-reaper: leftover PID (comm)", before it is killed and reaped.
 */
#include "clonelab.h"
#include <dirent.h>

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int report_leftovers;

/* SIGKILL every direct child listed in /proc/self/task/TID/children (proc(5)). */
static int kill_children(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/task/%d/children",
		 cl_gettid());
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	int n = 0, pid;
	while (fscanf(f, "%d", &pid) == 1) {
		if (report_leftovers) {
			char cpath[64], comm[64] = "?";
			snprintf(cpath, sizeof(cpath), "/proc/%d/comm", pid);
			FILE *c = fopen(cpath, "r");
			if (c) {
				if (fgets(comm, sizeof(comm), c))
					comm[strcspn(comm, "\n")] = '\0';
				fclose(c);
			}
			fprintf(stderr, "clonelab-reaper: leftover %d (%s)\n",
				pid, comm);
		}
		kill(pid, SIGKILL);
		n++;
	}
	fclose(f);
	return n;
}

/* Reap whatever exits by itself within ms; what is still there after is left over. */
static void wind_down(int ms)
{
	for (int waited = 0; waited < ms; waited += 10) {
		int st;
		pid_t p;
		while ((p = waitpid(-1, &st, WNOHANG | __WALL)) > 0)
			;
		if (p < 0 && errno == ECHILD)
			return;
		struct timespec ts = {0, 10000000};
		nanosleep(&ts, NULL);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--report-leftovers") == 0) {
		report_leftovers = 1;
		argv++;
		argc--;
	}
	if (argc < 2)
		cl_usage("usage: reaper [--report-leftovers] PROBE [ARGS...]");
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 ||
	    prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) {
		perror("reaper: prctl");
		return 125;
	}
	const char *want = getenv("CLONELAB_PARENT");
	if (want && atoi(want) != getppid())
		return 125; /* the harness is already gone */

	struct sigaction sa = {0};
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	char self[16];
	snprintf(self, sizeof(self), "%d", getpid());
	setenv("CLONELAB_PARENT", self, 1);

	pid_t probe = fork();
	if (probe < 0) {
		perror("reaper: fork");
		return 125;
	}
	if (probe == 0) {
		setpgid(0, 0);
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[1],
		       argv + 1); /* a prefix command (setpriv, unshare) is found on PATH */
		fprintf(stderr, "reaper: cannot run %s: %s\n", argv[1],
			strerror(errno));
		_exit(126);
	}
	setpgid(probe,
		probe); /* also from here: no window where the group does not exist yet */

	int status = 0, have_status = 0;
	for (;;) {
		if (stop_requested) {
			kill(-probe, SIGKILL);
			kill_children();
		}
		int st;
		/* __WALL: also children whose exit signal is not SIGCHLD (a CLONE_PARENT child of a clone3 caller) */
		pid_t p = waitpid(-1, &st, __WALL);
		if (p < 0) {
			if (errno == EINTR)
				continue;
			break; /* ECHILD: nothing of the probe's tree is left */
		}
		if (p == probe) {
			status = st;
			have_status = 1;
			if (report_leftovers && !stop_requested)
				wind_down(10000);
			/* The probe is gone: whatever it left behind goes too. */
			if (!report_leftovers)
				kill(-probe,
				     SIGKILL); /* (reported ones are found as children below) */
			kill_children();
		} else if (have_status) {
			kill_children();
		}
	}
	if (!have_status)
		return 125;
	if (WIFSIGNALED(status)) {
		int sig = WTERMSIG(status);
		signal(sig, SIG_DFL);
		prctl(PR_SET_DUMPABLE,
		      0); /* the probe may have dumped core already: not twice */
		raise(sig);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 125;
}
