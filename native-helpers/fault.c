/*
 * fault: run a command under a seccomp filter that makes chosen syscalls fail
 * with an errno (EPERM, ENOSYS, ...), or kill the thread that calls them
 * (SECCOMP_RET_KILL_THREAD). Every other syscall is allowed. This is how
 * npm run check:faults and check:environments (no clone3) put one probe, and
 * only the probe, in a world where one syscall is refused: the harness puts
 * it between the reaper and the probe binary (CLONELAB_PROBE_WRAP,
 * helpers/harness/probe.ts), so node, vitest and the shell never carry the filter.
 *
 *   fault [--errno NAME | --kill-thread] --syscall NR [--syscall NR ...] [--] COMMAND [ARGS...]
 *   fault [--errno NAME | --kill-thread] --syscall NR --self-test
 *
 * --self-test (cases/tooling/faults.test.ts): instead of running a command, install
 * the filter and call the first NR, with all-zero arguments, from a second
 * thread and then (unless it kills) from the main thread, and print what each
 * saw, one "key: value" per line: "thread: -1 EPERM" or "thread: killed",
 * "main: ...", "tasks: N" (the tasks left in /proc/self/task). Use a harmless
 * call (getppid).
 *
 * NR is the syscall's number on this architecture. Names are mapped to
 * numbers from the C compiler's own <sys/syscall.h> by helpers/harness/syscalls.ts,
 * not by a table here.
 *
 * seccomp(2): PR_SET_NO_NEW_PRIVS lets any user install a filter; the filter
 * is inherited across fork, clone and execve and cannot be removed, so every
 * task the probe makes carries it too. The filter first checks the
 * architecture of the call (seccomp_data.arch): syscall numbers differ
 * between ABIs, so a number is only matched on the ABI it was taken from.
 *
 * Exit status: the command's (fault execs it); 2 on a bad argument; 125 when
 * the filter cannot be installed; 126/127 when the command cannot be run.
 */
#include "clonelab.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <dirent.h>
#include <pthread.h>
#include <stddef.h>

#if defined(__x86_64__) && defined(__ILP32__)
#error "fault: x32 is not supported (its syscalls share AUDIT_ARCH_X86_64 with the 64-bit ABI)"
#elif defined(__x86_64__)
#define FAULT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__i386__)
#define FAULT_AUDIT_ARCH AUDIT_ARCH_I386
#elif defined(__aarch64__)
#define FAULT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#elif defined(__arm__)
#define FAULT_AUDIT_ARCH AUDIT_ARCH_ARM
#elif defined(__riscv) && __riscv_xlen == 64
#define FAULT_AUDIT_ARCH AUDIT_ARCH_RISCV64
#elif defined(__s390x__)
#define FAULT_AUDIT_ARCH AUDIT_ARCH_S390X
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FAULT_AUDIT_ARCH AUDIT_ARCH_PPC64LE
#elif defined(__powerpc64__)
#define FAULT_AUDIT_ARCH AUDIT_ARCH_PPC64
#else
#error "fault: add this architecture's AUDIT_ARCH_* value (linux/audit.h)"
#endif

#ifndef SECCOMP_RET_KILL_THREAD
#define SECCOMP_RET_KILL_THREAD                                                \
	0x00000000U /* SECCOMP_RET_KILL before Linux 4.14 */
#endif

/* The x32 ABI shares AUDIT_ARCH_X86_64 and marks its numbers with this bit
 * (arch/x86/include/uapi/asm/unistd.h): not the 64-bit call of the same number. */
#define FAULT_X32_BIT 0x40000000U

#define FAULT_MAX_SYSCALLS 64
/* A syscall number above any architecture's table today (arch/.../syscall_*.tbl
 * stay below 1024, plus the x32 or MIPS offsets which are not used here). */
#define FAULT_MAX_NR 4095

static const char usage[] =
	"usage: fault [--errno NAME | --kill-thread] --syscall NR [--syscall NR ...] [--] COMMAND [ARGS...]\n"
	"       fault [--errno NAME | --kill-thread] --syscall NR --self-test\n"
	"  makes the syscalls numbered NR fail with errno NAME (default EPERM), or kill the calling thread,\n"
	"  then runs COMMAND under that seccomp filter (numbers: helpers/harness/syscalls.ts, from <sys/syscall.h>)";

static long self_test_nr;
static int self_test_returned;

static void *self_test_thread(void *arg)
{
	long *out = arg;
	errno = 0;
	out[0] = syscall(self_test_nr, 0L, 0L, 0L, 0L, 0L, 0L);
	out[1] = errno;
	/* Not reached when the filter kills this thread (SECCOMP_RET_KILL_THREAD). */
	__atomic_store_n(&self_test_returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void self_test_print(const char *who, long ret, long err)
{
	if (ret == -1)
		printf("%s: -1 %s\n", who, cl_errno_name((int)err));
	else
		printf("%s: %ld\n", who, ret);
}

/*
 * The filter is installed: show what it does to one thread and to the other.
 * pthread_join returns even for a killed thread: the kernel clears its
 * CLONE_CHILD_CLEARTID word and wakes the futex on any exit (kernel/fork.c,
 * mm_release()).
 */
static int self_test(long nr, int kill_thread)
{
	self_test_nr = nr;
	long out[2] = {0, 0};
	pthread_t t;
	int e = pthread_create(&t, NULL, self_test_thread, out);
	if (e) {
		fprintf(stderr, "fault: --self-test: pthread_create: %s (%s)\n",
			strerror(e), cl_errno_name(e));
		return 1;
	}
	pthread_join(t, NULL);
	if (__atomic_load_n(&self_test_returned, __ATOMIC_ACQUIRE))
		self_test_print("thread", out[0], out[1]);
	else
		printf("thread: killed\n");
	if (!kill_thread) {
		errno = 0;
		long r = syscall(nr, 0L, 0L, 0L, 0L, 0L, 0L);
		self_test_print("main", r, errno);
	} else {
		printf("main: alive\n");
	}
	/*
	 * pthread_join returns when the kernel clears the thread's TID (mm_release), a
	 * little before the task leaves the group (release_task): poll, with a bound,
	 * until only this task is listed (the 5.10 guest under TCG caught the gap).
	 */
	int n = -1;
	for (int polls = 0; polls < 2000; polls++) {
		DIR *d = opendir("/proc/self/task");
		if (!d)
			break;
		n = 0;
		struct dirent *de;
		while ((de = readdir(d)))
			n += de->d_name[0] != '.';
		closedir(d);
		if (n == 1)
			break;
		struct timespec ms = {0, 1000000};
		nanosleep(&ms, NULL);
	}
	if (n >= 0)
		printf("tasks: %d\n", n);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int errno_by_name(const char *name)
{
#define FAULT_ERRNO_MATCH(e)                                                   \
	if (strcmp(name, #e) == 0)                                             \
		return e;
	CL_ERRNOS(FAULT_ERRNO_MATCH)
#undef FAULT_ERRNO_MATCH
	return 0;
}

int main(int argc, char **argv)
{
	long nrs[FAULT_MAX_SYSCALLS];
	int n = 0, err = EPERM, kill_thread = 0, errno_given = 0,
	    run_self_test = 0, i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			i++;
			break;
		} else if (strcmp(a, "--errno") == 0) {
			if (i + 1 >= argc)
				cl_usage("fault: --errno needs an errno name (EPERM, ENOSYS, ...)\n%s",
					 usage);
			err = errno_by_name(argv[++i]);
			if (!err)
				cl_usage("fault: --errno takes an errno name such as EPERM or ENOSYS, got '%s'\n%s",
					 argv[i], usage);
			errno_given = 1;
		} else if (strcmp(a, "--self-test") == 0) {
			run_self_test = 1;
		} else if (strcmp(a, "--kill-thread") == 0) {
			kill_thread = 1;
		} else if (strcmp(a, "--syscall") == 0) {
			if (i + 1 >= argc)
				cl_usage("fault: --syscall needs a syscall number\n%s",
					 usage);
			const char *s = argv[++i];
			char *end;
			errno = 0;
			long v = strtol(s, &end, 10);
			if (errno || *s == '\0' || *end != '\0' || v < 0 ||
			    v > FAULT_MAX_NR)
				cl_usage("fault: --syscall takes this architecture's syscall number (0 to %d; names are mapped by "
					 "helpers/harness/syscalls.ts from <sys/syscall.h>), got '%s'\n%s",
					 FAULT_MAX_NR, s, usage);
			if (n == FAULT_MAX_SYSCALLS)
				cl_usage("fault: at most %d --syscall options\n%s",
					 FAULT_MAX_SYSCALLS, usage);
			nrs[n++] = v;
		} else if (a[0] == '-' && a[1] == '-') {
			cl_usage("fault: unknown option '%s'\n%s", a, usage);
		} else {
			break; /* the command */
		}
	}
	if (kill_thread && errno_given)
		cl_usage("fault: --errno and --kill-thread are exclusive: a refused call either fails or kills its thread\n%s",
			 usage);
	if (n == 0)
		cl_usage("fault: say which syscall to refuse with --syscall NR\n%s",
			 usage);
	if (run_self_test && i < argc)
		cl_usage("fault: --self-test runs no command, got '%s'\n%s",
			 argv[i], usage);
	if (!run_self_test && i >= argc)
		cl_usage("fault: no command to run after the options\n%s",
			 usage);

	/*
	 * The filter runs its own execve of COMMAND after it is installed. When
	 * execve is one of the refused calls, that exec goes through execveat
	 * (a different syscall number, same effect: execveat(2) with AT_FDCWD and
	 * a path), so the probe still starts and meets the fault in its own calls.
	 */
	int execve_refused = 0, execveat_refused = 0;
	for (int k = 0; k < n; k++) {
		execve_refused |= nrs[k] == SYS_execve;
		execveat_refused |= nrs[k] == SYS_execveat;
	}
	if (execve_refused && execveat_refused)
		cl_usage(
			"fault: cannot refuse both execve and execveat: the command could not be started under the filter");
	if (execve_refused && !run_self_test && !strchr(argv[i], '/'))
		cl_usage("fault: with execve refused, COMMAND must be a path (it is run with execveat, which does not search PATH), got '%s'",
			 argv[i]);

	const __u32 action = kill_thread ?
				     SECCOMP_RET_KILL_THREAD :
				     SECCOMP_RET_ERRNO |
					     ((__u32)err & SECCOMP_RET_DATA);
	/* arch check (3), x32 check on x86-64 (2), one compare per number, the refusal, the allow. */
	struct sock_filter filter[5 + FAULT_MAX_SYSCALLS + 2];
	int len = 0;
	filter[len++] = (struct sock_filter)
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch));
	/* Another ABI's call (an int 0x80 from a 64-bit task): its numbers mean other syscalls, let it be. */
	filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K,
						     FAULT_AUDIT_ARCH, 1, 0);
	filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						     SECCOMP_RET_ALLOW);
	filter[len++] = (struct sock_filter)
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr));
#if defined(__x86_64__)
	/* nr >= the x32 bit: an x32 call, not ours (same reason as the arch check). */
	filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K,
						     FAULT_X32_BIT,
						     (__u8)(n + 2), 0);
#endif
	/* Compare k jumps over the n-1-k compares after it and the jump to allow, to the refusal. */
	for (int k = 0; k < n; k++)
		filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ |
								     BPF_K,
							     (__u32)nrs[k],
							     (__u8)(n - k), 0);
	filter[len++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JA, 1, 0,
						     0); /* no match: allow */
	filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, action);
	filter[len++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K,
						     SECCOMP_RET_ALLOW);
	struct sock_fprog prog = {.len = (unsigned short)len, .filter = filter};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
		fprintf(stderr, "fault: prctl(PR_SET_NO_NEW_PRIVS): %s (%s)\n",
			strerror(errno), cl_errno_name(errno));
		return 125;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		fprintf(stderr,
			"fault: installing the seccomp filter: %s (%s); is CONFIG_SECCOMP_FILTER off?\n",
			strerror(errno), cl_errno_name(errno));
		return 125;
	}
	if (run_self_test)
		return self_test(nrs[0], kill_thread);
	extern char **environ;
	if (execve_refused)
		syscall(SYS_execveat, AT_FDCWD, argv[i], argv + i, environ, 0);
	else
		execvp(argv[i], argv + i);
	int e = errno;
	fprintf(stderr, "fault: cannot run %s: %s (%s)\n", argv[i], strerror(e),
		cl_errno_name(e));
	return e == ENOENT ? 127 : 126;
}
