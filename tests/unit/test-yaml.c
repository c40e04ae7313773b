/* test-yaml.c - lib/yaml: parsing into a tree, lookups, errors, writers. */
#include "err.h"
#include "tap.h"
#include "yaml.h"

#include <math.h>
#include <stdlib.h>

static struct vb_yaml *parse(const char *s)
{
	return vb_yaml_parse_str(s, strlen(s));
}

/* Write with fn into a memory stream, parse back, return the scalar text. */
static char *roundtrip_str(const char *s, int *quoted)
{
	char *buf = NULL, *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct vb_yaml *y;

	fputs("k: ", f);
	vb_yaml_write_str(f, s);
	fputc('\n', f);
	fclose(f);
	y = parse(buf);
	if (y && vb_yaml_str(vb_yaml_get(y, "k"))) {
		out = strdup(vb_yaml_str(vb_yaml_get(y, "k")));
		*quoted = vb_yaml_get(y, "k")->quoted;
	}
	vb_yaml_free(y);
	free(buf);
	return out;
}

int main(void)
{
	struct vb_yaml *y, *layers;
	double d;
	long l;
	int q;
	char *s;

	y = parse("name: vibify\nlayers:\n  - {type: conv, filters: 32}\n  - type: relu\nlr: 1e-3\n");
	ok(y && y->type == VB_YAML_MAP && y->n == 3, "map with three keys");
	is_str(vb_yaml_str(vb_yaml_get(y, "name")), "vibify", "scalar value");
	layers = vb_yaml_get(y, "layers");
	ok(layers && layers->type == VB_YAML_SEQ && layers->n == 2, "sequence of two");
	ok(vb_yaml_long(vb_yaml_get(layers->items[0], "filters"), &l) == 0 && l == 32, "long value");
	ok(vb_yaml_double(vb_yaml_get(y, "lr"), &d) == 0 && d == 1e-3, "double value");
	is_int(vb_yaml_get(layers->items[1], "type")->line, 4, "line numbers");
	ok(vb_yaml_get(y, "missing") == NULL, "absent key is NULL");
	ok(vb_yaml_long(vb_yaml_get(y, "name"), &l) == -1, "non-number rejected");
	is_str(vb_err_msg(), "line 1: 'vibify' is not an integer", "error names the line");
	ok(vb_yaml_double(vb_yaml_get(y, "missing"), &d) == -1, "missing value is an error");
	vb_yaml_free(y);

	y = parse("a: .nan\nb: -.inf\nc: 12abc\nd: 1.5\n");
	ok(vb_yaml_double(vb_yaml_get(y, "a"), &d) == 0 && isnan(d), ".nan");
	ok(vb_yaml_double(vb_yaml_get(y, "b"), &d) == 0 && isinf(d) && d < 0, "-.inf");
	ok(vb_yaml_double(vb_yaml_get(y, "c"), &d) == -1, "trailing garbage rejected");
	ok(vb_yaml_long(vb_yaml_get(y, "d"), &l) == -1, "float is not an integer");
	vb_yaml_free(y);

	y = parse("");
	ok(y && y->type == VB_YAML_MAP && y->n == 0, "empty document is an empty map");
	vb_yaml_free(y);

	ok(parse("a: [1, 2\n") == NULL, "unterminated flow sequence rejected");
	ok(strncmp(vb_err_msg(), "line ", 5) == 0, "syntax error names the line: %s", vb_err_msg());
	ok(parse("a: &x [1]\nb: *x\n") == NULL, "aliases rejected");
	ok(parse("? [1]\n: 2\n") == NULL, "non-scalar key rejected");

	s = roundtrip_str("plain text", &q);
	is_str(s, "plain text", "plain string round trip");
	ok(!q, "plain string written unquoted");
	free(s);
	s = roundtrip_str("yes", &q);
	is_str(s, "yes", "boolean-looking word round trip");
	ok(q, "boolean-looking word quoted");
	free(s);
	s = roundtrip_str("a \"q\": b\\c\n\ttab", &q);
	is_str(s, "a \"q\": b\\c\n\ttab", "special characters round trip");
	free(s);
	s = roundtrip_str("", &q);
	is_str(s, "", "empty string round trip");
	free(s);
	s = roundtrip_str("12", &q);
	is_str(s, "12", "number-looking string round trip");
	ok(q, "number-looking string quoted");
	free(s);

	{
		double vals[] = { 0.1, 1.0 / 3, -2.5e-300, 1e21, NAN, INFINITY, -INFINITY };
		int good = 1;
		for (size_t i = 0; i < sizeof vals / sizeof *vals; i++) {
			char *buf = NULL;
			size_t len = 0;
			FILE *f = open_memstream(&buf, &len);
			fputs("v: ", f);
			vb_yaml_write_double(f, vals[i]);
			fclose(f);
			y = parse(buf);
			if (vb_yaml_double(vb_yaml_get(y, "v"), &d) ||
			    !(d == vals[i] || (isnan(d) && isnan(vals[i])))) {
				good = 0;
				printf("# %s\n", buf);
			}
			vb_yaml_free(y);
			free(buf);
		}
		ok(good, "doubles round trip exactly");
	}
	vb_yaml_free(NULL);
	return tap_done();
}
