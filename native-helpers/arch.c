/*
 * arch: the architecture-specific code the probes share (clonelab.h), checked
 * against the kernel it runs on, and what this build's architecture offers.
 * cases/tooling/arch.test.ts runs it for the host's build and, under
 * qemu-user, for an arm64 cross build.
 *
 *   arch --info       one "arch" record: uname's machine, clone(2)'s argument
 *                     order this build uses (CL_CLONE_ORDER), and whether the
 *                     architecture has fork(2) and vfork(2) system calls at
 *                     all (arm64 has neither: its table is asm-generic's,
 *                     include/uapi/asm-generic/unistd.h, where only clone
 *                     makes tasks, and glibc's fork() is a clone(2))
 *   arch --forklike   one raw clone through cl_clone_forklike() with
 *                     CLONE_PARENT_SETTID|CLONE_CHILD_SETTID|SIGCHLD; one
 *                     "forklike" record with the ID it returned, the child's
 *                     own gettid(2), and what the kernel wrote at child_tid
 *                     and parent_tid, as the child and the parent see them.
 *                     A wrong argument order leaves child_tid unwritten.
 */
#include "clonelab.h"
#include <sys/utsname.h>

static void info(void)
{
	struct utsname u;
	if (uname(&u) != 0)
		cl_die("uname");
	cl_begin(CL_REC, "arch");
	cl_str(CL_REC, "machine", u.machine);
	cl_str(CL_REC, "cloneOrder", CL_CLONE_ORDER);
#ifdef SYS_fork
	cl_bool(CL_REC, "forkSyscall", 1);
#else
	cl_bool(CL_REC, "forkSyscall", 0);
#endif
#ifdef SYS_vfork
	cl_bool(CL_REC, "vforkSyscall", 1);
#else
	cl_bool(CL_REC, "vforkSyscall", 0);
#endif
	cl_end(CL_REC);
}

static void forklike(void)
{
	/* 0: nothing written (a TID is never 0). */
	static pid_t ptid, ctid;
	int fds[2];
	if (pipe(fds) != 0)
		cl_die("pipe");
	long r = cl_clone_forklike(CLONE_PARENT_SETTID | CLONE_CHILD_SETTID |
					   SIGCHLD,
				   &ptid, &ctid);
	if (r < 0)
		cl_die("clone(CLONE_PARENT_SETTID|CLONE_CHILD_SETTID|SIGCHLD)");
	if (r == 0) {
		/* The child, on a copy of the memory: raw calls only. */
		long seen[3] = {syscall(SYS_gettid),
				__atomic_load_n(&ctid, __ATOMIC_ACQUIRE),
				__atomic_load_n(&ptid, __ATOMIC_ACQUIRE)};
		long w = syscall(SYS_write, fds[1], seen, sizeof(seen));
		syscall(SYS_exit_group, w == (long)sizeof(seen) ? 0 : 1);
	}
	close(fds[1]);
	long seen[3] = {0, 0, 0};
	ssize_t n = read(fds[0], seen, sizeof(seen));
	int st;
	if (waitpid((pid_t)r, &st, 0) != (pid_t)r)
		cl_die("waitpid");
	if (n != (ssize_t)sizeof(seen)) {
		errno = n < 0 ? errno : EIO;
		cl_die("read (the child's report)");
	}
	cl_begin(CL_REC, "forklike");
	cl_str(CL_REC, "cloneOrder", CL_CLONE_ORDER);
	cl_int(CL_REC, "returned", r);
	cl_int(CL_REC, "childGettid", seen[0]);
	cl_int(CL_REC, "childTidInChild", seen[1]);
	cl_int(CL_REC, "parentTidInChild", seen[2]);
	cl_int(CL_REC, "parentTidInParent", ptid);
	cl_int(CL_REC, "childTidInParent", ctid);
	cl_end(CL_REC);
}

int main(int argc, char **argv)
{
	cl_setup();
	if (argc != 2)
		cl_usage("usage: arch --info | --forklike");
	if (strcmp(argv[1], "--info") == 0)
		info();
	else if (strcmp(argv[1], "--forklike") == 0)
		forklike();
	else
		cl_usage("usage: arch --info | --forklike");
	cl_done();
	return 0;
}
