// One engine for everything: the target the program, its commands and gates give the docker CLI
// is the docker provider's (docker:host, else DOCKER_HOST, else the local socket), with its TLS
// settings; a docker context the provider would ignore is refused, not silently split.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, it } from "node:test";
import { dockerEnv, engineEnvironment, engineTarget, targetProblem } from "../../host/engineTarget";

/** A docker config folder whose current context is `name`, pointing at `endpoint`, and a fake CLI that answers `context inspect`. */
function withContext(name: string, endpoint: string): NodeJS.ProcessEnv {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-target-"));
  fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ currentContext: name }));
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(bin, "docker"), `#!/bin/sh\n[ "$1 $2 $3" = "context inspect ${name}" ] && echo "${endpoint}"\n`, {
    mode: 0o755,
  });
  return { HOME: dir, DOCKER_CONFIG: dir, PATH: `${bin}:${process.env.PATH}` };
}

describe("the engine target", () => {
  it("follows the provider's order: docker:host, then DOCKER_HOST, then the socket", () => {
    assert.equal(engineTarget({ host: "ssh://a" }, { DOCKER_HOST: "tcp://b:2375" }).host, "ssh://a");
    assert.deepEqual(engineTarget({}, { DOCKER_HOST: "tcp://b:2375", HOME: "/nonexistent" }), {
      host: "tcp://b:2375",
      source: "DOCKER_HOST",
    });
  });

  it("refuses a current docker context that names another engine, saying how to name it for both", () => {
    const env = withContext("remote", "tcp://10.1.2.3:2376");
    const target = engineTarget({}, env);
    assert.deepEqual(target.ignoredContext, { name: "remote", endpoint: "tcp://10.1.2.3:2376" });
    assert.match(
      targetProblem(target)!,
      /current context "remote" points at tcp:\/\/10\.1\.2\.3:2376.*docker:host tcp:\/\/10\.1\.2\.3:2376/,
    );
    // Named explicitly, the context no longer matters.
    assert.equal(targetProblem(engineTarget({}, { ...env, DOCKER_HOST: "tcp://10.1.2.3:2376" })), undefined);
    // A context that points at the same socket is no conflict.
    assert.equal(targetProblem(engineTarget({}, withContext("local", engineTarget({}, { HOME: "/nonexistent" }).host))), undefined);
  });

  it("passes DOCKER_HOST and the TLS settings on to the commands' docker CLI", () => {
    assert.deepEqual(engineEnvironment(engineTarget({ host: "tcp://e:2376", certPath: "/certs" }, {})), {
      DOCKER_HOST: "tcp://e:2376",
      DOCKER_CERT_PATH: "/certs",
      DOCKER_TLS_VERIFY: "1",
    });
    const pem = engineEnvironment(engineTarget({ host: "tcp://e:2376", caMaterial: "CA", certMaterial: "CERT", keyMaterial: "KEY" }, {}));
    assert.equal(pem.DOCKER_KEY_MATERIAL, "KEY");
  });

  it("writes PEM texts to a private folder for the docker CLI, never into its environment", () => {
    const env = dockerEnv(engineTarget({ host: "tcp://e:2376", caMaterial: "CA", certMaterial: "CERT", keyMaterial: "KEY" }, {}), {});
    assert.equal(env.DOCKER_KEY_MATERIAL, undefined);
    const dir = env.DOCKER_CERT_PATH!;
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.readFileSync(path.join(dir, "key.pem"), "utf8"), "KEY");
    assert.equal(env.DOCKER_TLS_VERIFY, "1");
  });
});
