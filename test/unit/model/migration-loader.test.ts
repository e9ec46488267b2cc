import { join } from 'node:path';
import { MigrationFileError, loadMigrations } from '../../../adapters/migration-loader';

const fixture = (name: string) => join(__dirname, '..', '..', 'fixtures', name);

describe('Function: loadMigrations', () => {
  it('loads the example definitions file', async () => {
    const migrations = await loadMigrations(
      join(__dirname, '..', '..', '..', 'examples', 'users', 'migrations.ts'),
    );
    expect(migrations.map((m) => m.id)).toEqual(['users']);
  });

  it('names a missing file', async () => {
    await expect(loadMigrations(fixture('nope.ts'))).rejects.toThrow(
      /nope\.ts: does not exist; pass --migration/,
    );
  });

  it('reports a syntax error', async () => {
    const load = loadMigrations(fixture('syntax-error.js'));
    await expect(load).rejects.toThrow(MigrationFileError);
    await expect(loadMigrations(fixture('syntax-error.js'))).rejects.toThrow(
      /syntax-error\.js: (has a syntax error|failed to load)/,
    );
  });

  it('reports a wrong export', async () => {
    await expect(loadMigrations(fixture('wrong-export.ts'))).rejects.toThrow(
      /exports no migrations \(found exports: notMigrations\)/,
    );
  });

  it('reports an array entry that is not a migration', async () => {
    await expect(loadMigrations(fixture('not-a-migration.ts'))).rejects.toThrow(
      'migrations[0] is not the result of defineMigration',
    );
  });
});
