// Moved to core/rollback-policy.ts, the one definition of what runs now and where a rollback goes.
// The store's pruning and the engine read it from here until their imports point there.
export * from '../core/rollback-policy.js';
