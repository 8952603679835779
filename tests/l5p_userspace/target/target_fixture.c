// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * target_fixture.c - the target suite: its target, defined once for the
 * suite's files (target_fixture.h), stopped after each test.
 */
#include <criterion/criterion.h>
#include "target_fixture.h"

struct tgt_proc tgt;

static void fini(void)
{
	tgt_stop(&tgt);
}

TestSuite(target, .fini = fini, .timeout = 30);
