import { Migration20261123000000_initial } from './Migration20261123000000_initial.ts';
import { Migration20261124000000_idempotency } from './Migration20261124000000_idempotency.ts';
import { Migration20261126000000_staging_marks } from './Migration20261126000000_staging_marks.ts';
import { Migration20261126100000_segments } from './Migration20261126100000_segments.ts';
import { Migration20261126200000_security } from './Migration20261126200000_security.ts';
import { Migration20261126300000_formats } from './Migration20261126300000_formats.ts';
import { Migration20261126400000_replica } from './Migration20261126400000_replica.ts';
import { Migration20261127100000_history } from './Migration20261127100000_history.ts';
import { Migration20261127300000_envelope } from './Migration20261127300000_envelope.ts';
import { Migration20261127400000_search_index } from './Migration20261127400000_search_index.ts';
import { Migration20261128200000_restore_idempotency } from './Migration20261128200000_restore_idempotency.ts';
import { Migration20261128300000_search_by_workers } from './Migration20261128300000_search_by_workers.ts';
import { Migration20261129100000_rebuild_tombstones } from './Migration20261129100000_rebuild_tombstones.ts';
import { Migration20261129600000_hot_appends } from './Migration20261129600000_hot_appends.ts';
import { Migration20261129700000_manifest_pending } from './Migration20261129700000_manifest_pending.ts';
import { Migration20261130100000_search_backlog_attempts } from './Migration20261130100000_search_backlog_attempts.ts';

/** Every migration, in order. Listed explicitly so they run the same under tsx, vitest and builds. */
export const migrations = [
  { name: 'Migration20261123000000_initial', class: Migration20261123000000_initial },
  { name: 'Migration20261124000000_idempotency', class: Migration20261124000000_idempotency },
  { name: 'Migration20261126000000_staging_marks', class: Migration20261126000000_staging_marks },
  { name: 'Migration20261126100000_segments', class: Migration20261126100000_segments },
  { name: 'Migration20261126200000_security', class: Migration20261126200000_security },
  { name: 'Migration20261126300000_formats', class: Migration20261126300000_formats },
  { name: 'Migration20261126400000_replica', class: Migration20261126400000_replica },
  { name: 'Migration20261127100000_history', class: Migration20261127100000_history },
  { name: 'Migration20261127300000_envelope', class: Migration20261127300000_envelope },
  { name: 'Migration20261127400000_search_index', class: Migration20261127400000_search_index },
  { name: 'Migration20261128200000_restore_idempotency', class: Migration20261128200000_restore_idempotency },
  { name: 'Migration20261128300000_search_by_workers', class: Migration20261128300000_search_by_workers },
  { name: 'Migration20261129100000_rebuild_tombstones', class: Migration20261129100000_rebuild_tombstones },
  { name: 'Migration20261129600000_hot_appends', class: Migration20261129600000_hot_appends },
  { name: 'Migration20261129700000_manifest_pending', class: Migration20261129700000_manifest_pending },
  {
    name: 'Migration20261130100000_search_backlog_attempts',
    class: Migration20261130100000_search_backlog_attempts,
  },
];
