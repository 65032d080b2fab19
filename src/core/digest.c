#include "plein/digest.h"

#include <sodium.h>
#include <string.h>

#include "plein/buf.h"
#include "plein/error.h"
#include "plein/schema.h"

static void put_u64(crypto_generichash_state *h, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_generichash_update(h, b, 8);
}

static void put_bytes(crypto_generichash_state *h, unsigned char tag, const void *p, size_t n)
{
	crypto_generichash_update(h, &tag, 1);
	put_u64(h, n);
	crypto_generichash_update(h, p, n);
}

static void put_value(crypto_generichash_state *h, sqlite3_stmt *st, int col)
{
	unsigned char tag;
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		tag = 'i';
		crypto_generichash_update(h, &tag, 1);
		put_u64(h, (uint64_t)sqlite3_column_int64(st, col));
		break;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, col);
		uint64_t bits;
		memcpy(&bits, &d, 8);
		tag = 'f';
		crypto_generichash_update(h, &tag, 1);
		put_u64(h, bits);
		break;
	}
	case SQLITE_TEXT:
		put_bytes(h, 't', sqlite3_column_text(st, col), (size_t)sqlite3_column_bytes(st, col));
		break;
	case SQLITE_BLOB:
		put_bytes(h, 'b', sqlite3_column_blob(st, col), (size_t)sqlite3_column_bytes(st, col));
		break;
	default:
		tag = 'n';
		crypto_generichash_update(h, &tag, 1);
	}
}

int plein_digest(plein_db *db, unsigned char out[PLEIN_DIGEST_BYTES])
{
	plein_schema *s = NULL;
	int rc = plein_schema_load(&s, db);
	if (rc < 0)
		return rc;
	crypto_generichash_state h;
	crypto_generichash_init(&h, (const unsigned char *)"plein-digest-v1", 15, PLEIN_DIGEST_BYTES);
	plein_buf sql = PLEIN_BUF_INIT;
	/* One read transaction: the digest is of one consistent state. */
	if ((rc = plein_db_exec(db, "BEGIN")) < 0)
		goto done;
	for (int i = 0; i < s->ntables && rc == 0; i++) {
		const plein_table *t = &s->tables[i];
		plein_buf_reset(&sql);
		plein_buf_puts(&sql, "SELECT id");
		for (int c = 0; c < t->ncols; c++)
			plein_buf_printf(&sql, ", \"%s\"", t->cols[c].name);
		plein_buf_printf(&sql, " FROM \"%s\" ORDER BY id COLLATE BINARY", t->name);
		sqlite3_stmt *st = NULL;
		if (sqlite3_prepare_v2(plein_db_handle(db), plein_buf_cstr(&sql), -1, &st, NULL) != SQLITE_OK) {
			rc = plein_db_fail(db, "digest");
			break;
		}
		unsigned char tag = 'T';
		crypto_generichash_update(&h, &tag, 1);
		put_u64(&h, (uint64_t)t->tid);
		int step;
		while ((step = sqlite3_step(st)) == SQLITE_ROW) {
			put_bytes(&h, 'R', sqlite3_column_text(st, 0), (size_t)sqlite3_column_bytes(st, 0));
			for (int c = 0; c < t->ncols; c++) {
				put_u64(&h, (uint64_t)t->cols[c].cid);
				put_value(&h, st, c + 1);
			}
		}
		if (step != SQLITE_DONE)
			rc = plein_db_fail(db, "digest");
		sqlite3_finalize(st);
	}
	plein_db_exec(db, "COMMIT");
	if (rc == 0)
		crypto_generichash_final(&h, out, PLEIN_DIGEST_BYTES);
done:
	plein_buf_free(&sql);
	plein_schema_free(s);
	return rc;
}

int plein_digest_hex(plein_db *db, char out[65])
{
	unsigned char d[PLEIN_DIGEST_BYTES];
	int rc = plein_digest(db, d);
	if (rc == 0)
		sodium_bin2hex(out, 65, d, sizeof d);
	return rc;
}
