/* SPDX-License-Identifier: Apache-2.0 */
/* --format templates (cli/format.c): the Go template subset, tables, and refused syntax. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "cli/format.c"
#include "cli/table.c"

static const char *obj_text =
	"{\"Name\":\"web\",\"Id\":\"abc\",\"N\":3,\"F\":0.5,\"B\":true,\"Z\":null,"
	"\"State\":{\"Status\":\"running\",\"Pid\":42},"
	"\"Nets\":{\"my-net\":{\"IP\":\"10.0.0.2\"},\"b\":{\"IP\":\"10.1.0.2\"}},"
	"\"Names\":[\"a\",\"b\"],\"Cfg\":[{\"Subnet\":\"10.0.0.0/24\"},{\"Subnet\":\"fd00::/64\"}]}";

static void expect(const char *tmpl, const char *want)
{
	cJSON *o = cJSON_Parse(obj_text);
	char *got = format_render(tmpl, o);

	assert_string_equal(got, want);
	free(got);
	cJSON_Delete(o);
}

static void test_values(void **state)
{
	expect("{{.Name}}", "web");
	expect("name={{.Name}} id={{ .Id }}", "name=web id=abc");
	expect("{{.State.Status}}/{{.State.Pid}}", "running/42");
	expect("{{.N}} {{.F}} {{.B}}", "3 0.5 true");
	expect("{{.Missing}}|{{.State.Missing.X}}|{{.Z}}", "<no value>|<no value>|<no value>");
	expect("{{.State}}", "{\"Status\":\"running\",\"Pid\":42}");
	expect("{{json .Name}}", "\"web\"");
	expect("{{json .Names}}", "[\"a\",\"b\"]");
	expect("{{index .Nets \"my-net\" \"IP\"}}", "10.0.0.2");
	expect("{{join .Names \", \"}}", "a, b");
	expect("{{upper .Name}}{{lower .State.Status}}", "WEBrunning");
	expect("a\\tb\\nc", "a\tb\nc");
	expect("no actions", "no actions");
	expect("{{json .}}", obj_text);
}

static void test_range(void **state)
{
	expect("{{range .Cfg}}{{.Subnet}} {{end}}", "10.0.0.0/24 fd00::/64 ");
	expect("{{range .Names}}[{{.}}]{{end}}", "[a][b]");
	expect("{{range .Nets}}{{.IP}};{{end}}", "10.0.0.2;10.1.0.2;");
	expect("{{range .Missing}}x{{end}}end", "end");
	expect("{{range .Cfg}}{{range .}}<{{.}}>{{end}}{{end}}", "<10.0.0.0/24><fd00::/64>");
}

static void test_errors(void **state)
{
	static const char *const bad[] = {
		"{{.Name", "{{end}}", "{{range .X}}", "{{nope .X}}", "{{Name}}", "{{}}",
		"{{.A..B}}", "{{.A.}}", "{{index .X}}", "{{join .X}}", "{{json .X \"y\"}}",
		"{{.X \"unterminated}}", "{{.X bare}}", "{{upper}}",
	};
	struct berr err = BERR_INIT;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		berr_clear(&err);
		if (format_check(bad[i], &err) >= 0)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(strstr(berr_str(&err), "template"));
	}
	assert_int_equal(format_check("{{.A}}\\t{{json .B}}{{range .C}}{{.D}}{{end}}", &err), 0);
	assert_int_equal(format_validate(NULL, &err), 0);
	assert_int_equal(format_validate("table", &err), 0);
	assert_int_equal(format_validate("json", &err), 0);
	assert_int_equal(format_validate("x {{.A}}", &err), 0);
	assert_true(format_validate("yaml", &err) < 0);
	assert_non_null(strstr(berr_str(&err), "unsupported format yaml"));
	assert_true(format_validate("{{.A", &err) < 0);
}

static void test_table(void **state)
{
	static const struct format_header h[] = { { "ID", "CONTAINER ID" }, { NULL, NULL } };
	cJSON *list = cJSON_Parse("[{\"ID\":\"1\",\"RunningFor\":\"x\",\"CreatedAt\":\"now\"},"
				  "{\"ID\":\"22\",\"RunningFor\":\"yy\",\"CreatedAt\":\"then\"}]");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	format_list("table {{.ID}}\\t{{.RunningFor}}\\t{{.CreatedAt}}", list, h, f);
	format_list("{{.ID}}:{{.CreatedAt}}", list, h, f);
	fclose(f);
	assert_string_equal(buf, "CONTAINER ID   RUNNING FOR   CREATED AT\n"
				 "1              x             now\n"
				 "22             yy            then\n"
				 "1:now\n22:then\n");
	free(buf);
	cJSON_Delete(list);
	assert_true(format_is_custom("json"));
	assert_true(format_is_custom("{{.ID}}"));
	assert_false(format_is_custom("table"));
	assert_false(format_is_custom(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
