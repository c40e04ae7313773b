/* yaml.c - YAML documents as a small tree, parsed with libyaml's document
 * loader, and writers for scalars. */
#include "yaml.h"
#include "err.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#define MAX_DEPTH 64

struct conv {
	yaml_document_t *doc;
	unsigned char *seen; /* per node: visited once (aliases are rejected) */
};

static struct vb_yaml *convert(struct conv *c, int id, int depth)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, id);
	struct vb_yaml *y;
	size_t i, cap;

	if (!n)
		return vb_err_set("internal error: missing YAML node"), NULL;
	if (depth > MAX_DEPTH) {
		vb_err_set("line %lu: nesting deeper than %d levels",
			   (unsigned long)n->start_mark.line + 1, MAX_DEPTH);
		return NULL;
	}
	if (c->seen[id]) {
		vb_err_set("line %lu: anchors and aliases are not supported",
			   (unsigned long)n->start_mark.line + 1);
		return NULL;
	}
	c->seen[id] = 1;
	y = calloc(1, sizeof *y);
	if (!y)
		return vb_err_sys("out of memory"), NULL;
	y->line = (int)n->start_mark.line + 1;
	switch (n->type) {
	case YAML_SCALAR_NODE:
		y->type = VB_YAML_SCALAR;
		y->str = malloc(n->data.scalar.length + 1);
		if (!y->str)
			goto nomem;
		memcpy(y->str, n->data.scalar.value, n->data.scalar.length);
		y->str[n->data.scalar.length] = 0;
		y->quoted = n->data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			    n->data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE;
		return y;
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it = n->data.sequence.items.start;
		y->type = VB_YAML_SEQ;
		cap = (size_t)(n->data.sequence.items.top - it);
		y->items = calloc(cap ? cap : 1, sizeof *y->items);
		if (!y->items)
			goto nomem;
		for (i = 0; i < cap; i++) {
			if (!(y->items[i] = convert(c, it[i], depth + 1)))
				goto fail;
			y->n++;
		}
		return y;
	}
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p = n->data.mapping.pairs.start;
		y->type = VB_YAML_MAP;
		cap = (size_t)(n->data.mapping.pairs.top - p);
		y->items = calloc(cap ? 2 * cap : 1, sizeof *y->items);
		if (!y->items)
			goto nomem;
		for (i = 0; i < cap; i++) {
			if (!(y->items[2 * i] = convert(c, p[i].key, depth + 1)))
				goto fail;
			if (!(y->items[2 * i + 1] = convert(c, p[i].value, depth + 1))) {
				vb_yaml_free(y->items[2 * i]);
				y->items[2 * i] = NULL;
				goto fail;
			}
			if (y->items[2 * i]->type != VB_YAML_SCALAR) {
				vb_err_set("line %d: mapping keys must be scalars", y->items[2 * i]->line);
				y->n++;
				goto fail;
			}
			y->n++;
		}
		return y;
	}
	default:
		vb_err_set("line %d: unexpected YAML node", y->line);
		free(y);
		return NULL;
	}
nomem:
	vb_err_sys("out of memory");
fail:
	vb_yaml_free(y);
	return NULL;
}

static struct vb_yaml *load(yaml_parser_t *p)
{
	yaml_document_t doc;
	struct vb_yaml *y = NULL;
	struct conv c;
	yaml_node_t *root;
	size_t nnodes;

	if (!yaml_parser_load(p, &doc)) {
		vb_err_set("line %lu: %s", (unsigned long)p->problem_mark.line + 1,
			   p->problem ? p->problem : "malformed YAML");
		return NULL;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		y = calloc(1, sizeof *y);
		if (!y)
			vb_err_sys("out of memory");
		else
			y->type = VB_YAML_MAP, y->line = 1;
	} else {
		nnodes = (size_t)(doc.nodes.top - doc.nodes.start);
		c.doc = &doc;
		c.seen = calloc(nnodes + 2, 1);
		if (!c.seen)
			vb_err_sys("out of memory");
		else
			y = convert(&c, 1, 0);
		free(c.seen);
	}
	yaml_document_delete(&doc);
	return y;
}

struct vb_yaml *vb_yaml_parse(FILE *f)
{
	yaml_parser_t p;
	struct vb_yaml *y;

	if (!yaml_parser_initialize(&p))
		return vb_err_set("out of memory"), NULL;
	yaml_parser_set_input_file(&p, f);
	y = load(&p);
	yaml_parser_delete(&p);
	if (y && ferror(f)) {
		vb_yaml_free(y);
		vb_err_sys("read error");
		return NULL;
	}
	return y;
}

struct vb_yaml *vb_yaml_parse_str(const char *s, size_t len)
{
	yaml_parser_t p;
	struct vb_yaml *y;

	if (!yaml_parser_initialize(&p))
		return vb_err_set("out of memory"), NULL;
	yaml_parser_set_input_string(&p, (const unsigned char *)s, len);
	y = load(&p);
	yaml_parser_delete(&p);
	return y;
}

void vb_yaml_free(struct vb_yaml *y)
{
	size_t i, n;

	if (!y)
		return;
	n = y->type == VB_YAML_MAP ? 2 * y->n : y->n;
	for (i = 0; i < n && y->items; i++)
		vb_yaml_free(y->items[i]);
	free(y->items);
	free(y->str);
	free(y);
}

struct vb_yaml *vb_yaml_get(const struct vb_yaml *y, const char *key)
{
	if (!y || y->type != VB_YAML_MAP)
		return NULL;
	for (size_t i = 0; i < y->n; i++)
		if (!strcmp(y->items[2 * i]->str, key))
			return y->items[2 * i + 1];
	return NULL;
}

const char *vb_yaml_str(const struct vb_yaml *y)
{
	return y && y->type == VB_YAML_SCALAR ? y->str : NULL;
}

int vb_yaml_double(const struct vb_yaml *y, double *out)
{
	const char *s = vb_yaml_str(y);
	char *end;
	int neg;

	if (!y)
		return vb_err_set("missing value");
	if (!s)
		return vb_err_set("line %d: expected a number", y->line);
	neg = *s == '-';
	if (*s == '-' || *s == '+')
		s++;
	if (!strcasecmp(s, ".inf")) {
		*out = neg ? -INFINITY : INFINITY;
		return 0;
	}
	if (!strcasecmp(s, ".nan") && s == y->str) {
		*out = NAN;
		return 0;
	}
	errno = 0;
	*out = strtod(y->str, &end);
	if (end == y->str || *end || isspace((unsigned char)y->str[0]) || (errno && fabs(*out) > 1))
		return vb_err_set("line %d: '%s' is not a number", y->line, y->str);
	return 0;
}

int vb_yaml_long(const struct vb_yaml *y, long *out)
{
	const char *s = vb_yaml_str(y);
	char *end;

	if (!y)
		return vb_err_set("missing value");
	if (!s)
		return vb_err_set("line %d: expected an integer", y->line);
	errno = 0;
	*out = strtol(s, &end, 10);
	if (end == s || *end || errno || isspace((unsigned char)s[0]))
		return vb_err_set("line %d: '%s' is not an integer", y->line, s);
	return 0;
}

/* A plain scalar is safe when it starts with a letter, '_' or '/', holds only
 * letters, digits and "_./- ", does not end in a space, and is not one of the
 * words YAML 1.1 reads as a boolean or null. */
static int plain_ok(const char *s)
{
	static const char *const words[] = {
		"true", "false", "yes", "no", "on", "off", "null", "y", "n", NULL
	};
	size_t len = strlen(s);

	if (!len || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == '/'))
		return 0;
	if (s[len - 1] == ' ')
		return 0;
	for (const char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || strchr("_./- ", *p)) || (unsigned char)*p >= 0x80)
			return 0;
	for (int i = 0; words[i]; i++)
		if (!strcasecmp(s, words[i]))
			return 0;
	return 1;
}

int vb_yaml_write_str(FILE *f, const char *s)
{
	if (plain_ok(s))
		return fputs(s, f) < 0 ? vb_err_sys("write error") : 0;
	if (putc('"', f) == EOF)
		return vb_err_sys("write error");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		int r;
		if (*p == '"' || *p == '\\')
			r = fprintf(f, "\\%c", *p);
		else if (*p == '\n')
			r = fputs("\\n", f);
		else if (*p == '\t')
			r = fputs("\\t", f);
		else if (*p < 0x20 || *p == 0x7f)
			r = fprintf(f, "\\x%02x", *p);
		else
			r = putc(*p, f);
		if (r < 0)
			return vb_err_sys("write error");
	}
	return putc('"', f) == EOF ? vb_err_sys("write error") : 0;
}

int vb_yaml_write_double(FILE *f, double v)
{
	char buf[40];
	int r;

	if (isnan(v))
		r = fputs(".nan", f);
	else if (isinf(v))
		r = fputs(v > 0 ? ".inf" : "-.inf", f);
	else {
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, v);
			if (strtod(buf, NULL) == v)
				break;
		}
		r = fputs(buf, f);
	}
	return r < 0 ? vb_err_sys("write error") : 0;
}
