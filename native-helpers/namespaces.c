/*
 * namespaces: tasks in nested PID namespaces, each telling the PIDs it has.
 *
 *   namespaces [--depth D] [--threads T] [--userns] [--mount-proc]
 *
 * The probe makes a chain of D new PID namespaces with raw clone(2)
 * (CLONE_NEWPID, plus CLONE_NEWUSER with --userns so that an unprivileged
 * user may do it, user_namespaces(7)). The first task in each is that
 * namespace's init (PID 1 there). In the innermost, init forks a worker,
 * which starts T threads. Every task prints an "nstask" record: getpid(),
 * gettid(), getppid() as it sees them, and the NSpid line of its own
 * /proc/thread-self/status: one PID per level, from the namespace of the /proc
 * mount (the host's) down to its own (proc(5)).
 *
 * --mount-proc adds CLONE_NEWNS to the first clone; the innermost init makes
 * its mounts private, mounts a new procfs on /proc and prints "nsproc": the
 * numeric entries that /proc lists there (no "nsproc" when the mount
 * failed: an error record says why). (Every task reads its own status
 * through a descriptor of the original /proc opened before, so NSpid always
 * shows every level.)
 *
 * A clone that the kernel refuses (EPERM without privilege, ENOSPC past
 * user.max_pid_namespaces) is an "error" record, and the probe then ends
 * normally: the harness skips with that reason.
 *
 * All tasks block reading a pipe that only the probe's first process can
 * write; "release" closes it, they exit, and each init reaps its children.
 */
#include "clonelab.h"
#include <pthread.h>

#include <dirent.h>
#include <sys/mount.h>

static int depth = 1, nthreads, use_userns, mount_proc;
static int host_proc = -1;  /* the /proc this probe started with */
static int worker_ready[2]; /* worker -> innermost init */
static int hold[2];         /* read end held open by every task; closed = go */
static int
	ready_pipe[2]; /* innermost worker writes one byte when all have printed */

static void print_nstask(int level, const char *role)
{
	char buf[4096], nspid[256];
	int have_nspid = 0;
	if (cl_read_file_at(host_proc, "thread-self/status", buf, sizeof(buf)) <
	    0) {
		/* No NSpid then: the record leaves it out and this says why. */
		cl_error_rec("read(/proc/thread-self/status)", errno, 0);
	} else {
		char *p =
			strstr(buf,
			       "\nNSpid:"); /* absent before Linux 4.1 (proc(5)) */
		if (p) {
			p += 7;
			while (*p == '\t' || *p == ' ')
				p++;
			size_t len = strcspn(p, "\n");
			snprintf(nspid, sizeof(nspid), "%.*s", (int)len, p);
			have_nspid = 1;
		}
	}
	cl_begin(CL_REC, "nstask");
	cl_int(CL_REC, "level", level);
	cl_str(CL_REC, "role", role);
	cl_int(CL_REC, "getpid", cl_getpid());
	cl_int(CL_REC, "gettid", cl_gettid());
	cl_int(CL_REC, "getppid", cl_getppid());
	if (have_nspid)
		cl_str(CL_REC, "nspid", nspid);
	cl_end(CL_REC); /* one write(2) under PIPE_BUF: records of several processes do not interleave */
}

static void wait_for_release(void)
{
	char c;
	while (read(hold[0], &c, 1) < 0 && errno == EINTR)
		;
}

static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;
static int threads_printed;

static void *thread_main(void *arg)
{
	pthread_mutex_lock(&print_lock);
	print_nstask(*(int *)arg, "thread");
	threads_printed++;
	pthread_mutex_unlock(&print_lock);
	wait_for_release();
	return NULL;
}

static void worker(int level)
{
	pthread_mutex_lock(&print_lock);
	print_nstask(level, "worker");
	pthread_mutex_unlock(&print_lock);
	pthread_t th[64];
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&th[i], NULL, thread_main, &level) != 0)
			cl_die("pthread_create");
	for (;;) { /* every thread has printed before we say so */
		pthread_mutex_lock(&print_lock);
		int n = threads_printed;
		pthread_mutex_unlock(&print_lock);
		if (n == nthreads)
			break;
		sched_yield();
	}
	if (write(worker_ready[1], "r", 1) != 1)
		cl_die("write-ready");
	wait_for_release();
	for (int i = 0; i < nthreads; i++)
		pthread_join(th[i], NULL);
	_exit(0);
}

/* A procfs of this PID namespace on /proc, in this (private) mount namespace only. 1 when mounted. */
static int mount_own_proc(void)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) {
		cl_error_rec("mount(/, MS_REC|MS_PRIVATE)", errno, 0);
		return 0;
	}
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  NULL) != 0) {
		cl_error_rec("mount(proc, /proc)", errno, 0);
		return 0;
	}
	return 1;
}

static void list_own_proc(int level)
{
	long long entries[256];
	size_t n = 0;
	DIR *d = opendir("/proc");
	if (!d) {
		cl_error_rec("opendir(/proc)", errno, 0);
		return;
	}
	errno = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		if (n == sizeof(entries) / sizeof(entries[0])) {
			/* more tasks than this namespace should hold: say so rather than cut the list */
			cl_error_rec(
				"readdir(/proc): more than 256 numeric entries",
				E2BIG, 0);
			closedir(d);
			return;
		}
		entries[n++] = atoll(e->d_name);
	}
	if (errno) {
		cl_error_rec("readdir(/proc)", errno, 0);
		closedir(d);
		return;
	}
	closedir(d);
	char self[64];
	ssize_t len = readlink("/proc/self", self, sizeof(self) - 1);
	if (len < 0)
		cl_error_rec("readlink(/proc/self)", errno, 0);
	else
		self[len] = '\0';
	cl_begin(CL_REC, "nsproc");
	cl_int(CL_REC, "level", level);
	cl_ints(CL_REC, "entries", entries, n);
	if (len >= 0)
		cl_str(CL_REC, "self", self);
	cl_end(CL_REC);
}

/* Runs as PID 1 of namespace `level`: go one deeper, or start the worker; then reap. */
static void ns_init(int level);

static pid_t clone_into_new_ns(int level)
{
	unsigned long flags = CLONE_NEWPID | SIGCHLD |
			      (use_userns && level == 1 ? CLONE_NEWUSER : 0) |
			      (mount_proc && level == 1 ? CLONE_NEWNS : 0);
	long pid = cl_clone_forklike(flags, NULL, NULL);
	if (pid < 0) {
		cl_begin(CL_REC, "error");
		char op[96];
		snprintf(op, sizeof(op), "clone(%sCLONE_NEWPID%s)",
			 use_userns && level == 1 ? "CLONE_NEWUSER|" : "",
			 mount_proc && level == 1 ? "|CLONE_NEWNS" : "");
		cl_str(CL_REC, "op", op);
		cl_str(CL_REC, "errno", cl_errno_name(errno));
		cl_int(CL_REC, "errnoValue", errno);
		cl_int(CL_REC, "level", level);
		cl_end(CL_REC);
		return -1;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(hold[1]);
		ns_init(level);
		_exit(0);
	}
	return (pid_t)pid;
}

static void ns_init(int level)
{
	print_nstask(level, "init");
	if (level < depth) {
		if (clone_into_new_ns(level + 1) < 0) {
			if (write(ready_pipe[1], "e", 1) != 1)
				cl_die("write-ready");
		}
	} else {
		int mounted = mount_proc && mount_own_proc();
		pid_t w = fork();
		if (w < 0)
			cl_die("fork");
		if (w == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(hold[1]);
			worker(level);
		}
		char c = 'e';
		if (read(worker_ready[0], &c, 1) != 1)
			c = 'e';
		if (mounted) /* never list the inherited /proc as if it were this namespace's */
			list_own_proc(level);
		if (write(ready_pipe[1], &c, 1) != 1)
			cl_die("write-ready");
	}
	/* An init reaps every task of its namespace (pid_namespaces(7)). */
	while (wait(NULL) > 0 || errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	cl_setup();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--userns") == 0)
			use_userns = 1;
		else if (strcmp(argv[i], "--mount-proc") == 0)
			mount_proc = 1;
		else if (strcmp(argv[i], "--depth") == 0 && i + 1 < argc)
			depth = (int)cl_arg_long("--depth", argv[++i], 1, 8);
		else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc)
			nthreads = (int)cl_arg_long("--threads", argv[++i], 0,
						    64);
		else
			cl_usage(
				"usage: namespaces [--depth D] [--threads T] [--userns] [--mount-proc]");
	}
	if (pipe(hold) != 0 || pipe(ready_pipe) != 0 || pipe(worker_ready) != 0)
		cl_die("pipe");
	host_proc = open("/proc", O_RDONLY | O_DIRECTORY);
	if (host_proc < 0)
		cl_die("open(/proc)");
	print_nstask(0, "probe");
	pid_t child = clone_into_new_ns(1);
	char c = 'e';
	if (child > 0 && read(ready_pipe[0], &c, 1) != 1)
		c = 'e';
	long long me = cl_getpid();
	if (c == 'r') {
		long long tids[2] = {me, child};
		cl_ready((pid_t)me, tids, 2);
		cl_wait_release();
	}
	close(hold[1]);
	close(hold[0]);
	if (child > 0 && waitpid(child, NULL, 0) < 0)
		cl_die("waitpid");
	cl_done();
	return 0;
}
