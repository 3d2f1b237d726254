// Every workflow the worker registers.
export { migrateSqliteToPostgres } from './migrate';
export { copyTable } from './copy-table';
export { rollbackMigration } from './rollback';
