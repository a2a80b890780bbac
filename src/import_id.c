/*
 * import_id.c
 *		The id of a new import: unique, and telling nothing about other
 *		accounts' imports.
 *
 * One sequence, trackly.imports_id_seq, numbers every import of every
 * account; its values would show an account how many imports the others made
 * between two of its own.  So the id is not the sequence's value n but a
 * keyed permutation of it: 2^52 + P(n), where P is a Feistel network of
 * eight rounds over 52 bits (two halves of 26 bits; each round's function is
 * HMAC-SHA-256 of the round and the half under a 63-bit key drawn at random
 * when the extension is installed).  The key is the value of the sequence
 * trackly.import_id_key, which nothing advances: pg_dump keeps it (setval)
 * and a restore puts it back over the one CREATE EXTENSION drew, so the ids
 * made after a restore never meet the restored ones.  A
 * permutation never repeats a value, so ids stay unique without a lookup or
 * a lock; without the key they look like random numbers, and their order
 * says nothing.  They lie in [2^52, 2^53): above every id of 0.2.0's
 * sequence, and exact as JavaScript numbers.
 *
 * Until ALTER EXTENSION trackly_history UPDATE creates the key, a
 * new library under 0.2.0's SQL objects gives the sequence's values as
 * 0.2.0 did.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "common/hmac.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "import.h"
#include "support.h"

#define ID_BITS 52
#define HALF_BITS (ID_BITS / 2)
#define HALF_MASK ((UINT64CONST(1) << HALF_BITS) - 1)
#define ROUNDS 8
#define KEY_BYTES 8

/* The key, read once per backend, with the sequence it came from. */
static uint8 id_key[KEY_BYTES];
static Oid	id_key_table = InvalidOid;

/* Reads the key, trackly.import_id_key's value, into id_key; false when there is none. */
static bool
load_key(void)
{
	static SPIPlanPtr plan = NULL;
	Oid			table = get_relname_relid("import_id_key",
										  get_namespace_oid("trackly", false));
	bool		isnull;
	int64		key;
	int			i;

	if (!OidIsValid(table))
		return false;
	if (table == id_key_table)
		return true;
	trackly_prepare(&plan, "SELECT k.last_value FROM trackly.import_id_key k", 0, NULL);
	trackly_execute(plan, NULL, NULL, SPI_OK_SELECT);
	key = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	for (i = 0; i < KEY_BYTES; i++)
		id_key[i] = (uint8) ((uint64) key >> (8 * i));
	id_key_table = table;
	return true;
}

/* The round function: 26 bits of HMAC-SHA-256(key, round || half). */
static uint64
round_function(int round, uint64 half)
{
	pg_hmac_ctx *ctx = pg_hmac_create(PG_SHA256);
	uint8		input[9];
	uint8		digest[32];
	uint64		out = 0;
	int			i;

	input[0] = (uint8) round;
	for (i = 0; i < 8; i++)
		input[1 + i] = (uint8) (half >> (8 * i));
	if (ctx == NULL ||
		pg_hmac_init(ctx, id_key, KEY_BYTES) < 0 ||
		pg_hmac_update(ctx, input, sizeof(input)) < 0 ||
		pg_hmac_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute HMAC-SHA-256 for an import id");
	pg_hmac_free(ctx);
	for (i = 0; i < 8; i++)
		out |= (uint64) digest[i] << (8 * i);
	return out & HALF_MASK;
}

/* The keyed permutation of [0, 2^52). */
static uint64
permute(uint64 n)
{
	uint64		left = n >> HALF_BITS;
	uint64		right = n & HALF_MASK;
	int			round;

	for (round = 0; round < ROUNDS; round++)
	{
		uint64		next = left ^ round_function(round, right);

		left = right;
		right = next;
	}
	return (left << HALF_BITS) | right;
}

int64
import_new_id(void)
{
	int64		n = nextval_internal(trackly_relation_oid("imports_id_seq"), false);

	if (!load_key())
		return n;
	if (n < 0 || (uint64) n >= (UINT64CONST(1) << ID_BITS))
		ereport(ERROR,
				(errcode(ERRCODE_SEQUENCE_GENERATOR_LIMIT_EXCEEDED),
				 errmsg("trackly.imports_id_seq has gone past 2^52 - 1")));
	return (int64) ((UINT64CONST(1) << ID_BITS) | permute((uint64) n));
}
