/*
 * proc: can this process reach a /proc entry, and what does it say there?
 *
 *   proc PATH...
 *
 * For each PATH: stat(2), open(2) with O_DIRECTORY, chdir(2) then getcwd(3),
 * and the Name/Tgid/Pid/NSpid lines of PATH/status read through the open
 * directory. One "lookup" record per PATH, each result "ok" or an errno name;
 * a step that could not be tried (status when the open failed, getcwd when
 * chdir failed) is left out of the record rather than given a made-up value.
 * It only reads; run it as another user or in another namespace (the harness's
 * prefix option) to see what they can reach.
 */
#include "clonelab.h"
#include <sys/stat.h>

static const char *outcome(int r)
{
	return r == 0 ? "ok" : cl_errno_name(errno);
}

int main(int argc, char **argv)
{
	cl_setup();
	if (argc < 2)
		cl_usage("usage: proc PATH...");
	/* O_PATH: fchdir(2) back needs no read permission on the starting directory (a probe run as another user). */
	int home = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (home < 0)
		cl_die("open(.)");
	for (int i = 1; i < argc; i++) {
		const char *path = argv[i];
		struct stat st;
		const char *stat_r = outcome(stat(path, &st));
		int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		const char *open_r = outcome(dfd >= 0 ? 0 : -1);
		const char *chdir_r = outcome(chdir(path));
		/* What was not read is left out of the record, never written as "" (records.ts: lookup). */
		char cwd[4096];
		const char *cwd_err = NULL;
		int have_cwd = 0;
		if (strcmp(chdir_r, "ok") == 0) {
			if (getcwd(cwd, sizeof(cwd)))
				have_cwd = 1;
			else
				cwd_err = cl_errno_name(errno);
		}
		char status[4096] = "", ids[1024] = "";
		const char *status_r =
			NULL; /* not tried: the directory did not open */
		if (dfd >= 0) {
			status_r = outcome(
				cl_read_file_at(dfd, "status", status,
						sizeof(status)) >= 0 ?
					0 :
					-1);
			close(dfd);
		}
		/* keep the identity lines only: what the lookup is about */
		for (char *line = strtok(status, "\n"); line;
		     line = strtok(NULL, "\n")) {
			if (!strncmp(line, "Name:", 5) ||
			    !strncmp(line, "Tgid:", 5) ||
			    !strncmp(line, "Pid:", 4) ||
			    !strncmp(line, "NSpid:", 6)) {
				strncat(ids, line,
					sizeof(ids) - strlen(ids) - 2);
				strcat(ids, "\n");
			}
		}
		cl_begin(CL_REC, "lookup");
		cl_str(CL_REC, "path", path);
		cl_str(CL_REC, "stat", stat_r);
		cl_str(CL_REC, "open", open_r);
		cl_str(CL_REC, "chdir", chdir_r);
		if (have_cwd)
			cl_str(CL_REC, "cwd", cwd);
		if (cwd_err)
			cl_str(CL_REC, "cwdErrno", cwd_err);
		if (status_r)
			cl_str(CL_REC, "status", status_r);
		if (status_r && strcmp(status_r, "ok") == 0)
			cl_str(CL_REC, "statusIds", ids);
		cl_int(CL_REC, "uid", (long long)geteuid());
		cl_end(CL_REC);
		if (fchdir(home) != 0)
			cl_die("fchdir");
	}
	cl_done();
	return 0;
}
