/* plot.h - scatter plots written as PNG (libpng), with axes, tick labels,
 * a title and a legend drawn in a built-in 5x7 bitmap font (printable
 * ASCII; anything else is drawn as '?').
 */
#ifndef VB_PLOT_H
#define VB_PLOT_H

#include <stdio.h>

struct vb_plot_group {
	const char *label;       /* legend text; not owned */
	unsigned char rgb[3];    /* colour of its points */
};

/* Draw n points (x[i], y[i]), point i in colour groups[group[i]].rgb
 * (group[i] in [0, ngroups)), on a white width x height canvas (at least
 * 200 x 150, at most 8192 x 8192) and write it to f as an 8-bit RGB PNG.
 * Axis ranges cover every finite point; non-finite points are skipped.
 * title, xlabel and ylabel may be NULL.  The legend lists every group with
 * its colour.  0, or -1 with the error set (bad sizes, write error). */
int vb_plot_scatter(FILE *f, int width, int height, const double *x, const double *y,
		    long n, const int *group, const struct vb_plot_group *groups, int ngroups,
		    const char *title, const char *xlabel, const char *ylabel);

#endif
