/* yaml.h - YAML documents as a small tree (parsed with libyaml) and helpers
 * to write YAML scalars.  Enough for Vibify's architectures, scalers,
 * schemas, statistics and run records; anchors and aliases are rejected. */
#ifndef VB_YAML_H
#define VB_YAML_H

#include <stddef.h>
#include <stdio.h>

enum vb_yaml_type { VB_YAML_SCALAR, VB_YAML_SEQ, VB_YAML_MAP };

struct vb_yaml {
	enum vb_yaml_type type;
	char *str;               /* scalar text (NULL for SEQ/MAP) */
	int quoted;              /* scalar was quoted in the source */
	size_t n;                /* SEQ: items; MAP: key/value pairs */
	struct vb_yaml **items;  /* SEQ: items[i]; MAP: key items[2i], value items[2i+1] */
	int line;                /* 1-based line in the source */
};

/* Parse the first document of a YAML stream / string.  An empty document
 * gives an empty MAP.  NULL with an error ("line N: ...") on failure.  Free
 * with vb_yaml_free(). */
struct vb_yaml *vb_yaml_parse(FILE *f);
struct vb_yaml *vb_yaml_parse_str(const char *s, size_t len);
/* Frees a tree; accepts NULL. */
void vb_yaml_free(struct vb_yaml *y);

/* The value of key in a MAP, or NULL if absent or y is not a MAP. */
struct vb_yaml *vb_yaml_get(const struct vb_yaml *y, const char *key);
/* Scalar text, or NULL if y is NULL or not a scalar. */
const char *vb_yaml_str(const struct vb_yaml *y);
/* Scalar as a number: 0 with *out set, -1 with an error naming the line if
 * y is absent, not a scalar, or not a (whole) number.  .nan/.inf accepted
 * for doubles. */
int vb_yaml_double(const struct vb_yaml *y, double *out);
int vb_yaml_long(const struct vb_yaml *y, long *out);

/* Write s as a YAML scalar, double-quoted and escaped only when it needs to
 * be (empty, special characters, looks like a number/bool/null but is a
 * string).  0 or -1. */
int vb_yaml_write_str(FILE *f, const char *s);
/* Write a double so it reads back exactly (.nan, .inf, -.inf). 0 or -1. */
int vb_yaml_write_double(FILE *f, double v);

#endif
