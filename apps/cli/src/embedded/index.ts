export { type EmbeddedDatabases, startEmbeddedDatabases } from './embedded-databases.ts';
export { type EmbeddedPostgres, type EmbeddedPostgresOptions, startEmbeddedPostgres } from './embedded-postgres.ts';
