export { startEmbeddedDatabases } from './embedded-databases.ts';
