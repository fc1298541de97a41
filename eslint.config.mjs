// Lint: type-aware rules that catch real bugs (floating promises, misused promises), type-only
// imports, and the layer rules of DESIGN.md §2 as import restrictions. Generated code is not linted.
import tseslint from "typescript-eslint";

const layer = (files, patterns, message) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns: [{ group: patterns, message }] }] },
});

export default tseslint.config(
  { ignores: ["gen/**", "test/gen/**", "dist/**", "node_modules/**", "third_party/**", "**/*.mjs", "**/*.mts"] },
  {
    files: ["**/*.ts"],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      "@typescript-eslint/consistent-type-imports": ["error", { fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_" }],
      "@typescript-eslint/await-thenable": "error",
    },
  },
  layer(["src/domain/**/*.ts"], ["**/gen/**", "**/store/**", "**/services/**", "**/grpc/**", "**/gateway/**", "**/server/**", "@grpc/*", "fastify", "mongodb", "better-sqlite3"], "src/domain depends on nothing but itself (DESIGN.md §2)"),
  layer(["src/store/**/*.ts"], ["**/gen/**", "**/services/**", "**/grpc/**", "**/gateway/**", "**/server/**", "@grpc/*", "fastify"], "stores import only src/domain and src/store/types.ts (DESIGN.md §2)"),
  layer(["src/services/**/*.ts"], ["**/store/sqlite/**", "**/store/mongo/**", "**/grpc/**", "**/gateway/**", "**/server/**", "@grpc/*", "fastify", "mongodb", "better-sqlite3"], "services are transport- and backend-free (DESIGN.md §2)"),
  layer(["src/gateway/**/*.ts"], ["**/store/**", "**/grpc/**", "**/server/**", "@grpc/*", "mongodb", "better-sqlite3"], "the gateway calls services in process, never a store or gRPC (DESIGN.md §1)"),
  layer(["clients/typescript/**/*.ts", "examples/typescript/**/*.ts"], ["**/src/server/**", "**/src/services/**", "**/src/store/**", "**/src/domain/**", "**/src/grpc/**", "**/src/gateway/**", "**/src/artifacts/**"], "the TypeScript SDK is a client: it uses gen/ts and @grpc/grpc-js, never the server's src/ (tests reach the server through test/harness)"),
  layer(["src/graphql/**/*.ts"], ["**/store/**", "**/grpc/**", "**/gateway/**", "**/server/**", "@grpc/*", "fastify", "mongodb", "better-sqlite3"], "GraphQL resolvers call services only; the HTTP route lives in src/gateway"),
  layer(["src/edge/**/*.ts"], ["**/gen/**", "**/store/**", "**/services/**", "**/grpc/**", "**/gateway/**", "**/server/**", "@grpc/*", "fastify", "mongodb", "better-sqlite3"], "src/edge holds transport-neutral edge policy: it imports only src/domain"),
  layer(["src/observability/**/*.ts"], ["**/gen/**", "**/services/**", "**/grpc/**", "**/gateway/**", "**/server/**", "**/store/sqlite/**", "**/store/mongo/**", "@grpc/*", "fastify", "mongodb", "better-sqlite3"], "observability knows no transport and no backend: the transports plug it in at their seams"),
  layer(["src/grpc/**/*.ts"], ["**/store/**", "**/gateway/**", "**/server/**", "fastify", "mongodb", "better-sqlite3"], "gRPC adapters call services only"),
);
