// Random hex digits for names that only must not collide: temporary files, record ids, the file
// backend's lock tokens. Not secrets, so Math.random (seeded per process by V8) and not node:crypto,
// which a command would load for this alone (~2 ms of every deploy, see BENCHMARKS.md). Whatever must
// not be guessed (approval ids, GitHub output delimiters) keeps node:crypto.
export function randomHex(bytes: number): string {
  let out = '';
  while (out.length < bytes * 2) out += Math.floor(Math.random() * 0x100000000).toString(16).padStart(8, '0');
  return out.slice(0, bytes * 2);
}
