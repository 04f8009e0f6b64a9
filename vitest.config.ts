import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  resolve: {
    // Unit tests import workspace packages from source; end-to-end tests run the built dist.
    alias: {
      "@mlwatch/semconv": src("./packages/semconv/src/index.ts"),
      // before "@mlwatch/stats", which would also match it as a prefix
      "@mlwatch/stats/otlp": src("./packages/stats/src/otlp/index.ts"),
      "@mlwatch/stats": src("./packages/stats/src/index.ts"),
      "@mlwatch/sdk": src("./packages/sdk/src/index.ts"),
    },
  },
  test: {
    include: [
      "packages/*/src/**/*.test.ts",
      "packages/*/test/**/*.test.ts",
      "collector/test/**/*.test.ts",
      "collector/src/**/*.test.ts",
      "examples/*/test/**/*.test.ts",
      "test/**/*.test.ts",
      "deploy/test/**/*.test.ts",
    ],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
