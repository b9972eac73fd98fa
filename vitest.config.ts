import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Multi-thread tests start their own worker pools; running test files in
    // parallel on a 2-core machine would only starve them.
    fileParallelism: false,
  },
});
