// Kept for imports that still name it here: identity is one helper, src/identity.ts, which state may import too.
export { currentIdentity, type Identity } from '../identity.js';
