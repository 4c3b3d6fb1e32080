// What global-setup.ts provides to every test file (vitest's inject()).
declare module 'vitest' {
  export interface ProvidedContext {
    /** Connection string of a maintenance database on the test PostgreSQL server. */
    testAdminUrl: string;
    /** A migrated database that every test file's database is copied from. */
    testTemplateDatabase: string;
  }
}

export {};
