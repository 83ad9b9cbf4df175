// The database of one test file: a clone of the run's migrated template (see database.ts).
import { inject } from 'vitest';
import { createTestDatabase, type TestDatabase } from './database.ts';

export function createFileDatabase(): Promise<TestDatabase> {
  return createTestDatabase(inject('databaseUrl'), { template: inject('templateDatabase') });
}
