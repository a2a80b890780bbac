/*
 * bench_validators.c
 *		Micro-benchmark of the pure C validators: nanoseconds per call of
 *		e164_check, e164_check_rule by E164_RULE_VALID and iso8601_parse
 *		over realistic mixed inputs.
 *
 * Built and run by `make bench-c` (gcc -O3, linked against src/e164.c,
 * src/e164_table.c and src/iso8601.c).  Usage:
 *
 *		bench_validators [inputs [rounds]]     defaults: 1000000 21
 *
 * Each input set is built once in memory: about 90 % valid strings (phone
 * numbers of 53 countries, each made from a real number range of its
 * country and valid by libphonenumber; timestamps like
 * "2025-11-15T14:30:00Z", some with fractions, offsets, a space or a
 * lower-case t) and 10 % invalid ones of the kinds a real import meets (no
 * "+", spaces, unknown country code, wrong length, a national prefix kept,
 * a made-up number; 29 February of a common year, 24:00, a date alone...).
 * A round calls the validator once on every input, the way the import calls
 * it (e164_check or e164_check_rule without parts, iso8601_parse with
 * them); both E.164 rules run over the same sets, the rounds of all cases
 * alternate, and the median (and fastest and slowest) round is reported.
 * Every verdict and parsed instant is folded into a checksum that is
 * printed, so no call can be optimized away (the validators also live in
 * other translation units, and no LTO is used).  A benchmark measures; it
 * never fails on a timing.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "e164.h"
#include "iso8601.h"

/* Targets ("tens of nanoseconds"), reported against; one for both E.164 rules. */
#define E164_TARGET_NS 60.0
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
 * The countries of a realistic SMS history, weighted like a US platform's
 * (60 % +1), each with its national prefix (NULL: none) and templates of
 * its national numbers: 'X' is any digit, 'N' a digit 2 to 9.  The
 * templates are libphonenumber's example numbers (python3-phonenumbers
 * 8.12.57, fixed line and mobile; for +1 and +7 those of every region named)
 * with their last four digits drawn, and for +1 also real area codes with
 * any exchange.  Every number they make is valid by E164_RULE_VALID, and
 * with the national prefix written before it gets E164_NATIONAL_PREFIX
 * (both checked against python3-phonenumbers when the table was written).
 */
typedef struct PhoneCountry
{
	int			cc;
	unsigned	weight;
	const char *national_prefix;
	const char *templates[40];	/* NULL after the last */
} PhoneCountry;

static const PhoneCountry phone_countries[] = {
	{1, 700, "1", {"201555XXXX", "506234XXXX", "787234XXXX", "809234XXXX",
		"876523XXXX", "876210XXXX", "212NXXXXXX", "213NXXXXXX", "305NXXXXXX",
		"310NXXXXXX", "312NXXXXXX", "347NXXXXXX", "404NXXXXXX", "415NXXXXXX",
		"469NXXXXXX", "512NXXXXXX", "617NXXXXXX", "646NXXXXXX", "702NXXXXXX",
		"713NXXXXXX", "718NXXXXXX", "773NXXXXXX", "786NXXXXXX", "818NXXXXXX",
		"917NXXXXXX", "949NXXXXXX", "206NXXXXXX", "303NXXXXXX", "602NXXXXXX",
		"408NXXXXXX", "214NXXXXXX", "416NXXXXXX", "514NXXXXXX", "604NXXXXXX",
		"403NXXXXXX", "613NXXXXXX", NULL}},	/* US, CA, PR, DO, JM */
	{44, 50, "0", {"121234XXXX", "740012XXXX", NULL}},	/* GB */
	{49, 35, "0", {"3012XXXX", "1512345XXXX", NULL}},	/* DE */
	{33, 30, "0", {"12345XXXX", "61234XXXX", NULL}},	/* FR */
	{34, 20, NULL, {"81012XXXX", "61234XXXX", NULL}},	/* ES */
	{39, 20, NULL, {"021234XXXX", "312345XXXX", NULL}},	/* IT */
	{52, 30, "01", {"200123XXXX", "222123XXXX", NULL}},	/* MX */
	{55, 30, "0", {"112345XXXX", "1196123XXXX", NULL}},	/* BR */
	{91, 30, "0", {"741041XXXX", "812345XXXX", NULL}},	/* IN */
	{61, 10, "0", {"21234XXXX", "41234XXXX", NULL}},	/* AU */
	{81, 10, "0", {"31234XXXX", "901234XXXX", NULL}},	/* JP */
	{353, 8, "0", {"221XXXX", "85012XXXX", NULL}},	/* IE */
	{971, 8, "0", {"2234XXXX", "50123XXXX", NULL}},	/* AE */
	{7, 10, "8", {"301123XXXX", "912345XXXX", "712345XXXX", "771000XXXX",
		NULL}},					/* RU, KZ */
	{86, 10, "0", {"101234XXXX", "1312345XXXX", NULL}},	/* CN */
	{82, 6, "0", {"2212XXXX", "102000XXXX", NULL}},	/* KR */
	{54, 8, "0", {"112345XXXX", "9112345XXXX", NULL}},	/* AR */
	{57, 8, "0", {"601234XXXX", "321123XXXX", NULL}},	/* CO */
	{27, 5, "0", {"10123XXXX", "71123XXXX", NULL}},	/* ZA */
	{234, 5, "0", {"1804XXXX", "802123XXXX", NULL}},	/* NG */
	{63, 8, "0", {"23234XXXX", "905123XXXX", NULL}},	/* PH */
	{62, 5, "0", {"21835XXXX", "81234XXXX", NULL}},	/* ID */
	{90, 5, "0", {"212345XXXX", "501234XXXX", NULL}},	/* TR */
	{31, 8, "0", {"10123XXXX", "61234XXXX", NULL}},	/* NL */
	{48, 5, NULL, {"12345XXXX", "51234XXXX", NULL}},	/* PL */
	{380, 4, "0", {"31123XXXX", "50123XXXX", NULL}},	/* UA */
	{966, 4, "0", {"11234XXXX", "51234XXXX", NULL}},	/* SA */
	{20, 4, "0", {"23456XXXX", "100123XXXX", NULL}},	/* EG */
	{84, 5, "0", {"210123XXXX", "91234XXXX", NULL}},	/* VN */
	{66, 4, "0", {"2123XXXX", "81234XXXX", NULL}},	/* TH */
	{64, 4, "0", {"3234XXXX", "21123XXXX", NULL}},	/* NZ */
	{65, 4, NULL, {"6123XXXX", "8123XXXX", NULL}},	/* SG */
	{852, 4, NULL, {"2123XXXX", "5123XXXX", NULL}},	/* HK */
	{41, 4, "0", {"21234XXXX", "78123XXXX", NULL}},	/* CH */
	{46, 4, "0", {"812XXXX", "70123XXXX", NULL}},	/* SE */
	{32, 4, "0", {"1234XXXX", "47012XXXX", NULL}},	/* BE */
	{351, 4, NULL, {"21234XXXX", "91234XXXX", NULL}},	/* PT */
	{30, 3, NULL, {"212345XXXX", "691234XXXX", NULL}},	/* GR */
	{972, 4, "0", {"2123XXXX", "50234XXXX", NULL}},	/* IL */
	{56, 4, NULL, {"22123XXXX", NULL}},	/* CL */
	{51, 4, "0", {"1123XXXX", "91234XXXX", NULL}},	/* PE */
	{92, 4, "0", {"212345XXXX", "301234XXXX", NULL}},	/* PK */
	{880, 3, "0", {"2711XXXX", "181234XXXX", NULL}},	/* BD */
	{254, 3, "0", {"20201XXXX", "71212XXXX", NULL}},	/* KE */
	{212, 3, "0", {"52012XXXX", "65012XXXX", NULL}},	/* MA */
	{43, 3, "0", {"123456XXXX", "66412XXXX", NULL}},	/* AT */
	{45, 3, NULL, {"3212XXXX", NULL}},	/* DK */
	{47, 3, NULL, {"2123XXXX", "4061XXXX", NULL}},	/* NO */
	{358, 3, "0", {"13123XXXX", "41234XXXX", NULL}},	/* FI */
	{36, 3, "06", {"1234XXXX", "20123XXXX", NULL}},	/* HU */
	{420, 3, NULL, {"21234XXXX", "60112XXXX", NULL}},	/* CZ */
	{40, 3, "0", {"21123XXXX", "71203XXXX", NULL}},	/* RO */
	{60, 4, "0", {"32385XXXX", "12345XXXX", NULL}},	/* MY */
};

#define NCOUNTRIES (sizeof(phone_countries) / sizeof(phone_countries[0]))

/* A country at random, by weight. */
static const PhoneCountry *
random_country(void)
{
	unsigned	total = 0;
	unsigned	pick;
	size_t		i;

	for (i = 0; i < NCOUNTRIES; i++)
		total += phone_countries[i].weight;
	pick = rng_below(total);
	for (i = 0; i < NCOUNTRIES; i++)
	{
		if (pick < phone_countries[i].weight)
			break;
		pick -= phone_countries[i].weight;
	}
	return &phone_countries[i < NCOUNTRIES ? i : 0];
}

/* Writes a national number of one of the country's templates to p. */
static int
fill_template(char *p, const PhoneCountry *country)
{
	const char *template;
	unsigned	ntemplates = 0;
	int			n;

	while (country->templates[ntemplates] != NULL)
		ntemplates++;
	template = country->templates[rng_below(ntemplates)];
	for (n = 0; template[n] != '\0'; n++)
	{
		if (template[n] == 'X')
			p[n] = (char) ('0' + rng_below(10));
		else if (template[n] == 'N')
			p[n] = (char) ('2' + rng_below(8));
		else
			p[n] = template[n];
	}
	return n;
}

/* Builds a valid number of a weighted country into buf. */
static int
valid_phone(char *buf)
{
	const PhoneCountry *country = random_country();
	int			len = sprintf(buf, "+%d", country->cc);

	return len + fill_template(buf + len, country);
}

/* Builds one of the invalid numbers a real import meets into buf. */
static int
invalid_phone(char *buf)
{
	char		digits[16];

	random_digits(digits, 10);
	digits[0] = (char) ('2' + rng_below(8));
	switch (rng_below(10))
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
		case 7:					/* a national prefix kept: "+44 0 7400..." */
			{
				const PhoneCountry *country;
				int			len;

				do
					country = random_country();
				while (country->national_prefix == NULL);
				len = sprintf(buf, "+%d%s", country->cc, country->national_prefix);
				return len + fill_template(buf + len, country);
			}
		case 8:					/* made up: "+1 123 ...", possible, not valid */
			return sprintf(buf, "+1123%.7s", digits);
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

/* The same by a rule of e164_check_rule. */
static inline double
round_e164_rule(const InputSet *set, E164Rule rule, uint64_t *sink, size_t *nvalid)
{
	uint64_t	acc = 0;
	size_t		valid = 0;
	double		start = now_ns();
	size_t		i;

	for (i = 0; i < set->n; i++)
	{
		E164Verdict v = e164_check_rule(set->inputs[i].s, set->inputs[i].len, rule, NULL);

		acc = acc * 31 + (uint64_t) v;
		valid += v == E164_VALID;
	}
	*sink += acc;
	*nvalid = valid;
	return (now_ns() - start) / (double) set->n;
}

/* One round of e164_check_rule by E164_RULE_VALID (is_valid_number). */
static double
round_e164_valid(const InputSet *set, uint64_t *sink, size_t *nvalid)
{
	return round_e164_rule(set, E164_RULE_VALID, sink, nvalid);
}

/* One round by E164_RULE_LENGTHS, 0.4.0's rule: a reference. */
static double
round_e164_lengths(const InputSet *set, uint64_t *sink, size_t *nvalid)
{
	return round_e164_rule(set, E164_RULE_LENGTHS, sink, nvalid);
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
	double		target_ns;		/* 0: a reference, no target */
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

/* Sets up a case over the inputs of another one. */
static void
share_case(BenchCase *bc, const char *name, const BenchCase *inputs_of, RoundFn run,
		   double target_ns)
{
	memset(bc, 0, sizeof(*bc));
	bc->name = name;
	bc->run = run;
	bc->target_ns = target_ns;
	bc->set = inputs_of->set;
}

int
main(int argc, char **argv)
{
	size_t		n = argc > 1 ? (size_t) strtoull(argv[1], NULL, 10) : 1000000;
	int			rounds = argc > 2 ? atoi(argv[2]) : 21;
	BenchCase	cases[10];
	int			ncases = 0;
	uint64_t	sink = 0;
	int			r;
	int			c;

	if (n == 0 || rounds < 1)
	{
		fprintf(stderr, "usage: %s [inputs [rounds]]\n", argv[0]);
		return 2;
	}

	/*
	 * The mixed sets are the targets'; the pure ones show the two paths.
	 * The E.164 rules run over the same sets, built once.
	 */
	add_case(&cases[ncases++], "e164_check, mixed (90% valid)", n, 90,
			 valid_phone, invalid_phone, round_e164, E164_TARGET_NS);
	share_case(&cases[ncases++], "e164_check_rule VALID, mixed (90% valid)", &cases[0],
			   round_e164_valid, E164_TARGET_NS);
	add_case(&cases[ncases++], "iso8601_parse, mixed (90% valid)", n, 90,
			 valid_timestamp, invalid_timestamp, round_iso8601, ISO8601_TARGET_NS);
	add_case(&cases[ncases++], "e164_check, valid only", n, 100,
			 valid_phone, invalid_phone, round_e164, E164_TARGET_NS);
	share_case(&cases[ncases++], "e164_check_rule VALID, valid only", &cases[3],
			   round_e164_valid, E164_TARGET_NS);
	add_case(&cases[ncases++], "iso8601_parse, valid only", n, 100,
			 valid_timestamp, invalid_timestamp, round_iso8601, ISO8601_TARGET_NS);
	add_case(&cases[ncases++], "e164_check, invalid only", n, 0,
			 valid_phone, invalid_phone, round_e164, E164_TARGET_NS);
	share_case(&cases[ncases++], "e164_check_rule VALID, invalid only", &cases[6],
			   round_e164_valid, E164_TARGET_NS);
	add_case(&cases[ncases++], "iso8601_parse, invalid only", n, 0,
			 valid_timestamp, invalid_timestamp, round_iso8601, ISO8601_TARGET_NS);
	share_case(&cases[ncases++], "e164_check_rule LENGTHS (0.4.0), mixed", &cases[0],
			   round_e164_lengths, 0);

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
	printf("| case | valid inputs | median ns/call | fastest ns/call | slowest ns/call | target | median vs target |\n");
	printf("|---|---:|---:|---:|---:|---:|---|\n");
	for (c = 0; c < ncases; c++)
	{
		double		fastest;
		double		slowest;
		double		med;

		med = median(cases[c].times, rounds);	/* sorts the times */
		fastest = cases[c].times[0];
		slowest = cases[c].times[rounds - 1];
		if (cases[c].target_ns > 0)
			printf("| %s | %.1f %% | %.1f | %.1f | %.1f | < %.0f | %s |\n",
				   cases[c].name, 100.0 * (double) cases[c].nvalid / (double) n,
				   med, fastest, slowest, cases[c].target_ns,
				   med < cases[c].target_ns ? "met" : "NOT met");
		else
			printf("| %s | %.1f %% | %.1f | %.1f | %.1f | - | reference |\n",
				   cases[c].name, 100.0 * (double) cases[c].nvalid / (double) n,
				   med, fastest, slowest);
	}
	printf("\nchecksum %016llx (printed so no call can be optimized away)\n",
		   (unsigned long long) sink);
	return 0;
}
