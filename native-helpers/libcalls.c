/*
 * libcalls: call one libc process- or thread-creating function once, so
 * that strace(1) can show which system call and flags libc really used.
 *
 *   libcalls --call fork|vfork|pthread_create|posix_spawn|none
 *
 * Prints "called" with the TID/PID the call produced; the child exits at
 * once and is reaped (or joined).
 */
#include "clonelab.h"
#include <pthread.h>
#include <spawn.h>

extern char **environ;
static pid_t thread_tid;

static void *thread_main(void *arg)
{
	(void)arg;
	thread_tid = cl_gettid();
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 3 || strcmp(argv[1], "--call") != 0)
		cl_usage(
			"usage: libcalls --call fork|vfork|pthread_create|posix_spawn|none");
	const char *call = argv[2];
	if (strcmp(call, "none") == 0)
		return 0; /* the program posix_spawn runs: nothing to do */
	cl_setup();
	pid_t made = -1;
	int st;
	if (strcmp(call, "fork") == 0) {
		made = fork();
		if (made == 0)
			_exit(0);
		if (made < 0 || waitpid(made, &st, 0) < 0)
			cl_die("fork");
	} else if (strcmp(call, "vfork") == 0) {
		made = vfork();
		if (made == 0)
			_exit(0);
		if (made < 0 || waitpid(made, &st, 0) < 0)
			cl_die("vfork");
	} else if (strcmp(call, "pthread_create") == 0) {
		pthread_t t;
		int e = pthread_create(&t, NULL, thread_main, NULL);
		if (e) {
			errno = e;
			cl_die("pthread_create");
		}
		pthread_join(t, NULL);
		made = thread_tid;
	} else if (strcmp(call, "posix_spawn") == 0) {
		char *child_argv[] = {argv[0], "--call", "none", NULL};
		int e = posix_spawn(&made, "/proc/self/exe", NULL, NULL,
				    child_argv, environ);
		if (e) {
			errno = e;
			cl_die("posix_spawn");
		}
		if (waitpid(made, &st, 0) < 0)
			cl_die("waitpid");
	} else {
		cl_usage("libcalls: unknown call '%s'", call);
	}
	cl_begin(CL_REC, "called");
	cl_str(CL_REC, "call", call);
	cl_int(CL_REC, "made", made);
	cl_end(CL_REC);
	cl_done();
	return 0;
}
