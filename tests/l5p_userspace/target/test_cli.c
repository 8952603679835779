// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * test_cli.c - ddp-target's command line: its errors and exit codes. A
 * child that hangs fails the suite on its timeout.
 */
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <criterion/criterion.h>

TestSuite(cli, .timeout = 30);

/* The command line */

static int run(const char *const *argv, char *err, size_t len)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	cr_assert_eq(pipe(p), 0);
	pid = fork();
	if (!pid) {
		dup2(p[1], 2);
		dup2(p[1], 1);
		execv(DDP_BUILD "/ddp-target", (char **)argv);
		_exit(127);
	}
	close(p[1]);
	n = read(p[0], err, len - 1);
	err[n > 0 ? n : 0] = 0;
	close(p[0]);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

Test(cli, errors_and_exit_codes)
{
	const char *bin = DDP_BUILD "/ddp-target";
	char out[4096];

	cr_assert_eq(run((const char *[]){ bin, "--size", "12x", NULL }, out,
			 sizeof(out)),
		     2);
	cr_assert(strstr(out, "--size '12x': not a size"), "%s", out);
	cr_assert(strstr(out, "usage: ddp-target"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "--completion", "lifo", NULL },
			 out, sizeof(out)),
		     2);
	cr_assert(strstr(out, "expected ooo, fifo or reverse:N"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "--size", "1M", "--file", "/x",
					   NULL },
			 out, sizeof(out)),
		     2);
	cr_assert_eq(run((const char *[]){ bin, "--file", "/nonexistent/ns.img",
					   NULL },
			 out, sizeof(out)),
		     1);
	cr_assert(strstr(out, "couldn't open /nonexistent/ns.img"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "-a", "localhost", NULL }, out,
			 sizeof(out)),
		     1);
	cr_assert(strstr(out, "not an IPv4 or IPv6 address"), "%s", out);
	cr_assert_eq(run((const char *[]){ bin, "--help", NULL }, out,
			 sizeof(out)),
		     0);
	cr_assert(strstr(out, "--completion"), "%s", out);
}
