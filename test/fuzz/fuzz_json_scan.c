/*
 * fuzz_json_scan.c
 *		libFuzzer target for the JSON reader of the HTTP entry point
 *		(src/json_scan.c), read through its API as the import reads it
 *		(test/diff/json_canon.h).
 *
 * Each input is copied into a buffer of exactly its size, and decoded
 * strings go to a room of exactly the text's size, so AddressSanitizer
 * catches any access past either.  For every input: the verdict and the
 * canonical form are deterministic.  For an input the scan accepts: its
 * canonical form is accepted too and reads back as itself (the escapes were
 * decoded and nothing was lost or invented); for a valid UTF-8 input the
 * form is valid UTF-8 without a NUL; and a scan limited to depth 2 accepts
 * it only if no bracket of its form opens deeper than 2.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json_canon.h"

/* Stops the run when a property does not hold. */
static void
require(bool property)
{
	if (!property)
		abort();
}

/* Is s (len bytes) valid UTF-8 without a NUL: shortest forms, no surrogates, up to U+10FFFF? */
static bool
valid_utf8(const unsigned char *s, size_t len)
{
	size_t		i = 0;

	while (i < len)
	{
		unsigned char b = s[i];
		uint32_t	cp;
		size_t		n;
		size_t		k;

		if (b == 0)
			return false;
		if (b < 0x80)
		{
			i++;
			continue;
		}
		if (b >= 0xC2 && b <= 0xDF)
			n = 2, cp = b & 0x1F;
		else if (b >= 0xE0 && b <= 0xEF)
			n = 3, cp = b & 0x0F;
		else if (b >= 0xF0 && b <= 0xF4)
			n = 4, cp = b & 0x07;
		else
			return false;
		if (i + n > len)
			return false;
		for (k = 1; k < n; k++)
		{
			if ((s[i + k] & 0xC0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3F);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
			(cp >= 0xD800 && cp <= 0xDFFF))
			return false;
		i += n;
	}
	return true;
}

/* The deepest an opening bracket of a canonical form goes (strings skipped). */
static int
form_depth(const char *s, size_t len)
{
	int			depth = 0;
	int			deepest = 0;
	bool		in_string = false;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (in_string)
		{
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
		}
		else if (s[i] == '"')
			in_string = true;
		else if (s[i] == '[' || s[i] == '{')
		{
			depth++;
			if (depth > deepest)
				deepest = depth;
		}
		else if (s[i] == ']' || s[i] == '}')
			depth--;
	}
	return deepest;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char	   *text = malloc(size > 0 ? size : 1);
	Canon		first;
	Canon		again;
	Canon		shallow;
	bool		accepted;

	memcpy(text, data, size);
	accepted = canon_text(text, size, 64, &first);
	require(canon_text(text, size, 64, &again) == accepted);
	require(!accepted || (again.len == first.len && memcmp(again.data, first.data, first.len) == 0));
	free(again.data);

	if (accepted)
	{
		char	   *form = malloc(first.len > 0 ? first.len : 1);

		memcpy(form, first.data, first.len);
		require(canon_text(form, first.len, 64, &again));
		require(again.len == first.len && memcmp(again.data, first.data, first.len) == 0);
		free(again.data);
		free(form);

		if (valid_utf8((const unsigned char *) text, size))
			require(valid_utf8((const unsigned char *) first.data, first.len));

		if (canon_text(text, size, 2, &shallow))
			require(form_depth(first.data, first.len) <= 2);
		free(shallow.data);
	}
	free(first.data);
	free(text);
	return 0;
}
