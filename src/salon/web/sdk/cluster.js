// Following a cluster (docs/protocol.md "Clusters: redirects and failover"): where a
// REDIRECT sends the client, and where it resumes a dropped connection. salon.js uses it;
// a meeting runs on one node, and every other node sends its peers there.

/** Redirects followed in a row before a join gives up with the REDIRECT error. */
export const MAX_REDIRECTS = 3;

/** MEETING_MOVING answers (the meeting is between nodes) a join waits out, each for its
 * `retry_after` seconds, before it gives up with that error. */
export const MAX_MOVING_WAITS = 5;

/** Codes that end a resume for good: the peer is gone, or no node would take it. */
export const FINAL_REFUSALS = new Set(["RESUME_FAILED", "UNAUTHORIZED", "MEETING_INACTIVE",
                                       "SESSION_ENDED", "PROTOCOL_VERSION"]);

/** The pause between rounds over the candidates: first, doubling, at most; and how long
 * to keep trying in all (the server keeps a dropped peer 15 s by default). */
export const FIRST_BACKOFF_MS = 200;
export const MAX_BACKOFF_MS = 2000;
export const RESUME_WITHIN_MS = 20000;

/** The gateway URL of a node given its base URL (`http(s)://host[:port]`). */
export function gatewayUrl(base) {
  return base.replace(/^http/, "ws").replace(/\/$/, "") + "/realtime/v1";
}

/** Where a REDIRECT error (its error object) sends the client: its `url`, else the
 * gateway of its `address`; null if it names nothing usable. */
export function redirectTarget(error) {
  if (!error) return null;
  if (typeof error.url === "string" && /^wss?:\/\//.test(error.url)) return error.url;
  if (typeof error.address === "string" && /^https?:\/\//.test(error.address)) {
    return gatewayUrl(error.address);
  }
  return null;
}

/** Where to resume, in order, each once: the node the client was on, the URL it first
 * connected to (a load balancer, say), then the other live nodes it was told of. */
export function resumeCandidates(current, entry, nodes = []) {
  const told = nodes.filter((node) => typeof node === "string" && /^https?:\/\//.test(node))
    .map(gatewayUrl);
  return [...new Set([current, entry, ...told].filter(Boolean))];
}
