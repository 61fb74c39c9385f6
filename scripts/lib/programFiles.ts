// The files and folders that make up the Pulumi program and what it runs, for tools that run it
// from a scratch copy of the project (the end-to-end tests, the lifecycle benchmark).
export const PROGRAM_FILES = [
  "index.ts",
  "contract",
  "config",
  "spec",
  "host",
  "program",
  "deploy",
  "components",
  "policy",
  "services",
  "scripts",
  "tools",
  "package.json",
  "tsconfig.json",
  "Pulumi.yaml",
] as const;
