/*
 * json_scan_cli.c
 *		Command-line driver for json_scan_diff.py: reads one input per line
 *		on standard input, written in hex (JSON text has newlines), and
 *		prints for each "ACCEPT <its canonical form in hex>" (json_canon.h)
 *		or "REJECT", scanning with nesting of at most 64.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_canon.h"

/* The value of hex digit c, or -1. */
static int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int
main(void)
{
	static char line[1 << 22];
	static char text[1 << 21];

	while (fgets(line, sizeof(line), stdin) != NULL)
	{
		size_t		n = strcspn(line, "\n");
		size_t		len = n / 2;
		size_t		i;
		Canon		canon;
		char	   *exact;

		if (n % 2 != 0 || len > sizeof(text))
		{
			fprintf(stderr, "json_scan_cli: a line is not hex, or too long\n");
			return 2;
		}
		for (i = 0; i < len; i++)
		{
			int			hi = hex_value(line[2 * i]);
			int			lo = hex_value(line[2 * i + 1]);

			if (hi < 0 || lo < 0)
			{
				fprintf(stderr, "json_scan_cli: a line is not hex\n");
				return 2;
			}
			text[i] = (char) (hi * 16 + lo);
		}
		/* The input alone in a block of its size, as the server hands it. */
		exact = malloc(len > 0 ? len : 1);
		memcpy(exact, text, len);
		if (canon_text(exact, len, 64, &canon))
		{
			fputs("ACCEPT ", stdout);
			for (i = 0; i < canon.len; i++)
				printf("%02x", (unsigned char) canon.data[i]);
			putchar('\n');
		}
		else
			puts("REJECT");
		free(canon.data);
		free(exact);
	}
	return 0;
}
