/*
 * noclone3: run a command under a seccomp filter that makes clone3(2) fail
 * with ENOSYS, as kernels before 5.3 and some container runtimes' default
 * profiles do. Everything else is allowed. (seccomp(2), PR_SET_NO_NEW_PRIVS
 * lets an unprivileged process install it.)
 *
 *   noclone3 COMMAND [ARGS...]
 */
#include "clonelab.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>

#if defined(__x86_64__)
#define CL_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define CL_AUDIT_ARCH AUDIT_ARCH_AARCH64
#endif

int main(int argc, char **argv)
{
	if (argc < 2)
		cl_usage("usage: noclone3 COMMAND [ARGS...]");
	struct sock_filter filter[] = {
#ifdef CL_AUDIT_ARCH
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, CL_AUDIT_ARCH, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
#endif
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {.len = sizeof(filter) / sizeof(filter[0]), .filter = filter};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0) {
		perror("noclone3: installing the seccomp filter");
		return 125;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "noclone3: cannot run %s: %s\n", argv[1], strerror(errno));
	return 126;
}
