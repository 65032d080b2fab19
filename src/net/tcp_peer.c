/* Who the peer of a TCP session is, and whether it may sync with us. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plein/error.h"
#include "plein/roster.h"
#include "tcp_int.h"

int tcp_prologue(plein_buf *out, plein_site *s)
{
	unsigned char id[16];
	if (plein_site_network_id(s, id) < 0)
		return plein_fail(PLEIN_EINVAL, "this site belongs to no network yet, so it cannot sync over TCP; "
				  "make it with 'plein init --card' or 'plein init --new-network'");
	plein_buf_puts(out, TCP_PROLOGUE_NAME);
	plein_buf_put(out, id, sizeof id);
	return 0;
}

int tcp_static_key(unsigned char out_sk[32], const plein_site *s)
{
	if (crypto_sign_ed25519_sk_to_curve25519(out_sk, s->sk) != 0)
		return plein_fail(PLEIN_ERR, "this site's key cannot be turned into an X25519 key; site.key is damaged");
	return 0;
}

int tcp_peer_check(plein_site *s, const unsigned char ed_pk[32], const unsigned char x_pk[32],
		   char out_id[PLEIN_SITEID_LEN + 1])
{
	unsigned char conv[32], admin[32], listed[32];
	out_id[0] = 0;
	if (crypto_sign_ed25519_pk_to_curve25519(conv, ed_pk) != 0 || sodium_memcmp(conv, x_pk, 32) != 0)
		return plein_fail(PLEIN_EREJECT, "the peer named a site key that is not the key it proved in the handshake");
	plein_siteid_from_key(out_id, ed_pk);
	if (sodium_memcmp(ed_pk, s->pk, 32) == 0)
		return plein_fail(PLEIN_EREJECT, "the peer is this site itself (%s)", out_id);
	int rc = plein_roster_admin(s, admin);
	if (rc < 0)
		return rc;
	if (sodium_memcmp(admin, ed_pk, 32) == 0)
		return 0;
	char *net = plein_site_local_get(s, "network_name");
	const char *name = net ? net : "this network";
	rc = plein_roster_key(s, out_id, listed);
	if (rc == PLEIN_ENOTFOUND)
		rc = plein_fail(PLEIN_EREJECT, "site %s is not on the roster of \"%s\" (ask the coordinator to admit it)",
				out_id, name);
	else if (rc < 0)
		rc = plein_fail(PLEIN_EREJECT, "site %s: %s", out_id, plein_error());
	else if (sodium_memcmp(listed, ed_pk, 32) != 0)
		rc = plein_fail(PLEIN_EREJECT, "site id %s is on the roster of \"%s\" with another key", out_id, name);
	else if (plein_roster_check(s, ed_pk, INT64_MAX) < 0)
		rc = plein_fail(PLEIN_EREJECT, "site %s was revoked from the roster of \"%s\"", out_id, name);
	free(net);
	return rc;
}

/* plein_local key of the site that answered at addr (local, never synced). */
static void known_key(char *out, size_t cap, const char *addr)
{
	snprintf(out, cap, "tcp_site:%s", addr);
}

int tcp_peer_known(plein_site *s, const char *addr, unsigned char out_x[32])
{
	char key[320], id[PLEIN_SITEID_LEN + 1];
	unsigned char pk[32], admin[32];
	known_key(key, sizeof key, addr);
	char *was = plein_site_local_get(s, key);
	if (!was)
		return 0;
	snprintf(id, sizeof id, "%s", was);
	free(was);
	/* Its key now: the roster's, so a new key or a revocation counts. */
	int admin_ok = plein_roster_admin(s, admin) == 0, found = 0;
	if (admin_ok) {
		char admin_id[PLEIN_SITEID_LEN + 1];
		plein_siteid_from_key(admin_id, admin);
		if (strcmp(admin_id, id) == 0) {
			memcpy(pk, admin, 32);
			found = 1;
		}
	}
	if (!found)
		found = plein_roster_key(s, id, pk) == 0 && plein_roster_check(s, pk, INT64_MAX) == 0;
	if (!found || sodium_memcmp(pk, s->pk, 32) == 0 || crypto_sign_ed25519_pk_to_curve25519(out_x, pk) != 0)
		return 0;
	return 1;
}

int tcp_peer_remember(plein_site *s, const char *addr, const char *id)
{
	char key[320];
	known_key(key, sizeof key, addr);
	char *was = plein_site_local_get(s, key);
	int same = (!was && !id) || (was && id && strcmp(was, id) == 0);
	free(was);
	return same ? 0 : plein_site_local_set(s, key, id);
}

int tcp_tip_parse(unsigned char out[PLEIN_MSG_TIP_BYTES], const char *hex)
{
	if (strlen(hex) != 2 * PLEIN_MSG_TIP_BYTES ||
	    sodium_hex2bin(out, PLEIN_MSG_TIP_BYTES, hex, strlen(hex), NULL, NULL, NULL) != 0)
		return plein_fail(PLEIN_ERR, "'%s' is not a commit id of log.git", hex);
	return 0;
}

int tcp_our_vector(plein_vv_entry **out, size_t *out_n, plein_site *s)
{
	plein_log_ref *tips = NULL;
	size_t n = 0, k = 0;
	*out = NULL;
	*out_n = 0;
	int rc = plein_log_tips(&tips, &n, s->log);
	if (rc < 0)
		return rc;
	plein_vv_entry *v = plein_xcalloc(n ? n : 1, sizeof *v);
	for (size_t i = 0; i < n; i++) {
		if (tips[i].seq < 1)
			continue;
		memcpy(v[k].site, tips[i].site, sizeof v[k].site);
		v[k].seq = tips[i].seq;
		if ((rc = tcp_tip_parse(v[k++].tip, tips[i].commit)) < 0)
			break;
	}
	free(tips);
	if (rc < 0) {
		free(v);
		return rc;
	}
	*out = v;
	*out_n = k;
	return 0;
}
