// The realtime protocol's messages (docs/protocol.md), generated from the schema salon
// serves at /realtime/v1/asyncapi.json by scripts/gen-protocol-types. Do not edit.

export interface Admitted {
  admitted: string[];
}

export interface AllOff {
  count: number;
  kinds: ("audio" | "video" | "screenshare")[];
}

export interface Allowed {
  allowed: string[];
  kinds: ("audio" | "video" | "screenshare")[];
}

export interface Answer {
  question_id: string;
  answer?: string | null;
}

export interface Ask {
  text: string;
}

export interface Asker {
  id: string;
  peer_id: string;
  name: string;
}

export interface Assign {
  mode: "round_robin" | "manual";
  meeting_ids?: string[] | null;
  assignments?: { [key: string]: unknown } | null;
}

export interface Assignments {
  assignments: { [key: string]: string[] };
}

/**
 * A large room's audience presence, batched: the counts now, who of the audience
 * came (PeerViews, at most 10) and went (ids, at most 100) since the last delta;
 * `more` when some were left out. `large` false: the room is small again, ask for
 * `state` to see everyone.
 */
export interface AudienceDelta {
  large: boolean;
  counts: Counts;
  joined: PeerView[];
  left: string[];
  more: boolean;
}

export interface Backlog {
  track_id: string;
  before: number;
  since?: number | null;
}

export interface BacklogPacket {
  at: number;
  timestamp: number;
  data: string;
}

export interface Broadcast {
  type: string;
  payload?: unknown;
  participant_ids?: string[] | null;
  preset_names?: string[] | null;
}

export interface BroadcastEvent {
  type: string;
  payload: unknown;
  from_peer_id: string | null;
  timestamp: string;
}

export interface BulkDelete {
  store: string;
  keys: string[];
}

export interface BulkSet {
  store: string;
  items: { [key: string]: unknown };
}

/** Who did it; null when the operator acted over REST. */
export interface ByPeer {
  by_peer_id: string | null;
}

export interface Candidate {
  candidate: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
  usernameFragment?: string | null;
}

/**
 * A preset's capture settings for one kind (its `config.media.video` or
 * `.screenshare`): `quality` the largest size (qvga 320x240, vga 640x480, hd 1280x720,
 * fhd 1920x1080, uhd 3840x2160), `frame_rate` the most frames a second.
 */
export interface Capture {
  quality: "qvga" | "vga" | "hd" | "fhd" | "uhd";
  frame_rate: number;
}

export interface CastVote {
  id: string;
  name: string;
  index: number;
}

export interface ChangeFailed {
  to_meeting_id: string;
  message: string;
}

/** What a join reply would say in the new meeting, plus a participant token there. */
export interface Changed {
  peer_id: string;
  resume_token: string;
  status: "waiting" | "joined";
  self: SelfView;
  room?: RoomState;
  media: MediaConfig;
  meeting_id: string;
  by_peer_id: string | null;
  token: string;
}

export interface Changes {
  store: string;
  changes: (Set | Removed)[];
}

export interface Changing {
  from_meeting_id: string;
  to_meeting_id: string;
  by_peer_id: string | null;
}

export interface ChatDeleted {
  message_id: string;
  by_peer_id: string | null;
}

export interface ChatPermissions {
  public?: PublicChat;
  private?: PrivateChat;
}

export interface ChatUpdated {
  action: "edit" | "pin" | "unpin";
  message: Message;
  by_peer_id: string | null;
}

export interface CloseAll {
  delete?: boolean;
}

export interface ClosedAll {
  moving: string[];
  deleted?: string[];
}

export interface ConnectedMeetingPermissions {
  can_alter_connected_meetings?: boolean;
  can_switch_connected_meetings?: boolean;
  can_switch_to_parent_meeting?: boolean;
}

export interface Countdown {
  ends_at: string | null;
  in_secs: number;
}

/**
 * How many are here (hidden participants left out): everyone, on the stage, and
 * the audience (off-stage webinar viewers without host rights).
 */
export interface Counts {
  participants: number;
  on_stage: number;
  audience: number;
}

/** Create connected meetings (rooms) under a parent: 1 to MAX_CHILDREN at once. */
export interface Create {
  meetings: NewMeeting[];
}

export interface CreatePoll {
  question: string;
  options: string[];
  anonymous?: boolean;
  hide_votes?: boolean;
}

export interface Delete {
  meeting_ids: string[];
}

export interface Deleted {
  deleted: string;
}

export interface Delivered {
  delivered_to: number;
}

export interface DeliveredToRooms {
  delivered: number;
}

export interface Denied {
  denied: string[];
}

export interface Disabled {
  disabled: string[];
  kinds: ("audio" | "video" | "screenshare")[];
}

/** An empty reply: the request was carried out. */
export type Done = Record<string, never>;

export interface Dropped {
  meetings: RoomId[];
  moving: string[];
}

export interface Edit {
  message_id: string;
  text?: string | null;
  payload?: { [key: string]: unknown } | null;
  file_id?: string | null;
}

export interface EncodingState {
  rid: string;
  active: boolean;
}

/** One encoding of a simulcast track, low to high (docs/media-design.md §6.10). */
export interface EncodingStats {
  rid: string;
  width: number;
  height: number;
  keyframes: number;
  active: boolean;
}

/**
 * To a simulcast publisher: send only the encodings marked active (the server
 * pauses those nobody takes, and resumes one as soon as someone does).
 */
export interface Encodings {
  track_id: string;
  encodings: EncodingState[];
}

export interface Family {
  parent_meeting: RoomListing;
  meetings: RoomListing[];
  timer: Countdown | null;
}

export interface FamilyBroadcast {
  message: string;
  payload: unknown;
  from_peer_id: string | null;
  from_name: string | null;
  from_meeting_id: string | null;
  timestamp: string;
}

export interface Follow {
  store: string;
  keys?: string[] | null;
}

export interface Followed {
  store: string;
  keys: string[];
}

export interface Granted {
  granted: string[];
}

export interface Hand {
  raised: boolean;
}

/** The caller's hand now: when it went up (kept when raised again), or null. */
export interface HandState {
  hand_raised_at: string | null;
}

export interface History {
  before?: string | null;
  after?: string | null;
  limit?: number;
  filter?: "all" | "public" | "private";
  participant_id?: string | null;
}

export interface HistoryPage {
  messages: Message[];
  has_more: boolean;
}

export interface Ice {
  pc: "publish" | "subscribe";
  candidate?: Candidate | null;
}

export interface IceCandidate {
  pc: "publish" | "subscribe";
  candidate: { [key: string]: unknown } | null;
}

export interface InitialMedia {
  audio?: boolean;
  video?: boolean;
  device?: "desktop" | "mobile";
}

export interface Items {
  store: string;
  items: { [key: string]: unknown };
}

export interface Join {
  token: string;
  protocol?: number;
  name?: string | null;
  media?: InitialMedia;
  resume?: Resume | null;
  session_id?: string | null;
}

export interface JoinReply {
  peer_id: string;
  resume_token: string;
  status: "waiting" | "joined";
  self: SelfView;
  room?: RoomState;
  media: MediaConfig;
  protocol: number;
  resumed: boolean;
  nodes: string[];
}

export interface KeyRef {
  store: string;
  key: string;
}

export interface Kicked {
  kicked: string[];
}

export interface KickedAll {
  kicked_participants_count: number;
}

export interface Kinds {
  kinds: ("audio" | "video" | "screenshare")[];
}

export interface Left {
  left: true;
}

export interface LivestreamChanged {
  livestream: LivestreamView;
}

export interface LivestreamUpdated {
  livestream: LivestreamView;
  by_peer_id: string | null;
}

/** The meeting's livestream as its peers see it (no stream key). */
export interface LivestreamView {
  id: string;
  session_id: string;
  status: "INVOKED" | "LIVE" | "IDLE" | "ERRORED";
  playback_url: string;
}

export interface LowerHands {
  peer_ids?: string[] | null;
  all?: boolean;
}

/** The peers whose hand this request lowered (named ones already down are left out). */
export interface Lowered {
  lowered: string[];
}

export interface Media {
  audio?: boolean | null;
  video?: boolean | null;
  screenshare?: boolean | null;
}

/**
 * What a client needs for its peer connections; only `enabled` (false) when the
 * server runs without media.
 */
export interface MediaConfig {
  enabled: boolean;
  ice_servers?: { [key: string]: unknown }[];
  ice_transport_policy?: "all" | "relay";
  codecs?: { [key: string]: string[] };
  max_video_streams?: number;
  simulcast?: boolean;
  video?: Capture;
  screenshare?: Capture;
}

export interface MediaDisabled {
  by_peer_id: string | null;
  kinds: ("audio" | "video" | "screenshare")[];
  locked: boolean;
}

export interface MediaFlags {
  audio: boolean;
  video: boolean;
  screenshare: boolean;
}

export interface MediaPermissions {
  audio?: ProducePermissionOf;
  video?: ProducePermissionOf;
  screenshare?: ProducePermissionOf;
}

export interface MediaState {
  media: MediaFlags;
}

export interface MediaStats {
  peer_id: string;
  tracks: TrackStats[];
  receiving: SlotStats[];
  available: Track[];
  estimate_bps: number;
  probes: ProbeStats;
}

export interface MediaTargets {
  peer_ids: string[];
  kinds: ("audio" | "video" | "screenshare")[];
}

export interface MeetingRef {
  id: string;
  title: string | null;
  transcribe_on_end: boolean;
}

/**
 * A stored chat message. `payload` is `{text}`, `{file_id, name, size, content_type,
 * link}` or the custom object.
 */
export interface Message {
  id: string;
  type: "text" | "image" | "file" | "custom";
  session_id: string;
  participant_id: string;
  peer_id: string;
  display_name: string;
  payload: { [key: string]: unknown };
  private: boolean;
  to: string[];
  reply_to: string | null;
  pinned: boolean;
  edited: boolean;
  created_at: string;
  updated_at: string | null;
}

export interface MessageReply {
  message: Message;
}

export interface Messages {
  messages: Message[];
}

export interface Move {
  to_meeting_id: string;
  peer_ids?: string[];
  participant_ids?: string[];
  preset_name?: string | null;
}

export interface Moving {
  to_meeting_id: string;
  moving: string[];
}

export interface MuteAll {
  allow_unmute?: boolean;
}

export interface NameReply {
  name: string;
}

export interface NewMeeting {
  title?: string | null;
}

/** The parameters of a request that takes none (`data` empty or left out). */
export type NoParams = Record<string, never>;

/** An event that says everything by its name (`self.rejected`). */
export type Nothing = Record<string, never>;

export interface PeerEvent {
  peer: PeerView;
}

export interface PeerLeft {
  peer_id: string;
  reason: "left" | "disconnected" | "kicked" | "ended" | "moved";
}

/** How other peers see a joined peer. */
export interface PeerView {
  peer_id: string;
  participant_id: string;
  custom_participant_id: string;
  name: string;
  picture: string | null;
  preset_name: string;
  stage_status: "OFF_STAGE" | "REQUESTED_TO_JOIN_STAGE" | "ACCEPTED_TO_JOIN_STAGE" | "ON_STAGE";
  audio: boolean;
  video: boolean;
  screenshare: boolean;
  pinned: boolean;
  joined_at: string | null;
  transcribed: boolean;
  hand_raised_at: string | null;
}

/** A page of the participant list (core/room/audience.py). */
export interface PeersList {
  cursor?: string | null;
  limit?: number;
  search?: string | null;
}

/** One page of `peers.list`, in joining order; `next_cursor` null on the last. */
export interface PeersPage {
  peers: PeerView[];
  next_cursor: string | null;
  counts: Counts;
}

export interface PermissionPatch {
  peer_ids: string[];
  patch: { [key: string]: unknown };
}

export interface Permissions {
  accept_waiting_requests?: boolean;
  waiting_room_type?: "SKIP" | "ON_PRIVILEGED_USER_ENTRY" | "SKIP_ON_ACCEPT";
  can_accept_production_requests?: boolean;
  accept_stage_requests?: boolean;
  stage_enabled?: boolean;
  stage_access?: "ALLOWED" | "NOT_ALLOWED" | "CAN_REQUEST" | null;
  media?: MediaPermissions;
  kick_participant?: boolean;
  pin_participant?: boolean;
  disable_participant_audio?: boolean;
  disable_participant_video?: boolean;
  disable_participant_screensharing?: boolean;
  can_spotlight?: boolean;
  can_record?: boolean;
  can_livestream?: boolean;
  can_edit_display_name?: boolean;
  can_change_participant_permissions?: boolean;
  show_participant_list?: boolean;
  hidden_participant?: boolean;
  is_recorder?: boolean;
  recorder_type?: "RECORDER" | "LIVESTREAMER" | "NONE";
  transcription_enabled?: boolean;
  chat?: ChatPermissions;
  polls?: PollPermissions;
  plugins?: PluginPermissions;
  connected_meetings?: ConnectedMeetingPermissions;
}

export interface PermissionsUpdated {
  by_peer_id: string | null;
  patch: { [key: string]: unknown };
}

/** A joined, visible peer of a room in the lists. */
export interface Person {
  id: string;
  peer_id: string;
  custom_participant_id: string;
  preset_name: string;
  display_name: string;
  display_picture_url: string | null;
}

export interface Pin {
  peer_id: string | null;
}

export interface Pinned {
  limit?: number;
}

export interface PinnedPeer {
  pinned_peer_id: string | null;
}

export interface PluginAccess {
  access_control?: "FULL_ACCESS" | "VIEW_ONLY";
  handles_view_only?: boolean;
}

export interface PluginAccessView {
  access_control: "FULL_ACCESS" | "VIEW_ONLY";
  handles_view_only: boolean;
}

export interface PluginActivated {
  plugin: PluginView;
  by_peer_id: string;
}

export interface PluginClosed {
  plugin_id: string;
  active: false;
}

export interface PluginDeactivated {
  plugin_id: string;
  by_peer_id: string | null;
  reason: "closed" | "deleted";
}

/** A plugin with the viewer's own access to it (its preset's `plugins.config`). */
export interface PluginForPeer {
  id: string;
  name: string;
  url: string;
  icon: string | null;
  description: string | null;
  created_at: string;
  updated_at: string;
  active: boolean;
  activated_by: string | null;
  activated_at: string | null;
  access: PluginAccessView;
}

export interface PluginMessage {
  plugin_id: string;
  payload?: unknown;
  to?: string[] | null;
}

export interface PluginMessageEvent {
  plugin_id: string;
  payload: unknown;
  from_peer_id: string;
  timestamp: string;
}

export interface PluginPermissions {
  can_start?: boolean;
  can_close?: boolean;
  can_edit_config?: boolean;
  config?: { [key: string]: unknown };
}

export interface PluginRef {
  plugin_id: string;
}

export interface PluginReply {
  plugin: PluginForPeer;
}

export interface PluginState {
  plugin_id: string;
  key: string;
  value: unknown;
  by_peer_id: string;
}

/** A registry plugin with whether it is active in the session, and since when. */
export interface PluginView {
  id: string;
  name: string;
  url: string;
  icon: string | null;
  description: string | null;
  created_at: string;
  updated_at: string;
  active: boolean;
  activated_by: string | null;
  activated_at: string | null;
}

export interface Plugins {
  plugins: PluginForPeer[];
  active: string[];
}

/** A poll as one viewer may see it (docs/polls-and-qna.md). */
export interface Poll {
  id: string;
  question: string;
  options: PollOption[];
  anonymous: boolean;
  hide_votes: boolean;
  created_by: string;
  created_by_user_id: string | null;
  voted: string[];
  voters: number;
  results_hidden: boolean;
  has_voted: boolean;
  created_at: string;
}

/** `poll.create` by a peer that may not view polls. */
export interface PollCreatedUnseen {
  poll_id: string;
}

export interface PollOption {
  text: string;
  count: number | null;
  votes: Voter[];
}

export interface PollPermissions {
  can_create?: boolean;
  can_vote?: boolean;
  can_view?: boolean;
}

export interface PollReply {
  poll: Poll;
}

export interface PollVoted {
  poll_id: string;
  voters: number;
  counts: number[] | null;
  voted_id: string | null;
  vote: CastVote | null;
}

export interface Polls {
  polls: Poll[];
}

export interface Pong {
  pong: true;
}

/** The subscriber's own limits on what it receives (docs/media.md "Layers"). */
export interface Prefer {
  data_saver?: boolean | null;
  heights?: { [key: string]: unknown } | null;
}

export interface PrivateChat {
  can_send?: boolean;
  can_receive?: boolean;
  text?: boolean;
  files?: boolean;
}

export interface ProbeStats {
  won: number;
  lost: number;
  copies: number;
}

export interface ProducePermissionOf {
  can_produce?: "ALLOWED" | "NOT_ALLOWED" | "CAN_REQUEST";
}

export interface PublicChat {
  can_send?: boolean;
  text?: boolean;
  files?: boolean;
}

export interface Publish {
  sdp: string;
  tracks: { [key: string]: unknown };
}

export interface PublishAnswer {
  sdp: string;
  tracks: PublishedTrack[];
}

export interface PublishCaption {
  peer_id: string;
  id: string;
  transcript: string;
  is_partial?: boolean;
}

export interface Published {
  track: Track;
}

export interface PublishedTrack {
  track_id: string;
  peer_id: string;
  kind: "audio" | "video" | "screenshare";
  codec: string;
  mid: string;
}

export interface Question {
  id: string;
  text: string;
  asked_by: Asker | null;
  upvotes: number;
  upvoted_by: string[];
  status: "OPEN" | "ANSWERED" | "DISMISSED";
  answer: string | null;
  created_at: string;
  resolved_at: string | null;
  resolved_by_peer_id: string | null;
}

export interface QuestionReply {
  question: Question;
}

export interface Questions {
  questions: Question[];
}

export interface React {
  emoji: "\ud83d\udc4d" | "\ud83d\udc4f" | "\u2764\ufe0f" | "\ud83d\ude02" | "\ud83d\ude2e" | "\ud83c\udf89" | "\ud83e\udd14" | "\ud83d\udc4e";
}

export interface Reaction {
  peer_id: string;
  emoji: "\ud83d\udc4d" | "\ud83d\udc4f" | "\u2764\ufe0f" | "\ud83d\ude02" | "\ud83d\ude2e" | "\ud83c\udf89" | "\ud83e\udd14" | "\ud83d\udc4e";
  timestamp: string;
}

export interface Receiving {
  mode: "auto" | "manual";
  track_ids: string[];
}

export interface RecordingStarted {
  recording: RecordingView;
}

export interface RecordingUpdated {
  recording: RecordingView;
  by_peer_id: string | null;
}

/** A recording as the meeting's peers see it. */
export interface RecordingView {
  id: string;
  type: "composite" | "track";
  status: "INVOKED" | "RECORDING" | "PAUSED" | "UPLOADING" | "UPLOADED" | "ERRORED";
  invoked_time: string;
  started_time: string | null;
  stop_reason: string | null;
}

export interface RecordingsChanged {
  recordings: RecordingView[];
}

export interface Ref {
  message_id: string;
}

export interface Rejected {
  rejected: string[];
}

export interface Removed {
  key: string;
  deleted: true;
}

export interface Rename {
  name: string;
}

export interface Renamed {
  id: string;
  title: string | null;
}

export interface RequestError {
  code: "BAD_MESSAGE" | "UNKNOWN_TYPE" | "INVALID" | "FORBIDDEN" | "NOT_FOUND" | "NOT_JOINED" | "CONFLICT" | "RATE_LIMITED" | "INTERNAL" | "UNAUTHORIZED" | "MEETING_INACTIVE" | "PROTOCOL_VERSION" | "RESUME_FAILED" | "ALREADY_JOINED" | "TOO_MANY_PEERS" | "SESSION_ENDED" | "SERVER_BUSY" | "REDIRECT" | "MEETING_MOVING" | "CLUSTER_UNAVAILABLE";
  message: string;
  /** RATE_LIMITED: when the request would be allowed. */
  retry_after_ms?: number;
  /** SERVER_BUSY or MEETING_MOVING join: seconds to wait before joining again. */
  retry_after?: number;
  /** REDIRECT join: the WebSocket URL of the node that runs the meeting; send the same join there. */
  url?: string;
  /** REDIRECT join: that node's base URL (http or https). */
  address?: string;
}

/** Any number or string; the reply carries it back. */
export type RequestId = number | string | null;

export interface Reset {
  pc: "publish" | "subscribe";
}

export interface Resume {
  peer_id: string;
  resume_token: string;
}

export interface RoomEnded {
  by_peer_id: string | null;
  reason: string;
}

export interface RoomId {
  id: string;
}

export interface RoomListing {
  id: string;
  title: string | null;
  participants: Person[];
}

export interface RoomPinned {
  peer_id: string | null;
}

/**
 * The room as one joined peer may see it; `waiting` and `stage_requests` only for
 * the peers who manage them.
 */
export interface RoomState {
  session_id: string;
  meeting: MeetingRef;
  peers: PeerView[];
  pinned_peer_id: string | null;
  last_speaker_peer_id: string | null;
  plugins: PluginForPeer[];
  recordings: RecordingView[];
  livestream: LivestreamView | null;
  large: boolean;
  counts: Counts;
  waiting?: WaitingView[];
  stage_requests?: WaitingView[];
  peers_next_cursor?: string | null;
}

export interface Rooms {
  meetings: Titled[];
}

export interface RoomsBroadcast {
  message: string;
  payload?: unknown;
}

export interface SelfAdmitted {
  self: SelfView;
  room: RoomState;
}

export interface SelfUpdated {
  self: SelfView;
}

/** How a peer sees itself: its PeerView plus what it may do. */
export interface SelfView {
  peer_id: string;
  participant_id: string;
  custom_participant_id: string;
  name: string;
  picture: string | null;
  preset_name: string;
  stage_status: "OFF_STAGE" | "REQUESTED_TO_JOIN_STAGE" | "ACCEPTED_TO_JOIN_STAGE" | "ON_STAGE";
  audio: boolean;
  video: boolean;
  screenshare: boolean;
  pinned: boolean;
  joined_at: string | null;
  transcribed: boolean;
  hand_raised_at: string | null;
  status: "waiting" | "joined";
  hidden: boolean;
  can_publish: MediaFlags;
  locked: ("audio" | "video" | "screenshare")[];
  permissions: Permissions;
  view_type: string;
}

export interface Send {
  type?: "text" | "custom";
  text?: string | null;
  payload?: { [key: string]: unknown } | null;
  to?: string[] | null;
  reply_to?: string | null;
}

export interface SendFile {
  type?: "image" | "file";
  file_id: string;
  to?: string[] | null;
  reply_to?: string | null;
}

export interface Set {
  key: string;
  value: unknown;
}

export interface SetValue {
  store: string;
  key: string;
  value: unknown;
}

export interface SlotStats {
  track_id: string;
  mid: string;
  sent: number;
  dropped: number;
  resent: number;
  skipped: number;
  layer: number | null;
  switches: number;
  encoding?: string | null;
  encoding_switches?: number;
}

export interface Speaker {
  peer_id: string | null;
}

export interface StageRequests {
  requests: WaitingView[];
}

export interface StageState {
  stage_status: "OFF_STAGE" | "REQUESTED_TO_JOIN_STAGE" | "ACCEPTED_TO_JOIN_STAGE" | "ON_STAGE";
}

export interface Start {
  allow_multiple_recordings?: boolean;
}

export interface StartLivestreamParams {
  name?: string | null;
  video_config?: VideoConfig | null;
}

/** A full resync; `room` only once joined. */
export interface State {
  status: "waiting" | "joined";
  self: SelfView;
  room?: RoomState;
}

export interface StateEntry {
  plugin_id: string;
  key: string;
  value: unknown;
}

export interface StateGet {
  plugin_id: string;
  key?: string | null;
}

export interface StateSet {
  plugin_id: string;
  key: string;
  value: unknown;
}

export interface Stats {
  peer_id?: string | null;
}

export interface Steer {
  recording_id?: string | null;
}

export interface StoreChanged {
  store: string;
  changes: (Set | Removed)[];
  by_peer_id: string;
}

export interface StoreRef {
  store: string;
}

export interface Subscribe {
  mode?: "auto" | "manual";
  track_ids?: string[];
  device?: "desktop" | "mobile" | null;
}

export interface SubscribeAnswer {
  sdp: string;
  revision: number;
}

export interface SubscribeOffer {
  sdp: string;
  revision: number;
  tracks: { [key: string]: Track | null };
}

export interface Subscribed {
  store: string;
  keys: string[];
  items: { [key: string]: unknown };
}

export interface Switch {
  to_meeting_id: string;
}

export interface Target {
  question_id: string;
}

export interface Targets {
  peer_ids: string[];
}

export interface Timer {
  close_in_secs: number | null;
  warn_secs?: number;
}

export interface TimerCancelled {
  cancelled: boolean;
}

export interface TimerSet {
  ends_at: string | null;
  in_secs: number;
  warn_secs: number;
  by_peer_id: string | null;
}

/** `connected_meetings.timer` when a timer was cancelled. */
export interface TimerStopped {
  ends_at: null;
  by_peer_id: string | null;
}

export interface Titled {
  id: string;
  title: string | null;
}

/** One published track; `<peer_id>:<kind>` names it. */
export interface Track {
  track_id: string;
  peer_id: string;
  kind: "audio" | "video" | "screenshare";
  codec: string;
}

export interface TrackStats {
  track_id: string;
  peer_id: string;
  kind: "audio" | "video" | "screenshare";
  codec: string;
  encodings?: EncodingStats[];
  frames: number;
  keyframes: number;
  bytes: number;
  fps: number;
  plis: number;
  dropped: number;
  recovered: number;
  forwarding: boolean;
  refused_at_rtp: boolean;
  subscribers: number;
}

/**
 * RealtimeKit's transcript payload (its keys, camelCase), one utterance's text so
 * far (`isPartialTranscript`) or its final text; `id` is the same for both.
 */
export interface Transcript {
  id: string;
  peerId: string;
  userId: string;
  customParticipantId: string | null;
  name: string;
  transcript: string;
  isPartialTranscript: boolean;
  timestamp: string;
}

export interface Transport {
  pc: "publish" | "subscribe";
  state: "connected" | "failed" | "closed";
}

export interface Unpublish {
  kinds: ("audio" | "video" | "screenshare")[];
}

export interface Unpublished {
  track_id: string;
  reason: "unpublished" | "left" | "replaced" | "failed";
}

export interface Update {
  meetings: Renamed[];
}

export interface Updated {
  updated: string[];
}

/**
 * `qna.upvote` by an audience member of a large room: the count, not the question
 * with its list of every upvoter.
 */
export interface UpvoteCounted {
  question_id: string;
  upvotes: number;
}

export interface Upvoted {
  question_id: string;
  upvotes: number;
  upvoted_by: string | null;
}

export interface Value {
  store: string;
  key: string;
  found: boolean;
  value: unknown;
}

export interface VideoConfig {
  width?: number | null;
  height?: number | null;
}

export interface VoiceBacklog {
  track_id: string;
  packets: BacklogPacket[];
}

export interface Vote {
  poll_id: string;
  index: number;
}

/** `poll.vote` by a peer that may not view polls. */
export interface VotedUnseen {
  poll_id: string;
  index: number;
}

export interface Voter {
  id: string;
  name: string;
}

export interface Waiting {
  waiting: WaitingView[];
}

export interface WaitingAdded {
  peer: WaitingView;
}

export interface WaitingRemoved {
  peer_id: string;
  reason: "admitted" | "rejected" | "left" | "disconnected" | "kicked" | "ended";
}

/** A peer in the waiting room, or asking for the stage, as managers see it. */
export interface WaitingView {
  peer_id: string;
  participant_id: string;
  custom_participant_id: string;
  name: string;
  picture: string | null;
  preset_name: string;
}

export interface WaitlistTargets {
  peer_ids?: string[] | null;
  all?: boolean;
}

export interface WholeState {
  plugin_id: string;
  state: { [key: string]: unknown };
}

/** Client → server, by `type`. */
export type Request =
  | { id?: RequestId; type: "join"; data: Join }
  | { id?: RequestId; type: "ping"; data?: NoParams | null }
  | { id?: RequestId; type: "leave"; data?: NoParams | null }
  | { id?: RequestId; type: "state"; data?: NoParams | null }
  | { id?: RequestId; type: "self.rename"; data: Rename }
  | { id?: RequestId; type: "self.media"; data?: Media | null }
  | { id?: RequestId; type: "peer.pin"; data: Pin }
  | { id?: RequestId; type: "waitlist.list"; data?: NoParams | null }
  | { id?: RequestId; type: "waitlist.admit"; data?: WaitlistTargets | null }
  | { id?: RequestId; type: "waitlist.reject"; data?: WaitlistTargets | null }
  | { id?: RequestId; type: "stage.request"; data?: NoParams | null }
  | { id?: RequestId; type: "stage.cancel_request"; data?: NoParams | null }
  | { id?: RequestId; type: "stage.list_requests"; data?: NoParams | null }
  | { id?: RequestId; type: "stage.grant"; data: Targets }
  | { id?: RequestId; type: "stage.deny"; data: Targets }
  | { id?: RequestId; type: "stage.join"; data?: NoParams | null }
  | { id?: RequestId; type: "stage.leave"; data?: NoParams | null }
  | { id?: RequestId; type: "stage.kick"; data: Targets }
  | { id?: RequestId; type: "host.kick"; data: Targets }
  | { id?: RequestId; type: "host.kick_all"; data?: NoParams | null }
  | { id?: RequestId; type: "host.disable_media"; data: MediaTargets }
  | { id?: RequestId; type: "host.allow_media"; data: MediaTargets }
  | { id?: RequestId; type: "host.mute_all"; data?: MuteAll | null }
  | { id?: RequestId; type: "host.disable_all_video"; data?: NoParams | null }
  | { id?: RequestId; type: "host.update_permissions"; data: PermissionPatch }
  | { id?: RequestId; type: "peers.list"; data?: PeersList | null }
  | { id?: RequestId; type: "broadcast"; data: Broadcast }
  | { id?: RequestId; type: "chat.send"; data?: Send | null }
  | { id?: RequestId; type: "chat.send_file"; data: SendFile }
  | { id?: RequestId; type: "chat.edit"; data: Edit }
  | { id?: RequestId; type: "chat.delete"; data: Ref }
  | { id?: RequestId; type: "chat.pin"; data: Ref }
  | { id?: RequestId; type: "chat.unpin"; data: Ref }
  | { id?: RequestId; type: "chat.history"; data?: History | null }
  | { id?: RequestId; type: "chat.pinned"; data?: Pinned | null }
  | { id?: RequestId; type: "poll.create"; data: CreatePoll }
  | { id?: RequestId; type: "poll.vote"; data: Vote }
  | { id?: RequestId; type: "poll.list"; data?: NoParams | null }
  | { id?: RequestId; type: "qna.ask"; data: Ask }
  | { id?: RequestId; type: "qna.upvote"; data: Target }
  | { id?: RequestId; type: "qna.answer"; data: Answer }
  | { id?: RequestId; type: "qna.dismiss"; data: Target }
  | { id?: RequestId; type: "qna.list"; data?: NoParams | null }
  | { id?: RequestId; type: "plugin.list"; data?: NoParams | null }
  | { id?: RequestId; type: "plugin.activate"; data: PluginRef }
  | { id?: RequestId; type: "plugin.deactivate"; data: PluginRef }
  | { id?: RequestId; type: "plugin.message"; data: PluginMessage }
  | { id?: RequestId; type: "plugin.state.set"; data: StateSet }
  | { id?: RequestId; type: "plugin.state.get"; data: StateGet }
  | { id?: RequestId; type: "store.set"; data: SetValue }
  | { id?: RequestId; type: "store.update"; data: SetValue }
  | { id?: RequestId; type: "store.delete"; data: KeyRef }
  | { id?: RequestId; type: "store.bulk_set"; data: BulkSet }
  | { id?: RequestId; type: "store.bulk_delete"; data: BulkDelete }
  | { id?: RequestId; type: "store.get"; data: KeyRef }
  | { id?: RequestId; type: "store.get_all"; data: StoreRef }
  | { id?: RequestId; type: "store.subscribe"; data: Follow }
  | { id?: RequestId; type: "store.unsubscribe"; data: Follow }
  | { id?: RequestId; type: "media.publish"; data: Publish }
  | { id?: RequestId; type: "media.unpublish"; data: Unpublish }
  | { id?: RequestId; type: "media.subscribe_answer"; data: SubscribeAnswer }
  | { id?: RequestId; type: "media.ice"; data: Ice }
  | { id?: RequestId; type: "media.subscribe"; data?: Subscribe | null }
  | { id?: RequestId; type: "media.reset"; data: Reset }
  | { id?: RequestId; type: "media.stats"; data?: Stats | null }
  | { id?: RequestId; type: "media.prefer"; data?: Prefer | null }
  | { id?: RequestId; type: "media.backlog"; data: Backlog }
  | { id?: RequestId; type: "connected.list"; data?: NoParams | null }
  | { id?: RequestId; type: "connected.create"; data: Create }
  | { id?: RequestId; type: "connected.update"; data: Update }
  | { id?: RequestId; type: "connected.delete"; data: Delete }
  | { id?: RequestId; type: "connected.move"; data: Move }
  | { id?: RequestId; type: "connected.switch"; data: Switch }
  | { id?: RequestId; type: "connected.assign"; data: Assign }
  | { id?: RequestId; type: "connected.broadcast"; data: RoomsBroadcast }
  | { id?: RequestId; type: "connected.close_all"; data?: CloseAll | null }
  | { id?: RequestId; type: "connected.timer"; data: Timer }
  | { id?: RequestId; type: "recording.start"; data?: Start | null }
  | { id?: RequestId; type: "recording.stop"; data?: Steer | null }
  | { id?: RequestId; type: "recording.pause"; data?: Steer | null }
  | { id?: RequestId; type: "recording.resume"; data?: Steer | null }
  | { id?: RequestId; type: "transcript.publish"; data: PublishCaption }
  | { id?: RequestId; type: "self.hand"; data: Hand }
  | { id?: RequestId; type: "host.lower_hands"; data?: LowerHands | null }
  | { id?: RequestId; type: "reaction.send"; data: React }
  | { id?: RequestId; type: "livestream.start"; data?: StartLivestreamParams | null }
  | { id?: RequestId; type: "livestream.stop"; data?: NoParams | null };

export type RequestType = Request["type"];

/** Each type's `data`. */
export type RequestData = { [K in RequestType]: Extract<Request, { type: K }> extends { data?: infer D } ? D : never };

/** The `data` of the success reply to each request type. */
export interface ReplyData {
  "join": JoinReply;
  "ping": Pong;
  "leave": Left;
  "state": State;
  "self.rename": NameReply;
  "self.media": MediaState;
  "peer.pin": PinnedPeer;
  "waitlist.list": Waiting;
  "waitlist.admit": Admitted;
  "waitlist.reject": Rejected;
  "stage.request": StageState;
  "stage.cancel_request": StageState;
  "stage.list_requests": StageRequests;
  "stage.grant": Granted;
  "stage.deny": Denied;
  "stage.join": StageState;
  "stage.leave": StageState;
  "stage.kick": Kicked;
  "host.kick": Kicked;
  "host.kick_all": KickedAll;
  "host.disable_media": Disabled;
  "host.allow_media": Allowed;
  "host.mute_all": AllOff;
  "host.disable_all_video": AllOff;
  "host.update_permissions": Updated;
  "peers.list": PeersPage;
  "broadcast": Delivered;
  "chat.send": MessageReply;
  "chat.send_file": MessageReply;
  "chat.edit": MessageReply;
  "chat.delete": Deleted;
  "chat.pin": MessageReply;
  "chat.unpin": MessageReply;
  "chat.history": HistoryPage;
  "chat.pinned": Messages;
  "poll.create": PollReply | PollCreatedUnseen;
  "poll.vote": PollReply | VotedUnseen;
  "poll.list": Polls;
  "qna.ask": QuestionReply;
  "qna.upvote": QuestionReply | UpvoteCounted;
  "qna.answer": QuestionReply;
  "qna.dismiss": QuestionReply;
  "qna.list": Questions;
  "plugin.list": Plugins;
  "plugin.activate": PluginReply;
  "plugin.deactivate": PluginClosed;
  "plugin.message": Delivered;
  "plugin.state.set": StateEntry;
  "plugin.state.get": WholeState | StateEntry;
  "store.set": Changes;
  "store.update": Changes;
  "store.delete": Changes;
  "store.bulk_set": Changes;
  "store.bulk_delete": Changes;
  "store.get": Value;
  "store.get_all": Items;
  "store.subscribe": Subscribed;
  "store.unsubscribe": Followed;
  "media.publish": PublishAnswer;
  "media.unpublish": Kinds;
  "media.subscribe_answer": Done;
  "media.ice": Done;
  "media.subscribe": Receiving;
  "media.reset": Done;
  "media.stats": MediaStats;
  "media.prefer": Done;
  "media.backlog": VoiceBacklog;
  "connected.list": Family;
  "connected.create": Rooms;
  "connected.update": Rooms;
  "connected.delete": Dropped;
  "connected.move": Moving;
  "connected.switch": Moving;
  "connected.assign": Assignments;
  "connected.broadcast": DeliveredToRooms;
  "connected.close_all": ClosedAll;
  "connected.timer": TimerSet | TimerCancelled;
  "recording.start": RecordingStarted;
  "recording.stop": RecordingsChanged;
  "recording.pause": RecordingsChanged;
  "recording.resume": RecordingsChanged;
  "transcript.publish": Delivered;
  "self.hand": HandState;
  "host.lower_hands": Lowered;
  "reaction.send": Delivered;
  "livestream.start": LivestreamChanged;
  "livestream.stop": LivestreamChanged;
}

/** Server → client: the success reply to a request of type `K`. */
export interface Reply<K extends RequestType = RequestType> {
  type: "reply";
  id: RequestId;
  ok: true;
  data: ReplyData[K];
}

/** Server → client: a request refused. */
export type ErrorReply = { type: "reply"; id: RequestId; ok: false; error: RequestError };

/** Server → client, by `event`. */
export type ServerEvent =
  | { type: "event"; event: "peer.joined"; data: PeerEvent }
  | { type: "event"; event: "peer.left"; data: PeerLeft }
  | { type: "event"; event: "peer.updated"; data: PeerEvent }
  | { type: "event"; event: "self.updated"; data: SelfUpdated }
  | { type: "event"; event: "self.admitted"; data: SelfAdmitted }
  | { type: "event"; event: "self.rejected"; data: Nothing }
  | { type: "event"; event: "self.kicked"; data: ByPeer }
  | { type: "event"; event: "room.ended"; data: RoomEnded }
  | { type: "event"; event: "room.pinned"; data: RoomPinned }
  | { type: "event"; event: "waitlist.added"; data: WaitingAdded }
  | { type: "event"; event: "waitlist.removed"; data: WaitingRemoved }
  | { type: "event"; event: "stage.requests"; data: StageRequests }
  | { type: "event"; event: "stage.granted"; data: ByPeer }
  | { type: "event"; event: "stage.denied"; data: ByPeer }
  | { type: "event"; event: "stage.kicked"; data: ByPeer }
  | { type: "event"; event: "media.disabled"; data: MediaDisabled }
  | { type: "event"; event: "permissions.updated"; data: PermissionsUpdated }
  | { type: "event"; event: "broadcast"; data: BroadcastEvent }
  | { type: "event"; event: "audience.delta"; data: AudienceDelta }
  | { type: "event"; event: "chat.message"; data: MessageReply }
  | { type: "event"; event: "chat.updated"; data: ChatUpdated }
  | { type: "event"; event: "chat.deleted"; data: ChatDeleted }
  | { type: "event"; event: "poll.created"; data: PollReply }
  | { type: "event"; event: "poll.voted"; data: PollVoted }
  | { type: "event"; event: "poll.updated"; data: PollReply }
  | { type: "event"; event: "qna.asked"; data: QuestionReply }
  | { type: "event"; event: "qna.upvoted"; data: Upvoted }
  | { type: "event"; event: "qna.updated"; data: QuestionReply }
  | { type: "event"; event: "plugin.activated"; data: PluginActivated }
  | { type: "event"; event: "plugin.deactivated"; data: PluginDeactivated }
  | { type: "event"; event: "plugin.message"; data: PluginMessageEvent }
  | { type: "event"; event: "plugin.state"; data: PluginState }
  | { type: "event"; event: "store.changed"; data: StoreChanged }
  | { type: "event"; event: "media.subscribe_offer"; data: SubscribeOffer }
  | { type: "event"; event: "media.ice"; data: IceCandidate }
  | { type: "event"; event: "media.published"; data: Published }
  | { type: "event"; event: "media.unpublished"; data: Unpublished }
  | { type: "event"; event: "media.speaker"; data: Speaker }
  | { type: "event"; event: "media.transport"; data: Transport }
  | { type: "event"; event: "media.encodings"; data: Encodings }
  | { type: "event"; event: "meeting.changing"; data: Changing }
  | { type: "event"; event: "meeting.changed"; data: Changed }
  | { type: "event"; event: "meeting.change_failed"; data: ChangeFailed }
  | { type: "event"; event: "connected_meetings.updated"; data: Family }
  | { type: "event"; event: "connected_meetings.broadcast"; data: FamilyBroadcast }
  | { type: "event"; event: "connected_meetings.timer"; data: TimerSet | TimerStopped }
  | { type: "event"; event: "connected_meetings.closing"; data: Countdown }
  | { type: "event"; event: "recording.updated"; data: RecordingUpdated }
  | { type: "event"; event: "transcript"; data: Transcript }
  | { type: "event"; event: "hand.lowered"; data: ByPeer }
  | { type: "event"; event: "reaction"; data: Reaction }
  | { type: "event"; event: "livestream.updated"; data: LivestreamUpdated };

export type EventName = ServerEvent["event"];

/** Each event's `data`. */
export type EventData = { [K in EventName]: Extract<ServerEvent, { event: K }> extends { data?: infer D } ? D : never };

/** Anything the server sends; `type` tells them apart, then `ok` or `event`. */
export type ServerMessage = Reply | ErrorReply | ServerEvent;
