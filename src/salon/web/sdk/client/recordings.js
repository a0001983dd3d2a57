// salon browser SDK, client: starting and steering the meeting's livestream and its
// recordings (client.startLivestream(), client.startRecording(), …). What is running is
// read from the room view (`client.livestream`, `client.recordings`: room_view.js).

import { only } from "./only.js";

// SalonClient's methods: salon.js copies them onto SalonClient.prototype (this class is
// never instantiated), so `this` is the client and every field is the client's.
export class LivestreamMethods {
  // --- the livestream (needs the preset's `can_livestream`; the server checks) -------------

  /** Start livestreaming the meeting; resolves with the LivestreamView (INVOKED).
   * `videoConfig` `{width, height}`; `CONFLICT` while one runs. */
  async startLivestream({name, videoConfig} = {}) {
    return (await this.request("livestream.start", only({name, video_config: videoConfig}))).livestream;
  }
  /** Stop the meeting's livestream; resolves with its LivestreamView. `NOT_FOUND` if none runs. */
  async stopLivestream() {
    return (await this.request("livestream.stop")).livestream;
  }
}

export class RecordingMethods {
  // --- recordings (needs the preset's `can_record`; the server checks) --------------------

  /** Start recording the meeting; resolves with the RecordingView (INVOKED). `CONFLICT`
   * while one is active unless `allowMultiple`. */
  async startRecording({allowMultiple = false} = {}) {
    return (await this.request("recording.start", {allow_multiple_recordings: allowMultiple})).recording;
  }
  /** Stop one recording, or every active one; resolves with the changed RecordingViews. */
  async stopRecording(recordingId) { return this._steerRecording("stop", recordingId); }
  async pauseRecording(recordingId) { return this._steerRecording("pause", recordingId); }
  async resumeRecording(recordingId) { return this._steerRecording("resume", recordingId); }
  async _steerRecording(action, recordingId) {
    return (await this.request(`recording.${action}`, only({recording_id: recordingId}))).recordings;
  }
}
