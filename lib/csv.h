/* csv.h - RFC 4180 CSV, read row by row and written with minimal quoting.
 *
 * The reader accepts quoted fields with embedded commas, quotes ("") and
 * newlines, LF or CRLF line ends, a UTF-8 byte-order mark before the first
 * field, empty fields, and a last line without a newline.  Every row must
 * have as many fields as the first one (the header); a ragged row is an
 * error naming its line.  It never seeks.
 */
#ifndef VB_CSV_H
#define VB_CSV_H

#include <stddef.h>
#include <stdio.h>

struct vb_csv;

/* Start reading CSV from f (not owned: the caller closes f after
 * vb_csv_close).  NULL on allocation failure. */
struct vb_csv *vb_csv_open(FILE *f);
/* Free the reader; accepts NULL. */
void vb_csv_close(struct vb_csv *r);

/* Allow rows of any width (default: all rows as wide as the first). */
void vb_csv_set_ragged(struct vb_csv *r, int allow);

/* Read the next row.  Returns 1 with *fields pointing at *nfields
 * NUL-terminated strings, 0 at end of input, -1 on error (unterminated
 * quote, text after a closing quote, ragged row, a NUL byte, I/O error);
 * the message names the line.  The strings and the array belong to the
 * reader and stay valid until the next vb_csv_next or vb_csv_close; the
 * caller may modify them in place.  A blank line is skipped when rows have
 * several fields (or before the first row); in a one-column file it is a row
 * of one empty field.  lens, if not NULL, receives the field lengths. */
int vb_csv_next(struct vb_csv *r, char ***fields, size_t *nfields, size_t **lens);

/* The line number (1-based) on which the row last returned began. */
long vb_csv_line(const struct vb_csv *r);

/* Write one field, quoted only if it holds a comma, quote, CR or LF, or
 * begins or ends with a space.  0 or -1 (error set). */
int vb_csv_write_field(FILE *f, const char *s);
/* Write a whole row of n fields and a newline (LF); a row of one empty
 * field is written as "" so that it reads back as a row.  0 or -1. */
int vb_csv_write_row(FILE *f, const char *const *fields, size_t n);

/* Format a double into buf (at least 32 bytes) with the fewest significant
 * digits that read back to the same value ("%.17g" at most); NaN is "nan",
 * infinities "inf"/"-inf".  Returns buf. */
char *vb_csv_fmt_double(char *buf, double v);

/* Parse a whole field as a finite or non-finite double (strtod rules,
 * leading/trailing spaces allowed).  Returns 0 with *out set, -1 if the field
 * is empty or not a number. */
int vb_csv_parse_double(const char *s, double *out);

#endif
