/*
 * bench_validators.c
 *		Micro-benchmark of the pure C validators: nanoseconds per call of
 *		e164_check and iso8601_parse over realistic mixed inputs.
 *
 * Built and run by `make bench-c` (gcc -O3, linked against src/e164.c,
 * src/e164_table.c and src/iso8601.c).  Usage:
 *
 *		bench_validators [inputs [rounds]]     defaults: 1000000 21
 *
 * Each input set is built once in memory: about 90 % valid strings (phone
 * numbers of a mix of countries, with the lengths their country allows;
 * timestamps like "2025-11-15T14:30:00Z", some with fractions, offsets, a
 * space or a lower-case t) and 10 % invalid ones of the kinds a real import
 * meets (no "+", spaces, unknown country code, wrong length, 29 February of
 * a common year, 24:00, a date alone...).  A round calls the validator once
 * on every input, the way the import calls it (e164_check without parts,
 * iso8601_parse with them); rounds of the two validators alternate, and the
 * median (and fastest) round is reported.  Every verdict and parsed instant
 * is folded into a checksum that is printed, so no call can be optimized
 * away (the validators also live in other translation units, and no LTO is
 * used).  A benchmark measures; it never fails on a timing.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e164.h"
#include "iso8601.h"

/* Targets ("tens of nanoseconds"), reported against. */
#define E164_TARGET_NS 50.0
#define ISO8601_TARGET_NS 100.0

/* One input: a string inside the arena, not NUL-terminated for the callee. */
typedef struct Input
{
	const char *s;
	uint32_t	len;
} Input;

/* A set of inputs and the bytes they point into. */
typedef struct InputSet
{
	Input	   *inputs;
	size_t		n;
	char	   *arena;
	size_t		used;
	size_t		size;
	size_t		nvalid;
} InputSet;

/* xorshift64*: a fast, reproducible generator (no libc rand state). */
static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;

static uint64_t
rng_next(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

/* A uniform integer in [0, n). */
static unsigned
rng_below(unsigned n)
{
	return (unsigned) ((rng_next() >> 33) % n);
}

static void
set_init(InputSet *set, size_t n, size_t bytes_each)
{
	set->inputs = malloc(sizeof(Input) * n);
	set->n = 0;
	set->size = n * bytes_each;
	set->arena = malloc(set->size);
	set->used = 0;
	set->nvalid = 0;
	if (set->inputs == NULL || set->arena == NULL)
	{
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
}

/* Appends a string to the set (the arena is sized for the longest). */
static void
set_add(InputSet *set, const char *s, size_t len)
{
	if (set->used + len > set->size)
	{
		fprintf(stderr, "arena too small\n");
		exit(1);
	}
	memcpy(set->arena + set->used, s, len);
	set->inputs[set->n].s = set->arena + set->used;
	set->inputs[set->n].len = (uint32_t) len;
	set->used += len;
	set->n++;
}

/* Writes n random decimal digits to p. */
static void
random_digits(char *p, int n)
{
	int			i;

	for (i = 0; i < n; i++)
		p[i] = (char) ('0' + rng_below(10));
}

/*
 * Country calling codes of a realistic SMS history and their weights: most
 * numbers are American, the rest European, Latin American and Asian.
 */
static const struct
{
	int			cc;
	unsigned	weight;
}			phone_countries[] = {
	{1, 70}, {44, 6}, {49, 4}, {33, 3}, {34, 2}, {39, 2}, {52, 3}, {55, 3},
	{91, 3}, {61, 1}, {81, 1}, {353, 1}, {971, 1},
};

/* A possible national length of cc, at random. */
static int
random_nsn_length(int cc)
{
	uint16_t	lengths = e164_nsn_lengths(cc);
	int			choices[16];
	int			n = 0;
	int			len;

	for (len = 1; len < 16; len++)
		if (lengths & (1u << len))
			choices[n++] = len;
	return choices[rng_below((unsigned) n)];
}

/* Builds a number of a weighted country with a possible length into buf. */
static int
valid_phone(char *buf)
{
	unsigned	total = 0;
	unsigned	pick;
	size_t		i;
	int			cc = 1;
	int			len;
	int			nsn;

	for (i = 0; i < sizeof(phone_countries) / sizeof(phone_countries[0]); i++)
		total += phone_countries[i].weight;
	pick = rng_below(total);
	for (i = 0; i < sizeof(phone_countries) / sizeof(phone_countries[0]); i++)
	{
		if (pick < phone_countries[i].weight)
		{
			cc = phone_countries[i].cc;
			break;
		}
		pick -= phone_countries[i].weight;
	}
	len = sprintf(buf, "+%d", cc);
	nsn = random_nsn_length(cc);
	random_digits(buf + len, nsn);
	/* A national number never starts with 0 in E.164 practice. */
	buf[len] = (char) ('1' + rng_below(9));
	return len + nsn;
}

/* Builds one of the invalid numbers a real import meets into buf. */
static int
invalid_phone(char *buf)
{
	char		digits[16];

	random_digits(digits, 10);
	digits[0] = (char) ('2' + rng_below(8));
	switch (rng_below(8))
	{
		case 0:					/* national format, no "+" */
			return sprintf(buf, "%.10s", digits);
		case 1:					/* "1" and the number, no "+" */
			return sprintf(buf, "1%.10s", digits);
		case 2:					/* spaces */
			return sprintf(buf, "+1 %.3s %.3s %.4s", digits, digits + 3, digits + 6);
		case 3:					/* punctuation */
			return sprintf(buf, "+1 (%.3s) %.3s-%.4s", digits, digits + 3, digits + 6);
		case 4:					/* one digit short */
			return sprintf(buf, "+1%.9s", digits);
		case 5:					/* unassigned country code */
			return sprintf(buf, "+999%.8s", digits);
		case 6:					/* too long */
			return sprintf(buf, "+44%.10s%.4s", digits, digits);
		default:				/* empty */
			return 0;
	}
}

/* Builds a valid date-time, mostly "2025-11-15T14:30:00Z", into buf. */
static int
valid_timestamp(char *buf)
{
	static const int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int			year = 2020 + (int) rng_below(6);
	int			month = 1 + (int) rng_below(12);
	int			day = 1 + (int) rng_below((unsigned) month_days[month - 1]);
	int			hour = (int) rng_below(24);
	int			minute = (int) rng_below(60);
	int			second = (int) rng_below(60);
	unsigned	shape = rng_below(100);
	int			len;

	len = sprintf(buf, "%04d-%02d-%02d%c%02d:%02d", year, month, day,
				  shape < 95 ? 'T' : (shape < 98 ? ' ' : 't'), hour, minute);
	if (shape < 70)				/* the API page's shape */
		return len + sprintf(buf + len, ":%02dZ", second);
	if (shape < 82)				/* milliseconds, UTC */
		return len + sprintf(buf + len, ":%02d.%03uZ", second, rng_below(1000));
	if (shape < 92)				/* an offset */
		return len + sprintf(buf + len, ":%02d%c%02u:%s", second,
							 rng_below(2) ? '+' : '-', rng_below(13),
							 rng_below(4) ? "00" : "30");
	if (shape < 96)				/* microseconds and more, offset */
		return len + sprintf(buf + len, ":%02d.%06u%u+01:00", second,
							 rng_below(1000000), rng_below(10));
	return len + sprintf(buf + len, "%s", shape < 98 ? "" : "Z");	/* no seconds */
}

/* Builds one of the invalid date-times a real import meets into buf. */
static int
invalid_timestamp(char *buf)
{
	switch (rng_below(8))
	{
		case 0:
			return sprintf(buf, "2025-02-29T10:00:00Z");	/* no such day */
		case 1:
			return sprintf(buf, "2025-11-15T24:00:00Z");	/* 24:00 */
		case 2:
			return sprintf(buf, "2025-11-15");	/* a date alone */
		case 3:
			return sprintf(buf, "11/15/2025 14:30");	/* not ISO 8601 */
		case 4:
			return sprintf(buf, "2025-11-15T14:30:60Z");	/* leap second */
		case 5:
			return sprintf(buf, "now");
		case 6:
			return sprintf(buf, "1763217000");	/* epoch seconds */
		default:
			return sprintf(buf, "2025-13-01T00:00:00Z");	/* no such month */
	}
}

/* Fills a set with n inputs, valid with probability valid_percent. */
static void
build_set(InputSet *set, size_t n, unsigned valid_percent, int (*valid) (char *),
		  int (*invalid) (char *))
{
	char		buf[64];
	size_t		i;

	set_init(set, n, 40);
	for (i = 0; i < n; i++)
	{
		int			len = rng_below(100) < valid_percent ? valid(buf) : invalid(buf);

		set_add(set, buf, (size_t) len);
	}
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/* One round of e164_check over the set: ns per call; adds to *sink. */
static double
round_e164(const InputSet *set, uint64_t *sink, size_t *nvalid)
{
	uint64_t	acc = 0;
	size_t		valid = 0;
	double		start = now_ns();
	size_t		i;

	for (i = 0; i < set->n; i++)
	{
		E164Verdict v = e164_check(set->inputs[i].s, set->inputs[i].len, NULL);

		acc = acc * 31 + (uint64_t) v;
		valid += v == E164_VALID;
	}
	*sink += acc;
	*nvalid = valid;
	return (now_ns() - start) / (double) set->n;
}

/* One round of iso8601_parse over the set: ns per call; adds to *sink. */
static double
round_iso8601(const InputSet *set, uint64_t *sink, size_t *nvalid)
{
	uint64_t	acc = 0;
	size_t		valid = 0;
	double		start = now_ns();
	size_t		i;

	for (i = 0; i < set->n; i++)
	{
		Iso8601Time t;
		Iso8601Verdict v = iso8601_parse(set->inputs[i].s, set->inputs[i].len, &t);

		if (v == ISO8601_VALID)
		{
			acc += (uint64_t) t.pg_usec;
			valid++;
		}
		else
			acc = acc * 31 + (uint64_t) v;
	}
	*sink += acc;
	*nvalid = valid;
	return (now_ns() - start) / (double) set->n;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* The median of n values (sorts them). */
static double
median(double *values, int n)
{
	qsort(values, (size_t) n, sizeof(double), cmp_double);
	return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

typedef double (*RoundFn) (const InputSet *, uint64_t *, size_t *);

/* A benchmark case: a name, its inputs, its validator and its results. */
typedef struct BenchCase
{
	const char *name;
	InputSet	set;
	RoundFn		run;
	double		target_ns;
	double	   *times;
	size_t		nvalid;
} BenchCase;

/* Sets up a case over n fresh inputs, valid with probability valid_percent. */
static void
add_case(BenchCase *bc, const char *name, size_t n, unsigned valid_percent,
		 int (*valid) (char *), int (*invalid) (char *), RoundFn run, double target_ns)
{
	memset(bc, 0, sizeof(*bc));
	bc->name = name;
	bc->run = run;
	bc->target_ns = target_ns;
	build_set(&bc->set, n, valid_percent, valid, invalid);
}

int
main(int argc, char **argv)
{
	size_t		n = argc > 1 ? (size_t) strtoull(argv[1], NULL, 10) : 1000000;
	int			rounds = argc > 2 ? atoi(argv[2]) : 21;
	BenchCase	cases[6];
	int			ncases = 0;
	uint64_t	sink = 0;
	int			r;
	int			c;

	if (n == 0 || rounds < 1)
	{
		fprintf(stderr, "usage: %s [inputs [rounds]]\n", argv[0]);
		return 2;
	}

	/* The mixed sets are the targets'; the pure ones show the two paths. */
	add_case(&cases[ncases++], "e164_check, mixed (90% valid)", n, 90,
			 valid_phone, invalid_phone, round_e164, E164_TARGET_NS);
	add_case(&cases[ncases++], "iso8601_parse, mixed (90% valid)", n, 90,
			 valid_timestamp, invalid_timestamp, round_iso8601, ISO8601_TARGET_NS);
	add_case(&cases[ncases++], "e164_check, valid only", n, 100,
			 valid_phone, invalid_phone, round_e164, E164_TARGET_NS);
	add_case(&cases[ncases++], "iso8601_parse, valid only", n, 100,
			 valid_timestamp, invalid_timestamp, round_iso8601, ISO8601_TARGET_NS);
	add_case(&cases[ncases++], "e164_check, invalid only", n, 0,
			 valid_phone, invalid_phone, round_e164, E164_TARGET_NS);
	add_case(&cases[ncases++], "iso8601_parse, invalid only", n, 0,
			 valid_timestamp, invalid_timestamp, round_iso8601, ISO8601_TARGET_NS);

	for (c = 0; c < ncases; c++)
	{
		cases[c].times = malloc(sizeof(double) * (size_t) rounds);
		/* A warm-up round: page faults, caches, branch predictors. */
		(void) cases[c].run(&cases[c].set, &sink, &cases[c].nvalid);
	}
	/* Interleaved rounds: the machine's noise falls on every case alike. */
	for (r = 0; r < rounds; r++)
		for (c = 0; c < ncases; c++)
			cases[c].times[r] = cases[c].run(&cases[c].set, &sink, &cases[c].nvalid);

	printf("Validator micro-benchmark: %zu inputs per set, %d interleaved rounds, ns per call\n\n",
		   n, rounds);
	printf("| case | valid inputs | median ns/call | fastest ns/call | target | median vs target |\n");
	printf("|---|---:|---:|---:|---:|---|\n");
	for (c = 0; c < ncases; c++)
	{
		double		fastest;
		double		med;

		med = median(cases[c].times, rounds);	/* sorts the times */
		fastest = cases[c].times[0];
		printf("| %s | %.1f %% | %.1f | %.1f | < %.0f | %s |\n",
			   cases[c].name, 100.0 * (double) cases[c].nvalid / (double) n,
			   med, fastest, cases[c].target_ns,
			   med < cases[c].target_ns ? "met" : "NOT met");
	}
	printf("\nchecksum %016llx (printed so no call can be optimized away)\n",
		   (unsigned long long) sink);
	return 0;
}
