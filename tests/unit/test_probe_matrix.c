/* SPDX-License-Identifier: Apache-2.0 */
/* The probe matrix people read (cli/probe_matrix.c) from canned replies: sections per protocol
 * and family, rows and columns, one symbol per cell (its ports together), the differences, the
 * published ports, numbered targets on a narrow terminal, colours, the explanation. The CLI's
 * sources are not in libberth.a: compiled in here. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "cli/client.c"
#include "cli/http_reply.c"
#include "cli/probe_matrix.c"

static cJSON *cell_new(const char *src, const char *dst, const char *net, const char *proto,
		       int family, int port, const char *verdict, bool match)
{
	cJSON *c = cJSON_CreateObject();

	cJSON_AddStringToObject(c, "Source", src);
	cJSON_AddStringToObject(c, "Target", dst);
	cJSON_AddStringToObject(c, "Network", net);
	cJSON_AddBoolToObject(c, "Published", false);
	cJSON_AddStringToObject(c, "Address", "10.0.0.9");
	cJSON_AddNumberToObject(c, "Family", family);
	cJSON_AddStringToObject(c, "Protocol", proto);
	cJSON_AddNumberToObject(c, "Port", port);
	cJSON_AddStringToObject(c, "Verdict", verdict);
	cJSON_AddStringToObject(c, "Reason", "because");
	cJSON_AddStringToObject(c, "Expected", match ? verdict : "blocked");
	cJSON_AddStringToObject(c, "ExpectedBy", "rule 1");
	cJSON_AddBoolToObject(c, "Match", match);
	return c;
}

/* a and b on n1, ab on n1 and n2; the host publishes nothing but one port of a */
static cJSON *reply_new(void)
{
	cJSON *r = cJSON_CreateObject(), *cells = cJSON_AddArrayToObject(r, "Cells");
	cJSON *nodes = cJSON_AddArrayToObject(r, "Nodes"), *s, *pub;
	const char *names[] = { "host", "a", "b", "ab" };

	for (int i = 0; i < 4; i++) {
		cJSON *n = cJSON_CreateObject();

		cJSON_AddStringToObject(n, "Name", names[i]);
		cJSON_AddBoolToObject(n, "Host", i == 0);
		cJSON_AddItemToArray(nodes, n);
	}
	cJSON_AddItemToArray(cells, cell_new("a", "b", "n1", "icmp", 4, 0, "reach", true));
	cJSON_AddItemToArray(cells, cell_new("a", "ab", "n1", "icmp", 4, 0, "reach", true));
	cJSON_AddItemToArray(cells, cell_new("a", "ab", "n2", "icmp", 4, 0, "blocked", true));
	cJSON_AddItemToArray(cells, cell_new("b", "a", "n1", "icmp", 4, 0, "reach", false));
	cJSON_AddItemToArray(cells, cell_new("a", "b", "n1", "tcp", 4, 80, "reach", true));
	cJSON_AddItemToArray(cells, cell_new("a", "b", "n1", "tcp", 4, 443, "blocked", true));
	cJSON_AddItemToArray(cells, cell_new("b", "a", "n1", "tcp", 4, 80, "error", true));
	pub = cell_new("host", "a", "", "tcp", 4, 8080, "reach", true);
	cJSON_ReplaceItemInObject(pub, "Published", cJSON_CreateTrue());
	cJSON_AddNumberToObject(pub, "TargetPort", 80);
	cJSON_AddItemToArray(cells, pub);
	cJSON_AddStringToObject(r, "Policy", "file");
	s = cJSON_AddObjectToObject(r, "Summary");
	cJSON_AddNumberToObject(s, "Cells", 8);
	cJSON_AddNumberToObject(s, "DurationMs", 1500);
	return r;
}

static char *render(const cJSON *r, const struct matrix_style *st, size_t *ret_differ)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	*ret_differ = matrix_print(r, st, f);
	fclose(f);
	return buf;
}

/* The line after `title`'s header line that starts with `row`. */
static const char *row_of(const char *text, const char *title, const char *row)
{
	const char *s = strstr(text, title);
	static char line[256];

	for (s = s ? strchr(s, '\n') : NULL; s && s[1]; s = strchr(s + 1, '\n'))
		if (!strncmp(s + 1, row, strlen(row)) && s[1 + strlen(row)] == ' ') {
			size_t n = strcspn(s + 1, "\n");

			snprintf(line, sizeof(line), "%.*s", (int)n, s + 1);
			return line;
		}
	return "";
}

static void test_plain(void **state)
{
	cJSON *r = reply_new();
	struct matrix_style st = { .color = false, .utf8 = false, .width = 200 };
	size_t differ;
	char *out = render(r, &st, &differ);

	assert_int_equal(differ, 1);
	assert_non_null(strstr(out, "\nICMP, IPv4\n"));
	assert_non_null(strstr(out, "\nTCP, IPv4\n"));
	assert_null(strstr(out, "IPv6"));
	assert_null(strstr(out, "\033"));
	/* columns: b, ab@n1, ab@n2 (a target on two networks is named with each), a */
	assert_non_null(strstr(out, "b  ab@n1 ab@n2 a"));
	/* a's row: b reach, ab@n1 reach, ab@n2 blocked, itself */
	assert_string_equal(row_of(out, "ICMP, IPv4", "a"), "a       Y  Y     x     -  ");
	/* b -> a differs from the expected: marked */
	assert_non_null(strstr(row_of(out, "ICMP, IPv4", "b"), "Y*"));
	/* tcp a -> b: 80 reach, 443 blocked: some ports only; b -> a: an error */
	assert_non_null(strstr(row_of(out, "TCP, IPv4", "a"), "~"));
	assert_non_null(strstr(row_of(out, "TCP, IPv4", "b"), "!"));
	assert_non_null(strstr(out, "Published ports, from the host\n"));
	assert_non_null(strstr(out, "host -> a (published on 10.0.0.9) tcp/8080 IPv4 -> port 80"));
	assert_non_null(strstr(out, "Errors:\n  b -> a@n1 (10.0.0.9) tcp/80 IPv4: because"));
	assert_non_null(strstr(out, "Differences from the policy"));
	assert_non_null(strstr(out, "b -> a@n1 (10.0.0.9) icmp IPv4: expected blocked (rule 1), "
				    "seen reach (because)"));
	assert_non_null(strstr(out, "8 cells, 3 containers, 1.5 s"));
	free(out);
	cJSON_Delete(r);
}

static void test_narrow_and_colour(void **state)
{
	cJSON *r = reply_new();
	struct matrix_style st = { .color = true, .utf8 = true, .width = 20 };
	size_t differ;
	char *out = render(r, &st, &differ);

	/* targets numbered, with their key */
	assert_non_null(strstr(out, "Targets:\n  1 b   2 ab@n1   3 ab@n2   4 a"));
	assert_non_null(strstr(out, "1  2  3  4"));
	assert_non_null(strstr(out, GREEN "✓" RESET));
	assert_non_null(strstr(out, RED "✗" RESET));
	assert_non_null(strstr(out, INVERSE BOLD GREEN "✓" RESET));   /* the difference */
	free(out);
	cJSON_Delete(r);
}

static void test_explain(void **state)
{
	const char *json = "{\"Cell\": \"a -> b tcp/80 IPv4\", \"Network\": \"n2\", \"Address\": "
			   "\"10.0.0.9\", \"Verdict\": \"blocked\", \"Reason\": \"no answer\", "
			   "\"Decision\": \"dropped: isolation between networks n1 and n2\", "
			   "\"Rule\": {\"Table\": \"inet berth\", \"Chain\": \"to_bridge\", \"Handle\": 45,"
			   " \"Rule\": \"iifname @bridges drop\"}, \"Path\": [{\"Table\": \"inet berth\", "
			   "\"Chain\": \"to_bridge\", \"Type\": \"rule\", \"Handle\": 45, \"Rule\": "
			   "\"iifname @bridges drop\", \"Verdict\": \"drop\", \"In\": \"br1\", \"Out\": "
			   "\"br2\"}]}";
	cJSON *x = cJSON_Parse(json);
	struct matrix_style st = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	matrix_explain_print(x, &st, f);
	fclose(f);
	assert_non_null(strstr(buf, "a -> b tcp/80 IPv4 (10.0.0.9, network n2): blocked, no answer\n"
				    "dropped: isolation between networks n1 and n2\n"
				    "  by rule \"iifname @bridges drop\" (handle 45) of chain to_bridge, "
				    "table inet berth\npath:\n"));
	assert_non_null(strstr(buf, "rule \"iifname @bridges drop\" (handle 45): drop   [in br1, out br2]"));
	free(buf);
	cJSON_Delete(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_narrow_and_colour),
		cmocka_unit_test(test_explain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
