-- plein schema version 3: the roster, who belongs to the network (design §2,
-- docs/roster.md).
--
-- The roster syncs like a domain table, but only changes signed by the
-- network's admin key (the coordinator's site key, from the network card)
-- count: ingest refuses a batch from any other signer that touches it.
-- Every received batch is checked against it (plein_roster_check).

CREATE TABLE roster (
  id            TEXT PRIMARY KEY, -- the site id, canonical "7QF3-K9ZT-M2XA-PD4R"
  pk            TEXT,             -- the site's full ed25519 public key, 64 lowercase hex
                                  -- characters; the id is its first 80 bits
  name          TEXT,             -- shown to people: "Bibliotheek Hengelo Centrum"
  role          TEXT CHECK (role IN ('coordinator','branch','mobile','partner')),
  location_id   TEXT REFERENCES location(id), -- where the site works, if one place
  revoked_after INTEGER           -- NULL: admitted. Else the last seq of the site's
                                  -- chain that still counts: its batches up to this
                                  -- one stay valid, later ones are refused
) WITHOUT ROWID;

INSERT INTO plein_sync_table(name, tid) VALUES ('roster', 12);

-- Every column but id, numbered in declaration order.
INSERT INTO plein_sync_column(tbl, name, cid)
  SELECT 'roster', c.name, c.cid - 1
  FROM pragma_table_info('roster') c
  WHERE c.name <> 'id';
