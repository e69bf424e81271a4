/*
 * clonelab.h: the plumbing every probe shares.
 *
 * Protocol (read by helpers/harness/probe.ts, validated against helpers/harness/records.ts):
 *   - stdout carries one JSON object per line, each with an "event" field;
 *     nothing else is ever written to stdout.
 *   - a probe that keeps tasks alive for inspection prints {"event":"ready",...}
 *     and then reads one command per line from stdin ("release" or a probe's
 *     own verb). EOF on stdin means the harness is gone: treated as "release".
 *   - a probe that finished its experiment prints {"event":"done"} last and
 *     exits 0. Exit 0 without "done" is a broken probe.
 *   - an operation that failed is a record, {"event":"error","op":...,
 *     "errno":"ENOSYS","errnoValue":38}; cl_die() adds "fatal":true and exits 1.
 *
 * Records are built in a buffer and written with one write(2), and only the
 * controlling thread writes them: tasks made with raw clone(2) share the
 * creator's TLS (no CLONE_SETTLS), so they must stay away from stdio and locks
 * and only run raw syscalls and plain stores.
 */
#ifndef CLONELAB_H
#define CLONELAB_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CL_UNUSED __attribute__((unused))

/* ---------------------------------------------------------------- errno names */

/* A hand-laid table: the formatter would reflow it. */
/* clang-format off */
#define CL_ERRNOS(X)                                                            \
	X(EPERM) X(ENOENT) X(ESRCH) X(EINTR) X(EIO) X(ENXIO) X(E2BIG) X(ENOEXEC) \
	X(EBADF) X(ECHILD) X(EAGAIN) X(ENOMEM) X(EACCES) X(EFAULT) X(EBUSY)      \
	X(EEXIST) X(EXDEV) X(ENODEV) X(ENOTDIR) X(EISDIR) X(EINVAL) X(ENFILE)    \
	X(EMFILE) X(ENOSPC) X(ESPIPE) X(EROFS) X(EPIPE) X(ERANGE) X(EDEADLK)     \
	X(ENAMETOOLONG) X(ENOSYS) X(ENOTEMPTY) X(ELOOP) X(EIDRM) X(EOVERFLOW)    \
	X(EUSERS) X(EOPNOTSUPP) X(ETIMEDOUT) X(ECANCELED) X(EOWNERDEAD)          \
	X(ENOTRECOVERABLE)
/* clang-format on */

/*
 * The errno's name; one not in the table is named by its number ("E95"), so
 * that what the kernel said is kept rather than replaced by a placeholder.
 */
static CL_UNUSED const char *cl_errno_name(int e)
{
	static __thread char numbered[16];
	switch (e) {
#define CL_ERRNO_CASE(name)                                                    \
	case name:                                                             \
		return #name;
		CL_ERRNOS(CL_ERRNO_CASE)
#undef CL_ERRNO_CASE
	}
	snprintf(numbered, sizeof numbered, "E%d", e);
	return numbered;
}

/* ---------------------------------------------------------- JSON record builder */

struct cl_rec {
	char buf[1 << 16];
	size_t len;
	int fields;
	int overflow;
};

static CL_UNUSED void cl_put(struct cl_rec *r, const char *s, size_t n)
{
	if (r->len + n + 3 > sizeof(r->buf)) { /* keep room for "}\n" */
		r->overflow = 1;
		return;
	}
	memcpy(r->buf + r->len, s, n);
	r->len += n;
}

static CL_UNUSED void cl_putf(struct cl_rec *r, const char *fmt, ...)
{
	char tmp[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		r->overflow = 1;
		return;
	}
	cl_put(r, tmp, (size_t)n);
}

static CL_UNUSED void cl_put_json_string(struct cl_rec *r, const char *s)
{
	cl_put(r, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			cl_put(r, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* bytes outside printable ASCII: /proc text may hold anything (comm) */
			cl_putf(r, "\\u%04x", c);
		} else {
			cl_put(r, (const char *)&c, 1);
		}
	}
	cl_put(r, "\"", 1);
}

static CL_UNUSED void cl_key(struct cl_rec *r, const char *key)
{
	if (r->fields++)
		cl_put(r, ",", 1);
	cl_put_json_string(r, key);
	cl_put(r, ":", 1);
}

static CL_UNUSED void cl_begin(struct cl_rec *r, const char *event)
{
	r->len = 0;
	r->fields = 0;
	r->overflow = 0;
	cl_put(r, "{", 1);
	cl_key(r, "event");
	cl_put_json_string(r, event);
}

static CL_UNUSED void cl_int(struct cl_rec *r, const char *key, long long v)
{
	cl_key(r, key);
	cl_putf(r, "%lld", v);
}

static CL_UNUSED void cl_bool(struct cl_rec *r, const char *key, int v)
{
	cl_key(r, key);
	cl_put(r, v ? "true" : "false", v ? 4 : 5);
}

static CL_UNUSED void cl_str(struct cl_rec *r, const char *key, const char *s)
{
	cl_key(r, key);
	cl_put_json_string(r, s);
}

static CL_UNUSED void cl_ints(struct cl_rec *r, const char *key,
			      const long long *v, size_t n)
{
	cl_key(r, key);
	cl_put(r, "[", 1);
	for (size_t i = 0; i < n; i++)
		cl_putf(r, i ? ",%lld" : "%lld", v[i]);
	cl_put(r, "]", 1);
}

static CL_UNUSED void cl_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			_exit(120); /* stdout gone: nobody is listening any more */
		p += w;
		n -= (size_t)w;
	}
}

static CL_UNUSED void cl_end(struct cl_rec *r)
{
	if (r->overflow) {
		/* Never print a truncated object: say so in a record of its own. */
		static const char msg[] =
			"{\"event\":\"error\",\"op\":\"record-overflow\",\"errno\":\"E2BIG\","
			"\"errnoValue\":7,\"fatal\":true}\n";
		cl_write_all(1, msg, sizeof(msg) - 1);
		_exit(1);
	}
	cl_put(r, "}\n", 2);
	cl_write_all(1, r->buf, r->len);
}

/* One record buffer for the controlling thread; 64 KiB is too big for a stack
 * frame of a raw-clone task, and only one thread prints. */
static struct cl_rec cl_r;
#define CL_REC (&cl_r)

static CL_UNUSED void cl_error_rec(const char *op, int err, int fatal)
{
	cl_begin(CL_REC, "error");
	cl_str(CL_REC, "op", op);
	cl_str(CL_REC, "errno", cl_errno_name(err));
	cl_int(CL_REC, "errnoValue", err);
	if (fatal)
		cl_bool(CL_REC, "fatal", 1);
	cl_end(CL_REC);
}

/* An operation the experiment cannot do without failed: say which, and stop. */
static CL_UNUSED __attribute__((noreturn)) void cl_die(const char *op)
{
	int e = errno;
	cl_error_rec(op, e, 1);
	fprintf(stderr, "%s: %s\n", op, strerror(e));
	exit(1);
}

static CL_UNUSED __attribute__((noreturn)) void cl_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static CL_UNUSED void cl_done(void)
{
	cl_begin(CL_REC, "done");
	cl_end(CL_REC);
}

/* ------------------------------------------------------------ raw syscalls */
/*
 * libc can hide the truth: glibc cached getpid() before 2.25, musl and older
 * glibc lack gettid(), pthread_kill() takes a pthread_t rather than a TID.
 * These go straight to the kernel.
 */
/*
 * getpid(2), gettid(2) and getppid(2) cannot fail in the kernel, but a seccomp
 * filter can refuse them: then the probe has no ID to report, and says so (a
 * fatal error record naming the call), never a -1 that would pass for an ID.
 */
static CL_UNUSED __attribute__((noreturn)) void cl_id_refused(const char *op)
{
	cl_error_rec(op, errno, 1);
	syscall(SYS_exit_group, 1);
	_exit(1);
}
static inline pid_t cl_id_call(long nr, const char *op)
{
	long r = syscall(nr);
	if (r < 0)
		cl_id_refused(op);
	return (pid_t)r;
}
static inline pid_t cl_gettid(void)
{
	return cl_id_call(SYS_gettid, "gettid");
}
static inline pid_t cl_getpid(void)
{
	return cl_id_call(SYS_getpid, "getpid");
}
static inline pid_t cl_getppid(void)
{
	return cl_id_call(SYS_getppid, "getppid");
}
static inline int cl_tgkill(pid_t tgid, pid_t tid, int sig)
{
	return (int)syscall(SYS_tgkill, tgid, tid, sig);
}
static inline int cl_tkill(pid_t tid, int sig)
{
	return (int)syscall(SYS_tkill, tid, sig);
}
static inline int cl_kill(pid_t pid, int sig)
{
	return (int)syscall(SYS_kill, pid, sig);
}
static inline CL_UNUSED void cl_exit_thread(int code)
{
	syscall(SYS_exit, code);
	__builtin_unreachable();
}

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
static inline CL_UNUSED int cl_pidfd_open(pid_t pid, unsigned flags)
{
	return (int)syscall(SYS_pidfd_open, pid, flags);
}
static inline CL_UNUSED int cl_pidfd_send_signal(int pidfd, int sig,
						 siginfo_t *info,
						 unsigned flags)
{
	return (int)syscall(SYS_pidfd_send_signal, pidfd, sig, info, flags);
}
static inline CL_UNUSED long cl_clone3(struct clone_args *args, size_t size)
{
	return syscall(SYS_clone3, args, size);
}

/*
 * Raw clone(2) with no new stack: the child returns here like fork() does.
 * Only flag sets without CLONE_VM may use this: the child runs on a copy of
 * the stack.
 *
 * The kernel takes clone's five arguments in one of three orders, chosen by
 * the architecture's Kconfig (kernel/fork.c, SYSCALL_DEFINE5(clone, ...);
 * man 2 clone, NOTES):
 *   CONFIG_CLONE_BACKWARDS, selected by arm64 (arch/arm64/Kconfig), arm,
 *   powerpc, mips, x86_32 (arch/x86/Kconfig, "if X86_32") and others:
 *       flags, stack, parent_tid, tls, child_tid
 *   CONFIG_CLONE_BACKWARDS2, selected by s390 (arch/s390/Kconfig):
 *       stack, flags, parent_tid, child_tid, tls
 *   neither (x86_64, riscv, the asm-generic default):
 *       flags, stack, parent_tid, child_tid, tls
 * A wrong order is silent: on arm64 the x86_64 order puts child_tid in the
 * tls slot, which the kernel ignores without CLONE_SETTLS, and the child's
 * TID is never written (arch.c --forklike checks it on every build).
 */
#if defined(__aarch64__) || defined(__arm__) || defined(__powerpc__) ||        \
	defined(__mips__) || defined(__i386__)
#define CL_CLONE_ORDER "flags,stack,parent_tid,tls,child_tid"
#define CL_CLONE_ARGS(flags, ptid, ctid) (flags), 0UL, (ptid), 0UL, (ctid)
#elif defined(__s390x__)
#define CL_CLONE_ORDER "stack,flags,parent_tid,child_tid,tls"
#define CL_CLONE_ARGS(flags, ptid, ctid) 0UL, (flags), (ptid), (ctid), 0UL
#elif defined(__x86_64__) || defined(__riscv)
#define CL_CLONE_ORDER "flags,stack,parent_tid,child_tid,tls"
#define CL_CLONE_ARGS(flags, ptid, ctid) (flags), 0UL, (ptid), (ctid), 0UL
#else
#error "clonelab.h: add this architecture's clone(2) argument order (kernel/fork.c, CONFIG_CLONE_BACKWARDS*)"
#endif
static inline CL_UNUSED long cl_clone_forklike(unsigned long flags, pid_t *ptid,
					       pid_t *ctid)
{
	return syscall(SYS_clone, CL_CLONE_ARGS(flags, ptid, ctid));
}

static inline CL_UNUSED long cl_futex_wait(int *addr, int val)
{
	return syscall(SYS_futex, addr, FUTEX_WAIT, val, NULL, NULL, 0);
}
static inline CL_UNUSED long cl_futex_wake(int *addr, int n)
{
	return syscall(SYS_futex, addr, FUTEX_WAKE, n, NULL, NULL, 0);
}

/* Wait until *addr == want, with nothing but atomics and futex(2). */
static CL_UNUSED void cl_wait_eq(int *addr, int want)
{
	for (;;) {
		int v = __atomic_load_n(addr, __ATOMIC_ACQUIRE);
		if (v == want)
			return;
		cl_futex_wait(addr, v);
	}
}

/* Wait until *addr != old. */
static CL_UNUSED void cl_wait_eq_not(int *addr, int old)
{
	while (__atomic_load_n(addr, __ATOMIC_ACQUIRE) == old)
		cl_futex_wait(addr, old);
}

static CL_UNUSED void cl_store_wake(int *addr, int v)
{
	__atomic_store_n(addr, v, __ATOMIC_RELEASE);
	cl_futex_wake(addr, 1 << 30);
}

static CL_UNUSED int cl_add_wake(int *addr, int d)
{
	int v = __atomic_add_fetch(addr, d, __ATOMIC_ACQ_REL);
	cl_futex_wake(addr, 1 << 30);
	return v;
}

/* A task made by raw clone(CLONE_CHILD_CLEARTID) has exited once the kernel
 * zeroed *ctid; it wakes the futex there (kernel/fork.c, mm_release()). */
static CL_UNUSED void cl_join_cleartid(pid_t *ctid)
{
	for (;;) {
		pid_t v = __atomic_load_n(ctid, __ATOMIC_ACQUIRE);
		if (v == 0)
			return;
		cl_futex_wait((int *)ctid, v);
	}
}

/* A stack for a CLONE_VM task: anonymous memory, returns its top. */
static CL_UNUSED void *cl_stack_top(size_t size, void **base_out)
{
	void *base = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (base == MAP_FAILED)
		cl_die("mmap-stack");
	*base_out = base;
	return (char *)base + size;
}

/* ------------------------------------------------------------- /proc reads */

/* Read a small file whole (at most size-1 bytes, NUL-terminated) with raw
 * syscalls only, so a raw-clone task may call it. Length, or -1. */
static CL_UNUSED long cl_read_file_at(int dirfd, const char *path, char *buf,
				      size_t size)
{
	int fd = (int)syscall(SYS_openat, dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf[0] = '\0';
		return -1;
	}
	long n = syscall(SYS_read, fd, buf, size - 1);
	syscall(SYS_close, fd);
	buf[n > 0 ? n : 0] = '\0';
	return n;
}

/* The state letter of a task from its stat file (proc(5): it follows the
 * last ')', since comm may hold one), or 0 when it cannot be read. */
static CL_UNUSED char cl_task_state(const char *statpath)
{
	char buf[512];
	if (cl_read_file_at(AT_FDCWD, statpath, buf, sizeof(buf)) <= 0)
		return 0;
	char *p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

/* ------------------------------------------------------- setup and handshake */

/*
 * Every probe dies with the harness: PR_SET_PDEATHSIG fires when the parent
 * thread exits (prctl(2)); check getppid() afterwards in case it already did.
 * The harness passes its PID in CLONELAB_PARENT so the check does not depend
 * on which PID a subreaper or init has; CLONELAB_PARENT_CHECK=skip when a
 * prefix command (strace) runs the probe as its own child.
 */
static CL_UNUSED void cl_setup(void)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		cl_die("prctl-pdeathsig");
	const char *want = getenv("CLONELAB_PARENT");
	const char *check = getenv("CLONELAB_PARENT_CHECK");
	if (want && !(check && strcmp(check, "skip") == 0) &&
	    atoi(want) != cl_getppid())
		_exit(121);
}

/*
 * Read one command line from stdin into buf. EOF (the harness closed our
 * stdin or died) reads as "release" so that nothing is left waiting.
 */
static CL_UNUSED const char *cl_read_command(char *buf, size_t size)
{
	size_t n = 0;
	while (n + 1 < size) {
		char c;
		ssize_t r = read(0, &c, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (n == 0) {
				snprintf(buf, size, "release");
				return buf;
			}
			break;
		}
		if (c == '\n')
			break;
		buf[n++] = c;
	}
	buf[n] = '\0';
	return buf;
}

/* Announce live tasks: the harness may now inspect them. */
static CL_UNUSED void cl_ready(pid_t tgid, const long long *tids, size_t n)
{
	cl_begin(CL_REC, "ready");
	cl_int(CL_REC, "tgid", tgid);
	cl_ints(CL_REC, "tids", tids, n);
	cl_end(CL_REC);
}

/* Say that a command line is not one this probe knows, and go on. */
static CL_UNUSED void cl_unknown_command(const char *cmd)
{
	cl_begin(CL_REC, "error");
	cl_str(CL_REC, "op", "command");
	cl_str(CL_REC, "errno", "EINVAL");
	cl_int(CL_REC, "errnoValue", EINVAL);
	cl_str(CL_REC, "command", cmd);
	cl_end(CL_REC);
}

/* Block until the harness says "release"; other commands are refused. */
static CL_UNUSED void cl_wait_release(void)
{
	char cmd[256];
	while (strcmp(cl_read_command(cmd, sizeof(cmd)), "release") != 0)
		cl_unknown_command(cmd);
}

static CL_UNUSED void cl_ready_wait_release(pid_t tgid, const long long *tids,
					    size_t n)
{
	cl_ready(tgid, tids, n);
	cl_wait_release();
}

/* --------------------------------------------------------------- arguments */

static CL_UNUSED long cl_arg_long(const char *name, const char *s, long lo,
				  long hi)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < lo || v > hi)
		cl_usage("%s: expected a whole number from %ld to %ld, got '%s'",
			 name, lo, hi, s);
	return v;
}

#endif /* CLONELAB_H */
