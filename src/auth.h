/*
 * auth.h
 *		API keys: making them, and finding the account a request's key opens.
 */
#ifndef TRACKLY_AUTH_H
#define TRACKLY_AUTH_H

#include "postgres.h"

/* How authentication ended. */
typedef enum AuthVerdict
{
	AUTH_OK,
	AUTH_MISSING_KEY,			/* no key, or an empty one */
	AUTH_INVALID_KEY			/* malformed, unknown or revoked */
} AuthVerdict;

typedef struct AuthResult
{
	AuthVerdict verdict;
	int64		account_id;		/* for AUTH_OK */
	int64		api_key_id;		/* for AUTH_OK */
	const char *message;		/* for a failure: a sentence for a person */
} AuthResult;

/* Defines the trackly.api_key setting; called once from _PG_init. */
extern void auth_define_settings(void);

/*
 * Authenticates the current request: the key is the x-api-key of
 * request.headers when that setting is set and not empty, else the setting
 * trackly.api_key.  The caller must be connected to SPI.
 */
extern void auth_authenticate(AuthResult *result);

#endif							/* TRACKLY_AUTH_H */
