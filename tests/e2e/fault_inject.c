// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * fault_inject.c - for the end-to-end tests: faults on what a target sends
 * from DEV's TCP port PORT (this network namespace), the utcp tests' tc
 * programs: drop and delay (reordering) per million segments. Says
 * "ready", and when stdin closes prints what it did as JSON and stops
 * (the rates go to 0; the programs go with the devices).
 */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "fault_env.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: fault_inject DEV PORT [--drop PPM] [--delay PPM] [--mangle PPM] [--rate MBIT]\n"
		"  DEV's egress to PORT's peers: PPM segments in a million dropped or\n"
		"  delayed; delayed ones wait their length at MBIT (default 200);\n"
		"  mangled: a data byte of a C2HData PDU changed, the TCP checksum\n"
		"  fixed to match (of segments that begin with its header)\n");
	exit(2);
}

static __u32 ppm(const char *s)
{
	char *end;
	unsigned long v = strtoul(s, &end, 10);

	if (*end || v > FAULT_MILLION) {
		fprintf(stderr,
			"fault_inject: '%s' is not a rate per million\n", s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = { { "drop", 1, NULL, 'd' },
					      { "delay", 1, NULL, 'l' },
					      { "mangle", 1, NULL, 'm' },
					      { "rate", 1, NULL, 'r' },
					      { NULL, 0, NULL, 0 } };
	char near[IF_NAMESIZE], far[IF_NAMESIZE], obj[PATH_MAX], err[512], c;
	struct fault_cfg cfg = { 0 };
	unsigned int rate = 200;
	ssize_t n;
	struct fault_stats st;
	struct fault_env fe;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'd')
			cfg.drop = ppm(optarg);
		else if (o == 'l')
			cfg.delay = ppm(optarg);
		else if (o == 'm')
			cfg.mangle = ppm(optarg);
		else if (o == 'r')
			rate = atoi(optarg);
		else
			usage();
	}
	if (argc - optind != 2 || !rate)
		usage();
	cfg.port = atoi(argv[optind + 1]);
	/* the programs are built beside this tool */
	n = readlink("/proc/self/exe", obj, sizeof(obj) - 32);
	if (n < 0)
		n = 0;
	obj[n] = 0;
	strcat(dirname(obj), "/utcp_fault.bpf.o");
	snprintf(near, sizeof(near), "fi%dx", getpid());
	snprintf(far, sizeof(far), "fi%dy", getpid());
	if (fault_env_open(&fe, obj, argv[optind], near, far, rate, err,
			   sizeof(err))) {
		fprintf(stderr, "fault_inject: %s\n", err);
		return 1;
	}
	if (fault_env_set(&fe, &cfg)) {
		perror("fault_inject: fault_cfg");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	while (read(STDIN_FILENO, &c, 1) > 0)
		;
	fault_env_stats(&fe, &st);
	memset(&cfg, 0, sizeof(cfg));
	fault_env_set(&fe, &cfg);
	printf("{\"seen\":%llu,\"dropped\":%llu,\"delayed\":%llu,\"mangled\":%llu}\n",
	       (unsigned long long)st.seen, (unsigned long long)st.dropped,
	       (unsigned long long)st.delayed, (unsigned long long)st.mangled);
	fault_env_close(&fe);
	return 0;
}
