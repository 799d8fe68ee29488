/* SPDX-License-Identifier: Apache-2.0 */
/* Aligned text tables for the read commands. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli_common.h"
#include "common/util.h"

struct cli_table {
	size_t ncols;
	size_t nrows; /* including the header row */
	char **cells;
};

struct cli_table *cli_table_new(size_t ncols, const char *const *headers)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t)
		abort();
	t->ncols = ncols;
	cli_table_add(t, headers);
	return t;
}

void cli_table_add(struct cli_table *t, const char *const *cells)
{
	char **grown = realloc(t->cells, (t->nrows + 1) * t->ncols * sizeof(*grown));

	if (!grown)
		abort();
	t->cells = grown;
	for (size_t c = 0; c < t->ncols; c++)
		grown[t->nrows * t->ncols + c] =
			util_xstrdup(cells[c] && *cells[c] ? cells[c] : "-");
	t->nrows++;
}

void cli_table_print(const struct cli_table *t, FILE *f)
{
	size_t *w = calloc(t->ncols, sizeof(*w));

	if (!w)
		abort();
	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > w[c])
				w[c] = len;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", cell);
			else
				fprintf(f, "%-*s  ", (int)w[c], cell);
		}
	}
	free(w);
}

void cli_table_free(struct cli_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}
