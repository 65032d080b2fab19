-- plein schema version 5: erasure of personal data (design §8,
-- docs/erasure.md).
--
-- An erasure is a synced row, so that every site carries it out: each
-- site sets the row's personal columns to NULL (the erasing site's own
-- write, newer than every value it erases, wins last-writer-wins
-- everywhere) and purges every stored personal part that holds a value of
-- that row written at or before `upto` from its log.git.

CREATE TABLE erasure (
  id        TEXT PRIMARY KEY, -- '<tbl>:<row_id>': one erasure per row, the same id at
                              -- every site, so two sites erasing one row make one row
  tbl       TEXT,             -- the synced table: 'referral' or 'signup'
  row_id    TEXT,             -- the row whose personal values are erased
  upto      INTEGER,          -- HLC: values written at or before it are purged
  reason    TEXT CHECK (reason IN ('request','closed','expired')),
                              -- on request ('plein forget'); the referral closed;
                              -- the retention period ran out
  erased_at TEXT              -- when (UTC)
) WITHOUT ROWID;

-- tid 20 leaves room for other tables in between.
INSERT INTO plein_sync_table(name, tid) VALUES ('erasure', 20);
INSERT INTO plein_sync_column(tbl, name, cid)
  SELECT 'erasure', c.name, c.cid - 1
  FROM pragma_table_info('erasure') c
  WHERE c.name <> 'id';

-- Local to this replica (not synced): what has been carried out here.
CREATE TABLE plein_erase_done (
  id   TEXT PRIMARY KEY,      -- erasure.id
  upto INTEGER NOT NULL       -- the upto it was carried out for
);
-- Personal parts already checked against every erasure carried out here:
-- a ref whose blob is still this one needs checking only for new erasures.
CREATE TABLE plein_personal_checked (
  ref  TEXT PRIMARY KEY,      -- refs/plein/personal/<site>/<seq>/<header-id>
  blob TEXT NOT NULL
);
