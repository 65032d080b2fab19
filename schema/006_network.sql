-- plein schema version 6: the network's name in the log (docs/roster.md).
--
-- The name people know the network by came only from the network card and
-- lived in plein_local, which a rebuild from log.git cannot bring back.
-- The coordinator writes it here, in its own chain, so every site learns
-- it from the log. Like the roster, only changes signed by the admin key
-- count: ingest refuses a batch from any other signer that touches it.

CREATE TABLE network (
  id   TEXT PRIMARY KEY, -- the network id, 32 lowercase hex characters: the id every
                         -- batch header carries (one row per network: this one)
  name TEXT              -- the network's name for people, as on the network card:
                         -- "Regio Twente"
) WITHOUT ROWID;

-- tid 14: the next free number after referral_event (13).
INSERT INTO plein_sync_table(name, tid) VALUES ('network', 14);
INSERT INTO plein_sync_column(tbl, name, cid)
  SELECT 'network', c.name, c.cid - 1
  FROM pragma_table_info('network') c
  WHERE c.name <> 'id';
