/** A git commit hash as LaForge stores it: 4 to 64 hex digits (abbreviated SHA-1 up to full SHA-256). */
export function isCommitHash(value: unknown): value is string {
  return typeof value === 'string' && /^[0-9a-fA-F]{4,64}$/.test(value);
}
