// Vitest global setup: builds nothing (npm test builds first); starts the real servers the store tests need.
// The servers part is owned by test/setup/servers.ts (added with the S3 and Redis stores).
export default async function setup(): Promise<void | (() => Promise<void>)> {
  return undefined
}
