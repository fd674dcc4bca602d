// ESLint (flat config): @eslint/js and typescript-eslint recommended over the TypeScript sources; `npm run lint`.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
    {
        ignores: [
            "**/node_modules/**",
            "**/dist/**",
            ".plan/**",
            "coverage/**",
            // A separate npm project with its own dependencies (npm run awsguard:install).
            "tools/**",
            // Compiled policy packs (npm run build:policy) and plain-JavaScript test fixtures.
            "policy/*/bin/**",
            "test/fixtures/**/*.js",
        ],
    },
    js.configs.recommended,
    tseslint.configs.recommended,
    {
        linterOptions: { reportUnusedDisableDirectives: "error" },
        rules: {
            // A variable a closure reads before its one assignment (the `let self` of a gRPC server's handlers) stays `let`.
            "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
            // `_`-prefixed names are deliberately unused: destructuring a field away, a placeholder parameter.
            "@typescript-eslint/no-unused-vars": [
                "error",
                { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_", ignoreRestSiblings: true },
            ],
        },
    },
    {
        // Unit and end-to-end tests assert on mock-recorded inputs and Kubernetes API responses: untyped JSON by nature.
        files: ["test/**", "e2e/**"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        // Policy rules read resource properties as the analyzer deserialises them (@pulumi/policy types them `any`).
        files: ["policy/**"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        // The engine speaks the SDK's wire: gRPC requests, protobuf Structs, serialised resource inputs and outputs.
        files: ["engine/**"],
        rules: { "@typescript-eslint/no-explicit-any": "off" },
    },
    {
        // Lazy loads on purpose: bench.ts times each measurement's own module loading; build-lib.ts loads the
        // engine (and new-team.ts, which imports it back) only to verify the package, so its importers stay light.
        files: ["scripts/bench.ts", "scripts/build-lib.ts"],
        rules: { "@typescript-eslint/no-require-imports": "off" },
    },
);
