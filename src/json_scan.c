/*
 * json_scan.c
 *		A strict reader of JSON text, one value at a time (json_scan.h says
 *		what it accepts).  Its grammar is PostgreSQL's JSON lexer's: the four
 *		whitespace bytes, -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?,
 *		the literals true, false and null, strings of bytes from 0x20 up with
 *		the escapes \" \\ \/ \b \f \n \r \t and \uXXXX.
 */
#include "json_scan.h"

#include <string.h>

/* Most digits of an exponent the scan accepts. */
#define MAX_EXPONENT_DIGITS 3

static bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static void
skip_space(JsonScan *s)
{
	while (s->at < s->end && is_space(*s->at))
		s->at++;
}

void
json_scan_init(JsonScan *s, const char *text, size_t len, int max_depth,
			   JsonScanRoom room, void *room_arg)
{
	s->at = text;
	s->end = text + len;
	s->depth = 0;
	s->max_depth = max_depth;
	s->text_len = len;
	s->room = room;
	s->room_arg = room_arg;
	s->decoded = NULL;
}

JsonScanKind
json_scan_peek(JsonScan *s)
{
	skip_space(s);
	if (s->at == s->end)
		return JSON_SCAN_BAD;
	switch (*s->at)
	{
		case '"':
			return JSON_SCAN_STRING;
		case '{':
			return JSON_SCAN_OBJECT;
		case '[':
			return JSON_SCAN_ARRAY;
		case 't':
			return JSON_SCAN_TRUE;
		case 'f':
			return JSON_SCAN_FALSE;
		case 'n':
			return JSON_SCAN_NULL;
		default:
			return *s->at == '-' || is_digit(*s->at) ? JSON_SCAN_NUMBER : JSON_SCAN_BAD;
	}
}

/* The value of the four hex digits at p (p + 4 <= end), or -1. */
static long
hex4(const char *p)
{
	long		value = 0;
	int			i;

	for (i = 0; i < 4; i++)
	{
		char		c = p[i];
		int			digit;

		if (c >= '0' && c <= '9')
			digit = c - '0';
		else if (c >= 'a' && c <= 'f')
			digit = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			digit = c - 'A' + 10;
		else
			return -1;
		value = value * 16 + digit;
	}
	return value;
}

/* Writes code point cp (1 .. 0x10FFFF, not a surrogate) as UTF-8; returns the end. */
static char *
put_utf8(char *out, long cp)
{
	if (cp < 0x80)
		*out++ = (char) cp;
	else if (cp < 0x800)
	{
		*out++ = (char) (0xC0 | (cp >> 6));
		*out++ = (char) (0x80 | (cp & 0x3F));
	}
	else if (cp < 0x10000)
	{
		*out++ = (char) (0xE0 | (cp >> 12));
		*out++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*out++ = (char) (0x80 | (cp & 0x3F));
	}
	else
	{
		*out++ = (char) (0xF0 | (cp >> 18));
		*out++ = (char) (0x80 | ((cp >> 12) & 0x3F));
		*out++ = (char) (0x80 | ((cp >> 6) & 0x3F));
		*out++ = (char) (0x80 | (cp & 0x3F));
	}
	return out;
}

/*
 * Decodes the escape at *p (a backslash) to out, advancing *p past it; the
 * end of what it wrote, or NULL for an escape the scan refuses: unknown,
 * \u0000, or a surrogate that is not a high one followed by a low one.
 */
static char *
decode_escape(const char **p, const char *end, char *out)
{
	const char *e = *p + 1;
	long		cp;

	if (e == end)
		return NULL;
	*p = e + 1;
	switch (*e)
	{
		case '"':
		case '\\':
		case '/':
			*out++ = *e;
			return out;
		case 'b':
			*out++ = '\b';
			return out;
		case 'f':
			*out++ = '\f';
			return out;
		case 'n':
			*out++ = '\n';
			return out;
		case 'r':
			*out++ = '\r';
			return out;
		case 't':
			*out++ = '\t';
			return out;
		case 'u':
			break;
		default:
			return NULL;
	}
	if (end - (e + 1) < 4 || (cp = hex4(e + 1)) < 0)
		return NULL;
	*p = e + 5;
	if (cp >= 0xD800 && cp <= 0xDBFF)
	{
		const char *low = *p;
		long		low_cp;

		if (end - low < 6 || low[0] != '\\' || low[1] != 'u' ||
			(low_cp = hex4(low + 2)) < 0xDC00 || low_cp > 0xDFFF)
			return NULL;
		cp = 0x10000 + ((cp - 0xD800) << 10) + (low_cp - 0xDC00);
		*p = low + 6;
	}
	else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0)
		return NULL;
	return put_utf8(out, cp);
}

bool
json_scan_string(JsonScan *s, const char **str, int *len)
{
	const char *start;
	const char *p;
	char	   *out;
	char	   *first;

	if (json_scan_peek(s) != JSON_SCAN_STRING)
		return false;
	start = p = s->at + 1;
	while (p < s->end && *p != '"' && *p != '\\' && (unsigned char) *p >= 0x20)
		p++;
	if (p == s->end || (unsigned char) *p < 0x20)
		return false;
	if (*p == '"')
	{
		*str = start;
		*len = (int) (p - start);
		s->at = p + 1;
		return true;
	}

	/* An escape: the string is decoded into the room, from its start. */
	if (s->decoded == NULL)
	{
		s->decoded = s->room(s->room_arg, s->text_len);
		if (s->decoded == NULL)
			return false;
	}
	first = out = s->decoded;
	memcpy(out, start, p - start);
	out += p - start;
	while (p < s->end && *p != '"')
	{
		if (*p == '\\')
		{
			if ((out = decode_escape(&p, s->end, out)) == NULL)
				return false;
		}
		else if ((unsigned char) *p < 0x20)
			return false;
		else
			*out++ = *p++;
	}
	if (p == s->end)
		return false;
	*str = first;
	*len = (int) (out - first);
	s->decoded = out;
	s->at = p + 1;
	return true;
}

bool
json_scan_number(JsonScan *s, JsonScanNumber *number)
{
	const char *p;
	const char *end = s->end;
	bool		integral = true;

	if (json_scan_peek(s) != JSON_SCAN_NUMBER)
		return false;
	p = s->at;
	if (*p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (p < end && is_digit(*p))
		while (p < end && is_digit(*p))
			p++;
	else
		return false;
	if (p < end && *p == '.')
	{
		p++;
		if (p == end || !is_digit(*p))
			return false;
		while (p < end && is_digit(*p))
			p++;
		integral = false;
	}
	if (p < end && (*p == 'e' || *p == 'E'))
	{
		const char *digits;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		digits = p;
		while (p < end && is_digit(*p))
			p++;
		if (p == digits || p - digits > MAX_EXPONENT_DIGITS)
			return false;
		integral = false;
	}
	if (p - s->at > JSON_SCAN_MAX_NUMBER_BYTES)
		return false;
	number->text = s->at;
	number->len = (int) (p - s->at);
	number->integral = integral;
	s->at = p;
	return true;
}

bool
json_scan_literal(JsonScan *s, JsonScanKind kind)
{
	const char *word;
	size_t		len;

	switch (json_scan_peek(s))
	{
		case JSON_SCAN_TRUE:
			word = "true";
			break;
		case JSON_SCAN_FALSE:
			word = "false";
			break;
		case JSON_SCAN_NULL:
			word = "null";
			break;
		default:
			return false;
	}
	len = strlen(word);
	if (json_scan_peek(s) != kind || (size_t) (s->end - s->at) < len ||
		memcmp(s->at, word, len) != 0)
		return false;
	s->at += len;
	return true;
}

bool
json_scan_open(JsonScan *s, char open)
{
	skip_space(s);
	if (s->at == s->end || *s->at != open || s->depth >= s->max_depth)
		return false;
	s->at++;
	s->depth++;
	return true;
}

JsonScanStep
json_scan_next(JsonScan *s, char close, int i)
{
	skip_space(s);
	if (s->at == s->end)
		return JSON_SCAN_FAILED;
	if (*s->at == close)
	{
		s->at++;
		s->depth--;
		return JSON_SCAN_CLOSED;
	}
	if (i == 0)
		return JSON_SCAN_ITEM;
	if (*s->at != ',')
		return JSON_SCAN_FAILED;
	s->at++;
	/* After a comma comes an item, never the close. */
	skip_space(s);
	if (s->at < s->end && *s->at == close)
		return JSON_SCAN_FAILED;
	return JSON_SCAN_ITEM;
}

bool
json_scan_key(JsonScan *s, const char **key, int *len)
{
	if (!json_scan_string(s, key, len))
		return false;
	skip_space(s);
	if (s->at == s->end || *s->at != ':')
		return false;
	s->at++;
	return true;
}

/* Reads an object or array and all it holds. */
static bool
skip_container(JsonScan *s, char open, char close)
{
	JsonScanStep step;
	int			i;

	if (!json_scan_open(s, open))
		return false;
	for (i = 0; (step = json_scan_next(s, close, i)) == JSON_SCAN_ITEM; i++)
	{
		const char *key;
		int			len;

		if (open == '{' && !json_scan_key(s, &key, &len))
			return false;
		if (!json_scan_skip(s))
			return false;
	}
	return step == JSON_SCAN_CLOSED;
}

bool
json_scan_skip(JsonScan *s)
{
	JsonScanKind kind = json_scan_peek(s);
	const char *str;
	int			len;
	JsonScanNumber number;

	switch (kind)
	{
		case JSON_SCAN_STRING:
			return json_scan_string(s, &str, &len);
		case JSON_SCAN_NUMBER:
			return json_scan_number(s, &number);
		case JSON_SCAN_TRUE:
		case JSON_SCAN_FALSE:
		case JSON_SCAN_NULL:
			return json_scan_literal(s, kind);
		case JSON_SCAN_OBJECT:
			return skip_container(s, '{', '}');
		case JSON_SCAN_ARRAY:
			return skip_container(s, '[', ']');
		case JSON_SCAN_BAD:
			break;
	}
	return false;
}

bool
json_scan_done(JsonScan *s)
{
	skip_space(s);
	return s->at == s->end && s->depth == 0;
}
