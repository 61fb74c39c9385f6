// The seeded HTTP fuzz (services/fuzz/suite.ts) against mock-vllm, with short header and body
// timeouts so cut-short requests settle quickly.
import { fuzzSuite } from "../../fuzz/suite";

fuzzSuite("mock-vllm", "mock", {
  args: ["--mock-headers-timeout-s", "1", "--mock-request-timeout-s", "2"],
  timeouts: { headersTimeoutMs: 1000, requestTimeoutMs: 2000 },
  numRuns: 25,
});
