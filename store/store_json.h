/* SPDX-License-Identifier: Apache-2.0 */
/* Private to store/: the parts of stored objects that are kept as JSON text. */
#pragma once

#include <stdbool.h>

#include "store/store.h"

/* Subnets as [{"Subnet","IPRange","Gateway","GatewayForeign","AuxiliaryAddresses"}], unset
 * fields omitted.
 * Returns text to release with cJSON_free(), NULL when memory runs out. */
char *store_subnets_encode(const struct bsubnet *subs, int n);
/* The reverse; on failure nothing is left allocated. NULL text means no subnets. */
int store_subnets_decode(const char *text, struct bsubnet subs[NET_MAX_SUBNETS], int *ret_n,
			 struct berr *err);
/* Frees the aux objects of subs[0..n). */
void store_subnets_clear(struct bsubnet *subs, int n);

/* Parses text that must hold a JSON value of `type` (cJSON_Object or cJSON_Array). NULL text
 * gives an empty value of that type when `empty_if_null`, else NULL. */
int store_json_decode(const char *text, int type, bool empty_if_null, cJSON **ret,
		      struct berr *err);
