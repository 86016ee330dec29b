#include "util/suggest.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

size_t ims_suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return 99;
	if ((la > lb ? la - lb : lb - la) > 2)
		return 99;
	size_t prev[65], cur[65];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
			size_t v = prev[j - 1] + cost;
			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			cur[j] = v;
		}
		memcpy(prev, cur, (lb + 1) * sizeof(size_t));
	}
	return prev[lb];
}

const char *ims_suggest(const char *word, const char *const *candidates, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(candidates[i], word))
			return candidates[i];
	const char *best = NULL;
	size_t best_d = 3;
	for (size_t i = 0; i < n; i++) {
		size_t d = ims_suggest_distance(word, candidates[i]);
		if (d < best_d && d < strlen(word)) {
			best = candidates[i];
			best_d = d;
		}
	}
	return best;
}
