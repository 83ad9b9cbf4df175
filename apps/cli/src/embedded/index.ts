export { startEmbeddedPostgres, type EmbeddedPostgres, type EmbeddedPostgresOptions } from './embedded-postgres.ts';
export { startEmbeddedDatabases, type EmbeddedDatabases } from './embedded-databases.ts';
