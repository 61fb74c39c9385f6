// The seeded HTTP fuzz (services/fuzz/suite.ts) against the worker-agent, no model server behind
// it: the valid request after each batch is /healthz. Its timeouts are fixed (5 s head, 10 s).
import { fuzzSuite } from "../../fuzz/suite";

fuzzSuite("worker-agent", "agent", { timeouts: { headersTimeoutMs: 5000, requestTimeoutMs: 10_000 }, numRuns: 15 });
