/*
 * clone: what a child made by clone(2) or clone3(2) shares with its creator,
 * tested empirically from both sides for one flag set or for all 256
 * combinations of the eight flags that decide sharing.
 *
 *   clone --matrix [--api clone|clone3]
 *   clone --flags VM,FS,... [--api clone|clone3]     (also namespaces, SETTID...)
 *   clone --try API:FLAGS[:EXITSIG] ...              (only: accepted or errno)
 *
 * For each child, the child changes something and the parent looks:
 *   memory   (CLONE_VM)      the child stores to a global; does the parent see it?
 *   files    (CLONE_FILES)   the child dup2()s onto fd 900 and closes fd 901
 *   fs       (CLONE_FS)      the child chdir("/")s and sets umask 077
 *   sighand  (CLONE_SIGHAND) the child installs a SIGUSR1 handler
 *   sysvsem  (CLONE_SYSVSEM) the child does semop(+1, SEM_UNDO) and exits: with a
 *            shared undo list the adjustment is not applied (semop(2), ipc/sem.c)
 *   thread   (CLONE_THREAD)  same getpid()? exit signal to the creator? waitable?
 *   parent   (CLONE_PARENT)  is the child's getppid() the creator's own parent?
 *   vfork    (CLONE_VFORK)   is the creator stopped ('D', wait_for_vfork_done())
 *            until the child exits?
 * Every child gets its own stack (one region reused: children run one at a
 * time), and is waited for until /proc shows it exited, so CLONE_THREAD and
 * CLONE_PARENT children (which the creator cannot wait for) are covered too;
 * a CLONE_PARENT child is reaped by the harness's reaper, its real parent.
 *
 * The child code runs with the creator's TLS (no CLONE_SETTLS): only thin
 * syscall wrappers, no stdio, no malloc, no locks.
 *
 * A step that fails on either side (the child's chdir, the parent's getcwd,
 * a readlink of /proc/.../ns/...) would make its resource look "not shared":
 * it is reported as an "error" record naming the step, the flags and the
 * errno, never folded into the row, so the harness can set the row aside.
 * Fields that only mean something for some flags (parentTid, pidfd, ...)
 * are printed only for those flags: nothing stands in for a value.
 */
#include "clonelab.h"
#include <poll.h>
#include <sys/sem.h>
#include <sys/stat.h>

#define FD_OPEN_TARGET 900  /* the child dup2()s onto it */
#define FD_CLOSE_TARGET 901 /* the parent opens it, the child closes it */
#define STACK_SIZE (256 * 1024)
#define WAIT_MS 3000

static const struct {
	const char *name;
	unsigned long long bit;
} FLAGS[] = {
	{"VM", CLONE_VM},
	{"FS", CLONE_FS},
	{"FILES", CLONE_FILES},
	{"SIGHAND", CLONE_SIGHAND},
	{"THREAD", CLONE_THREAD},
	{"SYSVSEM", CLONE_SYSVSEM},
	{"PARENT", CLONE_PARENT},
	{"VFORK", CLONE_VFORK},
	/* the eight above make the matrix; the rest only for --flags and --try */
	{"NEWPID", CLONE_NEWPID},
	{"NEWNS", CLONE_NEWNS},
	{"NEWUTS", CLONE_NEWUTS},
	{"NEWIPC", CLONE_NEWIPC},
	{"NEWNET", CLONE_NEWNET},
	{"NEWUSER", CLONE_NEWUSER},
	{"NEWCGROUP", CLONE_NEWCGROUP},
	{"PARENT_SETTID", CLONE_PARENT_SETTID},
	{"CHILD_CLEARTID", CLONE_CHILD_CLEARTID},
	{"CHILD_SETTID", CLONE_CHILD_SETTID},
	{"PIDFD", CLONE_PIDFD},
	{"CLEAR_SIGHAND", CLONE_CLEAR_SIGHAND},
	{"DETACHED", CLONE_DETACHED},
};
#define NFLAGS (sizeof(FLAGS) / sizeof(FLAGS[0]))
#define MATRIX_FLAGS 8

static const char *NS_NAMES[] = {"pid", "mnt",  "uts",   "ipc",
				 "net", "user", "cgroup"};
#define NNS 7

/* Shared with the child whatever the flags: MAP_SHARED survives fork. */
struct shm {
	int parent_returned, child_done, release;
	int caller_suspended;
	long long child_gettid, child_getpid, child_getppid;
	unsigned long long child_ns[NNS];
	int map_probe; /* a MAP_SHARED page of its own would say the same */
	/* The child's first failed step (a string literal: valid in the child
	 * and the parent whatever the flags) and its errno. */
	const char *child_fail_op;
	int child_fail_errno;
};

struct ctx {
	struct shm *shm;
	int devnull, semid, descfd;
	int *map_shared;
	char parent_stat[64]; /* /proc/TGID/task/TID/stat of the creator */
	int vfork;
	int detail;
	/* CLONE_NEWIPC: the creator's semaphore does not exist in the child's
	 * new IPC namespace (semop gives EINVAL), so SysV undo is not tried. */
	int newipc;
};

/* Private memory: only CLONE_VM makes the child's store visible. */
static int vm_probe;
static char *stack_base;

/* ------------------------------------------------------------ flag names */

static unsigned long long parse_flags(const char *list)
{
	unsigned long long bits = 0;
	if (!*list || strcmp(list, "none") == 0)
		return 0;
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", list);
	for (char *tok = strtok(buf, ",|"); tok; tok = strtok(NULL, ",|")) {
		size_t i;
		for (i = 0; i < NFLAGS; i++)
			if (strcmp(tok, FLAGS[i].name) == 0 ||
			    (strncmp(tok, "CLONE_", 6) == 0 &&
			     strcmp(tok + 6, FLAGS[i].name) == 0))
				break;
		if (i == NFLAGS) {
			char known[1024] = "";
			for (size_t k = 0; k < NFLAGS; k++)
				snprintf(known + strlen(known),
					 sizeof(known) - strlen(known), "%s%s",
					 k ? "," : "", FLAGS[k].name);
			cl_usage("clone: unknown clone flag '%s' (known: %s)",
				 tok, known);
		}
		bits |= FLAGS[i].bit;
	}
	return bits;
}

static const char *flag_names(unsigned long long bits, char *out, size_t size)
{
	out[0] = '\0';
	for (size_t i = 0; i < NFLAGS; i++) {
		if (bits & FLAGS[i].bit) {
			if (out[0])
				strncat(out, "|", size - strlen(out) - 1);
			strncat(out, FLAGS[i].name, size - strlen(out) - 1);
		}
	}
	if (!out[0])
		snprintf(out, size, "none");
	return out;
}

/* ------------------------------------------------------ creating a child */

#if defined(__x86_64__)
/*
 * clone3 has no libc wrapper that runs a function on a new stack: this is
 * the smallest one. In the child (rax == 0) call fn(arg) on the new stack,
 * then exit(2) with its return value: the calling task only.
 */
static long clone3_run(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	register long r12 __asm__("r12") = (long)fn;
	register long r13 __asm__("r13") = (long)arg;
	long ret;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "mov %%r13, %%rdi\n\t"
			 "call *%%r12\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov %[nr_exit], %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n\t"
			 "1:\n\t"
			 : "=a"(ret)
			 : "a"((long)SYS_clone3), "D"(ca), "S"(sizeof(*ca)),
			   "r"(r12), "r"(r13), [nr_exit] "i"(SYS_exit)
			 : "rcx", "r11", "memory");
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#define HAVE_CLONE3_RUN 1
#elif defined(__aarch64__)
/*
 * The same on arm64: the syscall number in x8 and the arguments in x0, x1
 * (arch/arm64/kernel/syscall.c, invoke_syscall()), svc #0; the kernel
 * preserves every register but x0, which is 0 in the child
 * (arch/arm64/kernel/process.c, copy_thread()), and starts the child with
 * sp = stack + stack_size (kernel/fork.c, clone3_args_valid() and
 * copy_thread()). The child clears the frame pointer and the link register
 * (the end of the frame chain, for unwinders), calls fn(arg) and exits with
 * its return value (__NR_exit, 93: the calling task only).
 */
static long clone3_run(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	register long x0 __asm__("x0") = (long)ca;
	register long x1 __asm__("x1") = (long)sizeof(*ca);
	register long x8 __asm__("x8") = SYS_clone3;
	register long x9 __asm__("x9") = (long)fn;
	register long x10 __asm__("x10") = (long)arg;
	__asm__ volatile("svc #0\n\t"
			 "cbnz x0, 1f\n\t"
			 "mov x29, xzr\n\t"
			 "mov x30, xzr\n\t"
			 "mov x0, x10\n\t"
			 "blr x9\n\t"
			 "mov x8, %[nr_exit]\n\t"
			 "svc #0\n\t"
			 "brk #0\n\t"
			 "1:\n\t"
			 : "+r"(x0)
			 : "r"(x1), "r"(x8), "r"(x9),
			   "r"(x10), [nr_exit] "i"(SYS_exit)
			 : "memory");
	long ret = x0;
	if (ret < 0 && ret > -4096) {
		errno = (int)-ret;
		return -1;
	}
	return ret;
}
#define HAVE_CLONE3_RUN 1
#else
static long clone3_run(struct clone_args *ca, int (*fn)(void *), void *arg)
{
	(void)ca, (void)fn, (void)arg;
	errno = ENOSYS; /* no trampoline for this architecture */
	return -1;
}
#define HAVE_CLONE3_RUN 0
#endif

struct ids {
	pid_t ptid, ctid;
	int pidfd;
};

/*
 * Start fn(arg) in a child with these flags. Legacy clone(2) always carries
 * SIGCHLD as exit signal in its low byte (the kernel ignores it for
 * CLONE_THREAD and inherits the caller's for CLONE_PARENT, kernel/fork.c);
 * for clone3 the caller passes exit_signal, which must be 0 with
 * CLONE_THREAD or CLONE_PARENT.
 */
static long spawn(int use_clone3, unsigned long long flags, int exit_signal,
		  int (*fn)(void *), void *arg, struct ids *ids)
{
	ids->ptid = 0;
	ids->ctid = -1;
	ids->pidfd = -1;
	if (use_clone3) {
		struct clone_args ca = {0};
		ca.flags = flags;
		ca.exit_signal = (unsigned long long)exit_signal;
		ca.stack = (unsigned long long)(uintptr_t)stack_base;
		ca.stack_size = STACK_SIZE;
		ca.parent_tid = (unsigned long long)(uintptr_t)&ids->ptid;
		ca.child_tid = (unsigned long long)(uintptr_t)&ids->ctid;
		ca.pidfd = (unsigned long long)(uintptr_t)&ids->pidfd;
		return clone3_run(&ca, fn, arg);
	}
	/* With CLONE_PIDFD, legacy clone stores the pidfd where parent_tid goes. */
	void *ptid = (flags & CLONE_PIDFD) ? (void *)&ids->pidfd :
					     (void *)&ids->ptid;
	return clone(fn, stack_base + STACK_SIZE,
		     (int)flags | (exit_signal & 0xff), arg, ptid, NULL,
		     &ids->ctid);
}

/* ------------------------------------------------------------- child side */

static void on_usr1(int sig)
{
	(void)sig;
}

/* The namespace's inode number, or 0 (errno set) when the link cannot be read. */
static unsigned long long ns_inode(const char *pid_dir, const char *ns)
{
	char path[96], link[96];
	snprintf(path, sizeof(path), "%s/ns/%s", pid_dir, ns);
	long n = syscall(SYS_readlinkat, AT_FDCWD, path, link,
			 sizeof(link) - 1);
	if (n <= 0) {
		if (n == 0)
			errno = EIO;
		return 0;
	}
	link[n] = '\0';
	char *b = strchr(link, '[');
	unsigned long long ino = b ? strtoull(b + 1, NULL, 10) : 0;
	if (!ino)
		errno = EIO; /* not "type:[inode]" (proc(5), /proc/pid/ns/) */
	return ino;
}

static void tiny_sleep(void)
{
	struct timespec ts = {0, 20000};
	syscall(SYS_nanosleep, &ts, NULL);
}

/*
 * errno here is the creator's TLS slot (no CLONE_SETTLS), read at once: the
 * creator is asleep in futex(2) until child_done, so nothing else writes it.
 */
static void child_failed(struct shm *s, const char *op)
{
	if (!s->child_fail_op) {
		s->child_fail_errno = errno;
		s->child_fail_op = op;
	}
}

static int child_main(void *p)
{
	struct ctx *c = p;
	struct shm *s = c->shm;
	if ((s->child_gettid = cl_gettid()) < 0)
		child_failed(s, "gettid");
	if ((s->child_getpid = cl_getpid()) < 0)
		child_failed(s, "getpid");
	if ((s->child_getppid = cl_getppid()) < 0)
		child_failed(s, "getppid");
	/* Is the creator stopped while we run? Either it returns from clone and
	 * says so, or /proc shows it in 'D' (vfork waits killable-uninterruptible). */
	s->caller_suspended = -1;
	for (int i = 0; i < 100000; i++) {
		if (__atomic_load_n(&s->parent_returned, __ATOMIC_ACQUIRE)) {
			s->caller_suspended = 0;
			break;
		}
		if (cl_task_state(c->parent_stat) == 'D') {
			s->caller_suspended = 1;
			break;
		}
		tiny_sleep();
	}
	vm_probe = 1;
	if (dup2(c->devnull, FD_OPEN_TARGET) < 0)
		child_failed(s, "dup2");
	if (close(FD_CLOSE_TARGET) != 0)
		child_failed(s, "close");
	if (chdir("/") != 0)
		child_failed(s, "chdir");
	/* Raw: umask(2) cannot fail in the kernel, so libc's wrapper has no error path, but a seccomp filter can refuse it. */
	if (syscall(SYS_umask, 077) < 0)
		child_failed(s, "umask");
	struct sigaction sa = {0};
	sa.sa_handler = on_usr1;
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		child_failed(s, "sigaction");
	struct sembuf up = {0, 1, SEM_UNDO};
	if (!c->newipc && semop(c->semid, &up, 1) != 0)
		child_failed(s, "semop");
	if (c->detail) {
		if (lseek(c->descfd, 100, SEEK_SET) != 100)
			child_failed(s, "lseek");
		*c->map_shared = 1;
		for (int i = 0; i < NNS; i++)
			if (!(s->child_ns[i] = ns_inode("/proc/thread-self",
							NS_NAMES[i])))
				child_failed(s,
					     "readlink /proc/thread-self/ns");
	}
	cl_store_wake(&s->child_done, 1);
	if (!c->vfork) /* a vfork creator is stopped until we exit: do not wait for it */
		cl_wait_eq(&s->release, 1);
	return 0;
}

/* ------------------------------------------------------------ parent side */

/* futex wait with a deadline: 0 when *addr became want, -1 on timeout. */
static int wait_flag(int *addr, int want, int ms)
{
	struct timespec end, now;
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += ms / 1000;
	end.tv_nsec += (ms % 1000) * 1000000L;
	if (end.tv_nsec >= 1000000000L) {
		end.tv_sec++;
		end.tv_nsec -= 1000000000L;
	}
	for (;;) {
		int v = __atomic_load_n(addr, __ATOMIC_ACQUIRE);
		if (v == want)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long long left = (end.tv_sec - now.tv_sec) * 1000000000LL +
				 (end.tv_nsec - now.tv_nsec);
		if (left <= 0)
			return -1;
		struct timespec rel = {left / 1000000000LL,
				       left % 1000000000LL};
		syscall(SYS_futex, addr, FUTEX_WAIT, v, &rel, NULL, 0);
	}
}

/*
 * Until /proc shows the task dead (Z, X) or gone (ENOENT/ESRCH): past
 * exit_sem() and exit_files(). 0 when it did, -1 on timeout or when its stat
 * file could not be read for another reason (errno set).
 */
static int wait_exited(pid_t tid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", tid);
	for (int i = 0; i < WAIT_MS * 20; i++) {
		if (cl_read_file_at(AT_FDCWD, path, buf, sizeof(buf)) <= 0)
			return errno == ENOENT || errno == ESRCH ? 0 : -1;
		char *p = strrchr(buf, ')');
		if (p && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			return 0;
		struct timespec ts = {0, 50000};
		nanosleep(&ts, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

/* 1 open, 0 closed (EBADF), -1 when F_GETFD failed otherwise (errno set). */
static int fd_open(int fd)
{
	if (fcntl(fd, F_GETFD) != -1)
		return 1;
	return errno == EBADF ? 0 : -1;
}

/* A step of one row's experiment failed: an "error" record naming it and the flags. */
static void step_failed(const char *side, const char *op, int err,
			const char *names)
{
	char what[640];
	snprintf(what, sizeof(what), "%s in the %s (clone flags %s)", op, side,
		 names);
	cl_error_rec(what, err, 0);
}

/* Is SIGCHLD pending (1, 0), or -1 with errno when sigpending(2) itself failed. */
static int sigchld_pending(void)
{
	sigset_t p;
	if (sigpending(&p) != 0)
		return -1;
	return sigismember(&p, SIGCHLD);
}

/* Take every pending SIGCHLD; EAGAIN ends it, any other failure means the next row could not be judged. */
static void drain_sigchld(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	struct timespec zero = {0, 0};
	while (sigtimedwait(&set, NULL, &zero) == SIGCHLD)
		;
	if (errno != EAGAIN)
		cl_die("sigtimedwait (draining SIGCHLD)");
}

static int semid, devnull, home_fd;
static unsigned long long parent_ns[NNS];
static int parent_ns_errno[NNS];

/* Put everything the child may change back as it was. */
static void reset_parent(void)
{
	vm_probe = 0;
	close(FD_OPEN_TARGET);
	if (dup2(devnull, FD_CLOSE_TARGET) < 0)
		cl_die("dup2");
	if (fchdir(home_fd) != 0)
		cl_die("fchdir");
	if (syscall(SYS_umask, 022) < 0)
		cl_die("umask");
	struct sigaction dfl = {0};
	dfl.sa_handler = SIG_DFL;
	sigaction(SIGUSR1, &dfl, NULL);
	/* SETVAL clears this semaphore's undo entries in every process (semctl(2)). */
	if (semctl(semid, 0, SETVAL, 0) != 0)
		cl_die("semctl-setval");
	drain_sigchld();
}

static int exit_signal_for(int use_clone3, unsigned long long flags)
{
	if (use_clone3 && (flags & (CLONE_THREAD | CLONE_PARENT)))
		return 0;
	return SIGCHLD;
}

/* One child with these flags: the "share" record (and "shareDetail" with detail). */
static void run_one(int use_clone3, unsigned long long flags, int detail)
{
	static struct shm *s;
	static int *map_shared;
	if (!s) {
		s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		map_shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
				  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (s == MAP_FAILED || map_shared == MAP_FAILED)
			cl_die("mmap-shared");
	}
	reset_parent();
	memset(s, 0, sizeof(*s));
	*map_shared = 0;

	char tmpl[] = "/tmp/clonelab-share-XXXXXX";
	int descfd = -1;
	if (detail) {
		descfd = mkstemp(tmpl);
		if (descfd < 0)
			cl_die("mkstemp");
		unlink(tmpl);
	}
	struct ctx c = {.shm = s,
			.devnull = devnull,
			.semid = semid,
			.descfd = descfd,
			.map_shared = map_shared,
			.vfork = !!(flags & CLONE_VFORK),
			.detail = detail,
			.newipc = !!(flags & CLONE_NEWIPC)};
	snprintf(c.parent_stat, sizeof(c.parent_stat), "/proc/%d/task/%d/stat",
		 cl_getpid(), cl_gettid());

	struct ids ids;
	int exit_signal = exit_signal_for(use_clone3, flags);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	long tid = spawn(use_clone3, flags, exit_signal, child_main, &c, &ids);
	int err = errno;
	__atomic_store_n(&s->parent_returned, 1, __ATOMIC_RELEASE);

	char names[512];
	flag_names(flags, names, sizeof(names));
	if (tid < 0) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		cl_begin(CL_REC, "share");
		cl_str(CL_REC, "api", use_clone3 ? "clone3" : "clone");
		cl_str(CL_REC, "flags", names);
		cl_int(CL_REC, "exitSignal", exit_signal);
		cl_bool(CL_REC, "accepted", 0);
		cl_str(CL_REC, "errno", cl_errno_name(err));
		cl_int(CL_REC, "ns",
		       (t1.tv_sec - t0.tv_sec) * 1000000000LL +
			       (t1.tv_nsec - t0.tv_nsec));
		cl_end(CL_REC);
		if (descfd >= 0)
			close(descfd);
		return;
	}
	int hung = wait_flag(&s->child_done, 1, WAIT_MS) != 0;
	/* Waitable by its creator? A thread or a CLONE_PARENT child is not (ECHILD). */
	int st;
	pid_t w = waitpid((pid_t)tid, &st, WNOHANG | __WALL);
	int wait_errno = w < 0 ? errno : 0;
	int reaped = w == tid;
	char cwd[256];
	if (!getcwd(cwd, sizeof(cwd))) {
		step_failed("parent", "getcwd", errno, names);
		cwd[0] = '\0';
	}
	long old_umask = syscall(SYS_umask, 022);
	if (old_umask < 0)
		step_failed("parent", "umask", errno, names);
	struct sigaction cur;
	if (sigaction(SIGUSR1, NULL, &cur) != 0) {
		step_failed("parent", "sigaction (query)", errno, names);
		cur.sa_handler = SIG_DFL;
	}
	int open_seen = fd_open(FD_OPEN_TARGET);
	if (open_seen < 0)
		step_failed("parent", "fcntl F_GETFD", errno, names);
	int close_open = fd_open(FD_CLOSE_TARGET);
	if (close_open < 0)
		step_failed("parent", "fcntl F_GETFD", errno, names);
	int memory = vm_probe == 1, files_open = open_seen == 1,
	    files_close = close_open == 0;
	int fs_cwd = strcmp(cwd, "/") == 0, fs_umask = old_umask == 077,
	    sighand = cur.sa_handler == on_usr1;

	cl_store_wake(&s->release, 1);
	if (hung)
		kill((pid_t)tid,
		     SIGKILL); /* our own child: it never said it was done */
	/*
	 * Our own child: reap it with a blocking wait. exit_notify() sets the
	 * zombie state and queues the exit signal under tasklist_lock, which
	 * wait takes too, so after wait the signal is pending if it was sent.
	 * /proc can show 'Z' before the signal is queued (seen under emulation).
	 * Others (threads, CLONE_PARENT children): until /proc shows them dead.
	 */
	int gone = reaped;
	if (!reaped && wait_errno == 0) {
		gone = waitpid((pid_t)tid, &st, __WALL) == tid;
		if (!gone)
			step_failed("parent", "waitpid", errno, names);
	} else if (!reaped) {
		gone = wait_exited((pid_t)tid) == 0;
		if (!gone)
			step_failed("parent",
				    "waiting for the child to exit (/proc stat)",
				    errno, names);
	}
	int semval = semctl(semid, 0, GETVAL);
	if (semval < 0)
		step_failed("parent", "semctl GETVAL", errno, names);
	int sysvsem = semval == 1;
	int exit_sig_seen = sigchld_pending();
	if (exit_sig_seen < 0)
		step_failed("parent", "sigpending", errno, names);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (s->child_fail_op)
		step_failed("child", s->child_fail_op, s->child_fail_errno,
			    names);
	if (wait_errno && wait_errno != ECHILD)
		step_failed("parent", "waitpid WNOHANG", wait_errno, names);

	cl_begin(CL_REC, "share");
	cl_str(CL_REC, "api", use_clone3 ? "clone3" : "clone");
	cl_str(CL_REC, "flags", names);
	cl_int(CL_REC, "exitSignal", exit_signal);
	cl_bool(CL_REC, "accepted", 1);
	cl_int(CL_REC, "cloneReturned", tid);
	/* Only what the child could read (a failed getter is an error record above). */
	if (s->child_gettid > 0)
		cl_int(CL_REC, "childGettid", s->child_gettid);
	if (s->child_getpid > 0)
		cl_int(CL_REC, "childGetpid", s->child_getpid);
	if (s->child_getppid >= 0)
		cl_int(CL_REC, "childGetppid", s->child_getppid);
	cl_bool(CL_REC, "memory", memory);
	cl_bool(CL_REC, "filesOpen", files_open);
	cl_bool(CL_REC, "filesClose", files_close);
	cl_bool(CL_REC, "fsCwd", fs_cwd);
	cl_bool(CL_REC, "fsUmask", fs_umask);
	cl_bool(CL_REC, "sighand", sighand);
	if (!c.newipc)
		cl_bool(CL_REC, "sysvsem", sysvsem);
	if (s->child_getpid > 0)
		cl_bool(CL_REC, "sameTgid", s->child_getpid == cl_getpid());
	cl_bool(CL_REC, "exitSignalToCaller", exit_sig_seen);
	cl_bool(CL_REC, "waitable", wait_errno == 0);
	if (wait_errno)
		cl_str(CL_REC, "waitErrno", cl_errno_name(wait_errno));
	if (s->child_getppid >= 0)
		cl_bool(CL_REC, "parentIsCallersParent",
			s->child_getppid == cl_getppid());
	/* 1 stopped ('D' seen), 0 returned from clone first, -1 neither seen in time. */
	cl_int(CL_REC, "callerSuspended", s->caller_suspended);
	cl_bool(CL_REC, "hung", hung);
	cl_bool(CL_REC, "exited", gone);
	cl_int(CL_REC, "ns",
	       (t1.tv_sec - t0.tv_sec) * 1000000000LL +
		       (t1.tv_nsec - t0.tv_nsec));
	cl_end(CL_REC);

	if (detail) {
		off_t off = lseek(descfd, 0, SEEK_CUR);
		if (off < 0)
			step_failed("parent", "lseek", errno, names);
		char nsbuf[512] = "";
		for (int i = 0; i < NNS; i++) {
			if (!parent_ns[i])
				step_failed("parent",
					    "readlink /proc/thread-self/ns",
					    parent_ns_errno[i], names);
			char one[64];
			snprintf(one, sizeof(one), "%s%s:%llu/%llu",
				 i ? "," : "", NS_NAMES[i], parent_ns[i],
				 s->child_ns[i]);
			strncat(nsbuf, one, sizeof(nsbuf) - strlen(nsbuf) - 1);
		}
		long fdinfo_pid = 0;
		int have_fdinfo_pid = 0;
		if ((flags & CLONE_PIDFD) && ids.pidfd >= 0) {
			char path[64], buf[1024];
			snprintf(path, sizeof(path), "/proc/self/fdinfo/%d",
				 ids.pidfd);
			if (cl_read_file_at(AT_FDCWD, path, buf, sizeof(buf)) <
			    0) {
				step_failed("parent",
					    "read /proc/self/fdinfo of the pidfd",
					    errno, names);
			} else {
				/* "Pid:" since 5.4 (kernel/pid.c, pidfd_show_fdinfo()); -1 once the task exited. */
				char *pl = strstr(buf, "Pid:");
				if (pl) {
					fdinfo_pid = strtol(pl + 4, NULL, 10);
					have_fdinfo_pid = 1;
				} else {
					step_failed(
						"parent",
						"find Pid: in the pidfd's fdinfo",
						ENOENT, names);
				}
			}
		} else if (flags & CLONE_PIDFD) {
			step_failed("parent", "CLONE_PIDFD wrote no pidfd",
				    EBADF, names);
		}
		cl_begin(CL_REC, "shareDetail");
		cl_str(CL_REC, "api", use_clone3 ? "clone3" : "clone");
		cl_str(CL_REC, "flags", names);
		if (off >= 0)
			cl_int(CL_REC, "offsetSeenByParent", (long long)off);
		cl_bool(CL_REC, "mapShared", *map_shared == 1);
		cl_str(CL_REC, "namespaces", nsbuf);
		/* Each only with the flag that makes the kernel write it (clone(2)). */
		if (flags & CLONE_PARENT_SETTID)
			cl_int(CL_REC, "parentTid", ids.ptid);
		if (flags & CLONE_CHILD_CLEARTID)
			cl_int(CL_REC, "childTidAfterExit", ids.ctid);
		if ((flags & CLONE_PIDFD) && ids.pidfd >= 0) {
			cl_int(CL_REC, "pidfd", ids.pidfd);
			if (have_fdinfo_pid)
				cl_int(CL_REC, "pidfdPid", fdinfo_pid);
			close(ids.pidfd);
		}
		cl_end(CL_REC);
		close(descfd);
	} else if (ids.pidfd >= 0) {
		close(ids.pidfd);
	}
}

/* --try: is this flag set accepted? The child, if any, exits at once. */
static int exit_now(void *arg)
{
	(void)arg;
	return 0;
}

static void try_one(const char *spec)
{
	char buf[512];
	snprintf(buf, sizeof(buf), "%s", spec);
	char *api = strtok(buf, ":"), *flags_s = strtok(NULL, ":"),
	     *sig_s = strtok(NULL, ":");
	if (!api || !flags_s || (strcmp(api, "clone") && strcmp(api, "clone3")))
		cl_usage("clone: --try takes API:FLAGS[:EXITSIG], API clone or clone3, got '%s'",
			 spec);
	int use_clone3 = strcmp(api, "clone3") == 0;
	unsigned long long flags = parse_flags(flags_s);
	int sig = sig_s ? (int)cl_arg_long("exit signal", sig_s, 0, 64) :
			  exit_signal_for(use_clone3, flags);
	struct ids ids;
	long tid = spawn(use_clone3, flags, sig, exit_now, NULL, &ids);
	int err = errno;
	if (tid > 0) {
		int st;
		if (waitpid((pid_t)tid, &st, __WALL) < 0)
			wait_exited((pid_t)tid);
		if (ids.pidfd >= 0)
			close(ids.pidfd);
	}
	char names[512];
	cl_begin(CL_REC, "try");
	cl_str(CL_REC, "api", api);
	cl_str(CL_REC, "flags", flag_names(flags, names, sizeof(names)));
	cl_int(CL_REC, "exitSignal", sig);
	cl_str(CL_REC, "result", tid >= 0 ? "ok" : cl_errno_name(err));
	cl_end(CL_REC);
}

int main(int argc, char **argv)
{
	cl_setup();
	const char *api = "clone";
	const char *flags = NULL;
	int matrix = 0, tries = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--matrix") == 0)
			matrix = 1;
		else if (strcmp(argv[i], "--api") == 0 && i + 1 < argc &&
			 (!strcmp(argv[i + 1], "clone") ||
			  !strcmp(argv[i + 1], "clone3")))
			api = argv[++i];
		else if (strcmp(argv[i], "--flags") == 0 && i + 1 < argc)
			flags = argv[++i];
		else if (strcmp(argv[i], "--try") == 0 && i + 1 < argc)
			i++, tries++;
		else
			cl_usage(
				"usage: clone --matrix [--api clone|clone3] | --flags F,F,... [--api ...] | --try API:FLAGS[:SIG]...");
	}
	void *base;
	(void)cl_stack_top(STACK_SIZE, &base);
	stack_base = base;
	/* SIGCHLD stays pending where the child's exit signal reaches us. */
	sigset_t chld;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &chld, NULL) != 0)
		cl_die("sigprocmask (blocking SIGCHLD)");

	if (tries) {
		for (int i = 1; i < argc; i++)
			if (strcmp(argv[i], "--try") == 0)
				try_one(argv[++i]);
		cl_done();
		return 0;
	}
	if (!matrix && !flags)
		cl_usage("clone: give --matrix, --flags or --try");
	int use_clone3 = strcmp(api, "clone3") == 0;
	if (use_clone3 && !HAVE_CLONE3_RUN) {
		errno = ENOSYS;
		cl_error_rec("clone3-trampoline", ENOSYS, 0);
		cl_done();
		return 0;
	}
	semid = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
	if (semid < 0)
		cl_die("semget");
	devnull = open("/dev/null", O_RDWR);
	/* Not "/": the child's chdir("/") must be a visible change. */
	home_fd = open("/dev", O_RDONLY | O_DIRECTORY);
	if (devnull < 0 || home_fd < 0)
		cl_die("open");
	for (int i = 0; i < NNS; i++)
		if (!(parent_ns[i] = ns_inode("/proc/thread-self", NS_NAMES[i])))
			parent_ns_errno[i] = errno;

	if (matrix) {
		for (unsigned combo = 0; combo < (1u << MATRIX_FLAGS);
		     combo++) {
			unsigned long long bits = 0;
			for (unsigned b = 0; b < MATRIX_FLAGS; b++)
				if (combo & (1u << b))
					bits |= FLAGS[b].bit;
			run_one(use_clone3, bits, 0);
		}
	} else {
		run_one(use_clone3, parse_flags(flags), 1);
	}
	semctl(semid, 0, IPC_RMID);
	cl_done();
	return 0;
}
