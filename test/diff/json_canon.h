/*
 * json_canon.h
 *		For the tests of src/json_scan.c: reads one value with the scan's
 *		API, as its callers do, and writes it in a canonical form: strings
 *		with only ", \ and the bytes below 0x20 escaped (those as \u00xx),
 *		numbers as their text, members in their order, duplicates kept, no
 *		whitespace.  test/diff/json_scan_diff.py writes the same form from
 *		Python's json module; the fuzzer checks that the form reads back as
 *		itself.
 */
#ifndef TRACKLY_JSON_CANON_H
#define TRACKLY_JSON_CANON_H

#include <stdlib.h>
#include <string.h>

#include "json_scan.h"

typedef struct Canon
{
	char	   *data;
	size_t		len;
	size_t		cap;
} Canon;

static void
canon_put(Canon *c, const char *s, size_t n)
{
	if (c->len + n + 1 > c->cap)
	{
		c->cap = (c->len + n + 1) * 2;
		c->data = realloc(c->data, c->cap);
		if (c->data == NULL)
			abort();
	}
	memcpy(c->data + c->len, s, n);
	c->len += n;
	c->data[c->len] = '\0';
}

static void
canon_string(Canon *c, const char *s, int len)
{
	static const char hex[] = "0123456789abcdef";
	int			i;

	canon_put(c, "\"", 1);
	for (i = 0; i < len; i++)
	{
		unsigned char b = (unsigned char) s[i];

		if (b == '"' || b == '\\')
		{
			char		esc[2] = {'\\', (char) b};

			canon_put(c, esc, 2);
		}
		else if (b < 0x20)
		{
			char		esc[6] = {'\\', 'u', '0', '0', hex[b >> 4], hex[b & 15]};

			canon_put(c, esc, 6);
		}
		else
			canon_put(c, (const char *) &s[i], 1);
	}
	canon_put(c, "\"", 1);
}

/* Reads the next value into c; false when the scan refuses it. */
static bool
canon_value(JsonScan *s, Canon *c)
{
	JsonScanKind kind = json_scan_peek(s);
	JsonScanNumber number;
	JsonScanStep step;
	const char *str;
	int			len;
	int			i;
	bool		object = kind == JSON_SCAN_OBJECT;

	switch (kind)
	{
		case JSON_SCAN_STRING:
			if (!json_scan_string(s, &str, &len))
				return false;
			canon_string(c, str, len);
			return true;
		case JSON_SCAN_NUMBER:
			if (!json_scan_number(s, &number))
				return false;
			canon_put(c, number.text, number.len);
			return true;
		case JSON_SCAN_TRUE:
		case JSON_SCAN_FALSE:
		case JSON_SCAN_NULL:
			if (!json_scan_literal(s, kind))
				return false;
			canon_put(c, kind == JSON_SCAN_TRUE ? "true" : kind == JSON_SCAN_FALSE ? "false" : "null",
					  kind == JSON_SCAN_FALSE ? 5 : 4);
			return true;
		case JSON_SCAN_OBJECT:
		case JSON_SCAN_ARRAY:
			if (!json_scan_open(s, object ? '{' : '['))
				return false;
			canon_put(c, object ? "{" : "[", 1);
			for (i = 0; (step = json_scan_next(s, object ? '}' : ']', i)) == JSON_SCAN_ITEM; i++)
			{
				if (i > 0)
					canon_put(c, ",", 1);
				if (object)
				{
					if (!json_scan_key(s, &str, &len))
						return false;
					canon_string(c, str, len);
					canon_put(c, ":", 1);
				}
				if (!canon_value(s, c))
					return false;
			}
			canon_put(c, object ? "}" : "]", 1);
			return step == JSON_SCAN_CLOSED;
		case JSON_SCAN_BAD:
			break;
	}
	return false;
}

/* Room for decoded strings: one block of exactly n bytes (a sanitizer sees past it). */
static char *
canon_room(void *arg, size_t n)
{
	char	  **room = (char **) arg;

	if (*room != NULL)
		abort();				/* asked twice */
	*room = malloc(n > 0 ? n : 1);
	return *room;
}

/*
 * The canonical form of the whole text (one value, whitespace around it),
 * in *out (the caller frees out->data); false when the scan refuses it.
 */
static bool
canon_text(const char *text, size_t len, int max_depth, Canon *out)
{
	JsonScan	s;
	char	   *room = NULL;
	bool		ok;

	memset(out, 0, sizeof(*out));
	canon_put(out, "", 0);
	json_scan_init(&s, text, len, max_depth, canon_room, &room);
	ok = canon_value(&s, out) && json_scan_done(&s);
	free(room);
	return ok;
}

#endif							/* TRACKLY_JSON_CANON_H */
