/* SPDX-License-Identifier: Apache-2.0 */
/* berth-shim: the container shim and the exec shim as a program of their own. berthd executes
 * the berth-shim found in its own directory (rt_shim_spawn; berthd re-executes itself when there
 * is none). It links only the runtime, libc, cJSON and libseccomp: a container start maps and
 * relocates 4 libraries instead of berthd's ~40, and a running shim holds 132 kB of anonymous
 * memory instead of 1.4 MiB (RssAnon; PSS 0.2 instead of 1.7 MiB). */
#include <stdio.h>
#include <string.h>

#include "runtime/runtime.h"

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], RT_SHIM_ARG) == 0)
		rt_shim_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], RT_EXEC_SHIM_ARG) == 0)
		rt_exec_shim_main(argc, argv);
	fprintf(stderr, "berth-shim: only berthd starts it\n");
	return 2;
}
