/* SPDX-License-Identifier: Apache-2.0 */
/* Sizes and CPU counts as Docker's CLI reads and prints them. Pure functions (unit-tested). */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* "64m", "1g", "512k", "64MB", "1024b", "1024": bytes (binary multiples, as docker's
 * RAMInBytes). -EINVAL for anything else, -ERANGE past 2^62. */
int units_bytes_parse(const char *s, int64_t *ret);
/* "0.5", "2", "1.25": CPUs in billionths (NanoCpus). -EINVAL for anything else. */
int units_cpus_parse(const char *s, int64_t *ret);
/* Decimal, 3 significant digits: "1.23kB", "648B", "12.3MB" (docker's HumanSize). */
void units_human(double bytes, char *buf, size_t size);
/* Binary: "1.5MiB", "64MiB", "0B" (docker's BytesSize). */
void units_binary(double bytes, char *buf, size_t size);
