/* fuzz/csv.c - libFuzzer target for the CSV reader (strict and ragged) and
 * the writer: rows read back must survive a write and a second read. */
#include "csv.h"
#include "err.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int ragged = 0; ragged < 2; ragged++) {
		FILE *f = size ? fmemopen((void *)data, size, "rb") : fopen("/dev/null", "rb");
		struct vb_csv *r;
		char **fl, **fl2;
		size_t nf, nf2, *lens;

		if (!f)
			return 0;
		r = vb_csv_open(f);
		vb_csv_set_ragged(r, ragged);
		while (vb_csv_next(r, &fl, &nf, &lens) == 1) {
			char *out = NULL;
			size_t outlen = 0;
			FILE *w = open_memstream(&out, &outlen);
			FILE *rf;
			struct vb_csv *r2;

			for (size_t i = 0; i < nf; i++) {
				if (strlen(fl[i]) != lens[i])
					abort();
				double d;
				vb_csv_parse_double(fl[i], &d);
			}
			/* a row of one empty field is written as "", so it reads
			 * back as the same row (a blank line would be skipped) */
			if (vb_csv_write_row(w, (const char *const *)fl, nf) < 0)
				abort();
			fclose(w);
			rf = fmemopen(out, outlen, "rb");
			r2 = vb_csv_open(rf);
			/* (a leading byte-order mark is dropped on reading) */
			if (strncmp(fl[0], "\xef\xbb\xbf", 3)) {
				if (vb_csv_next(r2, &fl2, &nf2, NULL) != 1 || nf2 != nf)
					abort();
				for (size_t i = 0; i < nf; i++)
					if (strcmp(fl[i], fl2[i]))
						abort();
			}
			vb_csv_close(r2);
			fclose(rf);
			free(out);
		}
		vb_csv_close(r);
		fclose(f);
	}
	{
		char buf[32], *end;
		double v;
		if (size >= sizeof v) {
			memcpy(&v, data, sizeof v);
			vb_csv_fmt_double(buf, v);
			if (v == v && strtod(buf, &end) != v)
				abort();
		}
	}
	return 0;
}
