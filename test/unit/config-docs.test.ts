// The config is documented in three places that must not drift from the schema: the README's
// config table, Pulumi.yaml's declared keys and their defaults, and the schema itself.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as yaml from "js-yaml";
import { DEFAULT_DEVICE, DEFAULT_PLATFORM, DEFAULT_RUNTIME, stackConfigSchema } from "../../config/schema";
import { ROOT } from "./harness";

/** Every settable key of the schema, as config paths (`model.maxModelLen`). */
function schemaKeys(schema: any, prefix = ""): string[] {
  const def = schema._zod.def;
  if (def.type === "optional") return schemaKeys(def.innerType, prefix);
  if (def.type !== "object") return [prefix];
  return Object.entries(def.shape).flatMap(([key, inner]) => schemaKeys(inner, prefix ? `${prefix}.${key}` : key));
}

/** The keys the README's configuration table documents (first column, in backticks). */
function readmeKeys(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
  const table = readme.slice(readme.indexOf("| key | meaning | dev | gpu |"));
  const rows = table.slice(0, table.indexOf("\n\n")).split("\n").slice(2);
  return rows.flatMap((row) => [...row.split("|")[1].matchAll(/`([^`]+)`/g)].map((m) => m[1]));
}

describe("config documentation", () => {
  const keys = schemaKeys(stackConfigSchema).sort();

  it("documents every schema key in the README's table, and no other", () => {
    assert.deepEqual(readmeKeys().sort(), keys);
  });

  it("declares every top-level key in Pulumi.yaml, with the schema's defaults", () => {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as any;
    assert.deepEqual(Object.keys(project.config).sort(), [...new Set(keys.map((k) => k.split(".")[0]))].sort());
    assert.equal(project.config.runtime.default, DEFAULT_RUNTIME);
    assert.equal(project.config.device.default, DEFAULT_DEVICE);
    assert.equal(project.config.platform.default, DEFAULT_PLATFORM);
  });

  it("requires the Pulumi CLI the README states, at least the pinned SDK's version", () => {
    const project = yaml.load(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as any;
    const pin = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")).dependencies["@pulumi/pulumi"];
    assert.equal(project.requiredPulumiVersion, `>=${pin}`);
    assert.ok(fs.readFileSync(path.join(ROOT, "README.md"), "utf8").includes(`**Pulumi CLI ${pin} or later**`));
  });
});
