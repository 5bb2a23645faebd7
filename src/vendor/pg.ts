// node-postgres, for the PostgreSQL backend. The build bundles it into one file, dist/vendor/pg.cjs
// (with a V8 code cache, as the other bundles): loaded as ~40 loose files from node_modules it cost a
// command on PostgreSQL 23–33 ms. Its optional native part (pg-native) stays out: deployctl never asks
// for it. src/state/postgres/connection.ts loads this file on first use, never at start-up.
export { default } from 'pg';
