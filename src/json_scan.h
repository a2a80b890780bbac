/*
 * json_scan.h
 *		A strict reader of JSON text that hands the caller one value at a
 *		time, strings without copying them when they hold no escape.
 *
 * It accepts no more than PostgreSQL's jsonb input does (RFC 8259: its
 * whitespace, number grammar and escapes), and refuses, besides malformed
 * text, what jsonb would refuse or what would take numeric's range to
 * judge: a \u0000 escape, a surrogate escape that is not half of a pair,
 * nesting deeper than the limit the scan is set up with, a number longer
 * than JSON_SCAN_MAX_NUMBER_BYTES or with an exponent of more than three
 * digits.  A caller that must answer such text exactly reads it another way.
 * The text must be valid UTF-8 (the caller checks); it is never written to.
 *
 * Pure C: no PostgreSQL headers, fuzzed alone (test/fuzz/fuzz_json_scan.c).
 */
#ifndef TRACKLY_JSON_SCAN_H
#define TRACKLY_JSON_SCAN_H

#include <stdbool.h>
#include <stddef.h>

/* Longest number the scan accepts, in bytes. */
#define JSON_SCAN_MAX_NUMBER_BYTES 1000

/* What the next value is, by its first byte. */
typedef enum JsonScanKind
{
	JSON_SCAN_BAD = 0,			/* no value starts here */
	JSON_SCAN_STRING,
	JSON_SCAN_NUMBER,
	JSON_SCAN_TRUE,
	JSON_SCAN_FALSE,
	JSON_SCAN_NULL,
	JSON_SCAN_OBJECT,
	JSON_SCAN_ARRAY
} JsonScanKind;

/* Where a walk over an object's members or an array's elements is. */
typedef enum JsonScanStep
{
	JSON_SCAN_ITEM,				/* a member (key first) or element follows */
	JSON_SCAN_CLOSED,			/* the object or array ended */
	JSON_SCAN_FAILED			/* the text is not what the scan accepts */
} JsonScanStep;

/* A number as the scan read it. */
typedef struct JsonScanNumber
{
	const char *text;			/* its bytes in the text */
	int			len;
	bool		integral;		/* no fraction and no exponent */
} JsonScanNumber;

/* Gives room for n bytes, kept until the caller is done with the strings. */
typedef char *(*JsonScanRoom) (void *arg, size_t n);

typedef struct JsonScan
{
	const char *at;				/* the next byte */
	const char *end;			/* one past the last */
	int			depth;			/* objects and arrays open */
	int			max_depth;
	size_t		text_len;
	JsonScanRoom room;			/* asked once, for text_len bytes, at the
								 * first string with an escape */
	void	   *room_arg;
	char	   *decoded;		/* where the next decoded string goes */
} JsonScan;

extern void json_scan_init(JsonScan *s, const char *text, size_t len, int max_depth,
						   JsonScanRoom room, void *room_arg);

/* The kind of the value that starts after any whitespace. */
extern JsonScanKind json_scan_peek(JsonScan *s);

/*
 * Reads a string value (or key); *str and *len are its characters, escapes
 * decoded: the text's own bytes when it has none, else bytes in the room.
 * False when the next value is not a string the scan accepts.
 */
extern bool json_scan_string(JsonScan *s, const char **str, int *len);

/* Reads a number; false when the next value is not a number it accepts. */
extern bool json_scan_number(JsonScan *s, JsonScanNumber *number);

/* Reads true, false or null (kind says which was peeked). */
extern bool json_scan_literal(JsonScan *s, JsonScanKind kind);

/* Reads any value, whatever it holds, checking it as the others do. */
extern bool json_scan_skip(JsonScan *s);

/*
 * Opens the object ('{') or array ('[') that comes next; then
 * json_scan_next(s, '}' or ']', i) for i = 0, 1, ... says whether its
 * item i follows (for an object, read the key with json_scan_key), until
 * it says JSON_SCAN_CLOSED.
 */
extern bool json_scan_open(JsonScan *s, char open);
extern JsonScanStep json_scan_next(JsonScan *s, char close, int i);

/* Reads a member's key and the colon after it. */
extern bool json_scan_key(JsonScan *s, const char **key, int *len);

/* True when nothing but whitespace is left. */
extern bool json_scan_done(JsonScan *s);

#endif							/* TRACKLY_JSON_SCAN_H */
