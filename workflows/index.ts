// Every workflow the worker registers.
export { migrateSqliteToPostgres } from './migrate';
