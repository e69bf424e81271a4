/*
 * selftest: a probe that misbehaves on purpose, so the harness's handling of
 * broken probes is itself tested (LTP's "broken" result, kselftest's contained
 * crashes).
 *
 *   selftest --mode ok|garbage|unknown-event|bad-pid|truncated|crash|fail|
 *                   hang|hang-with-children|no-done|ready
 */
#include "clonelab.h"

static void hang(void)
{
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	cl_setup();
	if (argc != 3 || strcmp(argv[1], "--mode") != 0)
		cl_usage("usage: selftest --mode MODE");
	const char *m = argv[2];
	if (strcmp(m, "ok") == 0) {
		cl_begin(CL_REC, "note");
		cl_str(CL_REC, "text", "a \"quoted\" name\twith a tab");
		cl_end(CL_REC);
		cl_done();
	} else if (strcmp(m, "garbage") == 0) {
		static const char g[] = "this is not json\n";
		cl_write_all(1, g, sizeof(g) - 1);
		cl_done();
	} else if (strcmp(m, "unknown-event") == 0) {
		cl_begin(CL_REC, "surprise");
		cl_end(CL_REC);
		cl_done();
	} else if (strcmp(m, "bad-pid") == 0) {
		long long tids[] = {cl_gettid(), -5};
		cl_begin(CL_REC, "ready");
		cl_int(CL_REC, "tgid", cl_getpid());
		cl_ints(CL_REC, "tids", tids, 2);
		cl_end(CL_REC);
		hang();
	} else if (strcmp(m, "truncated") == 0) {
		static const char t[] = "{\"event\":\"done\"";
		cl_write_all(1, t, sizeof(t) - 1);
	} else if (strcmp(m, "crash") == 0) {
		fprintf(stderr, "selftest: about to crash\n");
		raise(SIGSEGV);
	} else if (strcmp(m, "fail") == 0) {
		errno = EPERM;
		cl_die("selftest-operation");
	} else if (strcmp(m, "hang") == 0) {
		hang();
	} else if (strcmp(m, "hang-with-children") == 0) {
		/* Children in the probe's process group, then a ready record
		 * naming them: the harness must kill and reap all of them. */
		long long pids[4];
		pids[0] = cl_getpid();
		for (int i = 1; i < 4; i++) {
			pid_t p = fork();
			if (p < 0)
				cl_die("fork");
			if (p == 0)
				hang();
			pids[i] = p;
		}
		cl_begin(CL_REC, "ready");
		cl_int(CL_REC, "tgid", cl_getpid());
		cl_ints(CL_REC, "tids", pids, 4);
		cl_end(CL_REC);
		hang();
	} else if (strcmp(m, "no-done") == 0) {
		cl_begin(CL_REC, "note");
		cl_str(CL_REC, "text", "leaving without done");
		cl_end(CL_REC);
	} else if (strcmp(m, "ready") == 0) {
		long long self = cl_gettid();
		cl_ready_wait_release(cl_getpid(), &self, 1);
		cl_done();
	} else {
		cl_usage("selftest: unknown mode %s", m);
	}
	return 0;
}
