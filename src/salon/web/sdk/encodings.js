// The camera's simulcast encodings that the server asks for (`media.encodings`).
//
// The server pauses an encoding nobody receives (after a few seconds) and resumes it as
// soon as someone needs it; a paused encoding is neither encoded nor sent, which saves
// this browser's uplink and CPU (docs/media.md § Simulcast). Chromium starts a resumed
// encoding at a keyframe.

/**
 * Mark the sender's encodings active or not as `states` ([{rid, active}]) say; RIDs the
 * sender does not have are ignored. Returns whether anything changed.
 */
export async function applyEncodings(sender, states) {
  const wanted = new Map((states || []).map(({rid, active}) => [rid, Boolean(active)]));
  const params = sender.getParameters();
  let changed = false;
  for (const encoding of params.encodings || []) {
    if (encoding.rid && wanted.has(encoding.rid) && encoding.active !== wanted.get(encoding.rid)) {
      encoding.active = wanted.get(encoding.rid);
      changed = true;
    }
  }
  if (changed) await sender.setParameters(params);
  return changed;
}

/** Every encoding of the sender active again: a camera published anew is a new track on
 * the server, every encoding of which it wants until it says otherwise. */
export async function resetEncodings(sender) {
  const rids = (sender.getParameters().encodings || []).filter((e) => e.rid).map((e) => e.rid);
  return applyEncodings(sender, rids.map((rid) => ({rid, active: true})));
}
