/* SPDX-License-Identifier: Apache-2.0 */
#ifndef BERTH_COMMON_JSON_NUM_H
#define BERTH_COMMON_JSON_NUM_H

#include <stdbool.h>
#include <cjson/cJSON.h>

/* A JSON number that is an integer in [lo, hi] (lo and hi within long long). cJSON keeps
 * numbers as doubles, and converting one outside an integer type's range (1e999, 8e35, NaN) is
 * undefined: the range is checked before any conversion. */
static inline bool json_int_in(const cJSON *v, double lo, double hi)
{
	return cJSON_IsNumber(v) && v->valuedouble >= lo && v->valuedouble <= hi &&
	       v->valuedouble == (double)(long long)v->valuedouble;
}

#endif
