// Hooks that only test suites set, through the environment, to make timing-dependent faults
// reproducible; none is set in normal use.

/**
 * AMIFORGE_TEST_COPY_PACE=ENTRIES:MS: snapshot copies map ENTRIES blocks per batch and pause MS
 * after each, so a test can kill a node in the middle of a copy.
 */
export function testCopyPace(env: NodeJS.ProcessEnv = process.env): { batch: number; pauseMs: number } | undefined {
  const m = /^(\d{1,6}):(\d{1,6})$/.exec(env.AMIFORGE_TEST_COPY_PACE ?? '');
  if (!m || Number(m[1]) < 1) return undefined;
  return { batch: Number(m[1]), pauseMs: Number(m[2]) };
}
