// The WIT's types as codecs between the JSON shapes of rules.js and jco's values,
// and the exports rules.js wraps: [interface, jco function, params, {returns} or
// {ok, err}]. Every type of ../../wit is here.

const camel = (kebab) => kebab.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());

const string = {
  lower: (v) => {
    if (typeof v !== 'string') throw new TypeError(`expected a string, got ${JSON.stringify(v)}`);
    return v;
  },
  lift: (v) => v,
};
const bool = { lower: (v) => Boolean(v), lift: (v) => v };
const f64 = { lower: (v) => Number(v), lift: (v) => v };
const enumeration = string;
// jco passes u64 as BigInt; the JSON shape is a number (the values here fit).
const u64 = { lower: (v) => BigInt(v), lift: (v) => Number(v) };
const unit = { lower: () => undefined, lift: () => null };
const tuple = (...ts) => ({
  lower: (v) => ts.map((t, i) => t.lower(v[i])),
  lift: (v) => ts.map((t, i) => t.lift(v[i])),
});
// A result inside a record or a list (a top-level one is the export's {ok, err}).
const result = (ok, err) => ({
  lower: (v) => ('ok' in v ? { tag: 'ok', val: ok.lower(v.ok) } : { tag: 'err', val: err.lower(v.err) }),
  lift: (v) => (v.tag === 'ok' ? { ok: ok.lift(v.val) } : { err: err.lift(v.val) }),
});
// list<u8>: jco passes a Uint8Array.
const bytes = { lower: (v) => Uint8Array.from(v), lift: (v) => Array.from(v) };
const flags = (names) => ({
  lower: (v) => Object.fromEntries(names.map((n) => [camel(n), v.includes(n)])),
  lift: (v) => names.filter((n) => v[camel(n)]),
});
const list = (t) => ({ lower: (v) => v.map(t.lower), lift: (v) => Array.from(v, t.lift) });
const option = (t) => ({
  lower: (v) => (v === null || v === undefined ? undefined : t.lower(v)),
  lift: (v) => (v === null || v === undefined ? null : t.lift(v)),
});
const record = (fields) => {
  const entries = Object.entries(fields).map(([k, t]) => [k, camel(k), t]);
  return {
    lower: (v) => {
      const out = {};
      for (const [k, c, t] of entries) {
        if (!(k in v)) throw new TypeError(`missing record field ${JSON.stringify(k)}`);
        out[c] = t.lower(v[k]);
      }
      return out;
    },
    lift: (v) => {
      const out = {};
      for (const [k, c, t] of entries) out[k] = t.lift(v[c]);
      return out;
    },
  };
};
const variant = (cases) => ({
  lower: (v) => (cases[v.tag] ? { tag: v.tag, val: cases[v.tag].lower(v.val) } : { tag: v.tag }),
  lift: (v) => (cases[v.tag] ? { tag: v.tag, val: cases[v.tag].lift(v.val) } : { tag: v.tag }),
});

const T = {};
T.database = record({ name: string, path: string, directory: string, 'plugin-config': option(string) });
T.credentials = record({
  'access-key-id': string,
  'secret-access-key': string,
  'session-token': option(string),
});
T.request = record({
  'top-level': option(string),
  databases: list(T.database),
  'working-directory': string,
  'litestream-version': string,
  'control-socket': option(string),
});
T.credentialsSource = variant({ none: null, file: string, command: list(string) });
T.durableDatabase = record({ name: string, 'timeout-seconds': f64 });
T.leaseSettings = record({
  'ttl-seconds': f64,
  'renew-seconds': f64,
  'margin-seconds': f64,
  'grace-seconds': f64,
  'poll-seconds': f64,
  owner: option(string),
});
T.plan = record({
  replicated: list(string),
  'start-litestream': bool,
  'credentials-source': T.credentialsSource,
  'refresh-interval-seconds': option(f64),
  'metrics-addr': option(string),
  line: enumeration,
  warnings: list(string),
  'first-sync-seconds': f64,
  'health-window-seconds': f64,
  'stop-grace-seconds': f64,
  durable: list(T.durableDatabase),
  lease: option(T.leaseSettings),
});
T.configError = record({ database: option(string), key: string, problem: string, hint: option(string) });
T.envVar = record({ name: string, value: string });
T.replicaCount = record({ path: string, replicas: f64 });
T.startupProof = variant({ 'control-socket': null, replicas: list(T.replicaCount) });
T.rendered = record({
  document: string,
  environment: list(T.envVar),
  secrets: list(string),
  startup: T.startupProof,
});
T.configured = record({ plan: T.plan, rendered: option(T.rendered) });
T.credentialsError = variant({ 'not-json': string, 'not-an-object': null, 'missing-key': string, 'wrong-type': string });
T.credentialsChange = record({
  changed: bool,
  fields: flags(['access-key-id', 'secret-access-key', 'session-token']),
});
T.operation = record({ 'replica-type': string, operation: string, value: f64 });
T.namedValue = record({ name: string, replica: option(string), status: option(string), value: f64 });
T.databaseMetrics = record({ database: string, values: list(T.namedValue) });
T.digest = record({
  goroutines: option(f64),
  threads: option(f64),
  'operation-bytes': list(T.operation),
  'operation-counts': list(T.operation),
  databases: list(T.databaseMetrics),
});
T.logEntry = record({ 'age-seconds': f64, text: string });
T.databaseEvidence = record({
  name: string,
  path: string,
  'file-exists': bool,
});
T.durabilityEvidence = record({
  name: string,
  waiting: f64,
  'longest-wait-seconds': f64,
  'timeout-seconds': f64,
  failing: option(string),
});
T.conflict = record({ name: string, reason: string });
T.healthInput = record({
  state: enumeration,
  'uptime-seconds': f64,
  databases: list(T.databaseEvidence),
  logs: list(T.logEntry),
  'window-seconds': f64,
  durability: list(T.durabilityEvidence),
  conflicts: list(T.conflict),
});
T.behind = record({ database: string, why: string });
T.verdict = record({ ok: bool, reason: string, behind: list(T.behind) });
T.startup = enumeration;
T.stopEvidence = record({
  running: bool,
  'exit-code': option(f64),
  interrupted: bool,
  killed: bool,
  output: list(string),
  databases: list(T.databaseEvidence),
});
T.unconfirmed = record({ name: string, reason: string });
T.evidencePaths = record({ 'position-source': string, 'shadow-directory': option(string), 'wal-index': string });
T.walPosition = record({ generation: string, index: u64, offset: u64 });
T.position = variant({ txid: u64, wal: T.walPosition });
T.pendingChange = record({ position: T.position, since: f64 });
T.lagState = record({
  pending: list(T.pendingChange),
  replica: option(T.position),
  'replicated-at': option(f64),
  'unknown-since': option(f64),
});
T.fileHead = record({ name: string, head: bytes });
T.shadowFiles = record({
  generation: option(string),
  'newest-file': option(T.fileHead),
  'newest-size': u64,
});
T.localFiles = variant({ ltx: option(T.fileHead), shadow: T.shadowFiles });
T.observation = record({
  name: string,
  path: string,
  state: T.lagState,
  files: T.localFiles,
  'wal-index': bytes,
  socket: option(result(string, string)),
});
T.lagReport = record({
  name: string,
  state: enumeration,
  'lag-seconds': f64,
  local: option(T.position),
  replica: option(T.position),
  'behind-by': option(u64),
  'replicated-at': option(f64),
  'unknown-since': option(f64),
  'observed-at': f64,
  reason: string,
});
T.tracked = record({ report: T.lagReport, state: T.lagState });
T.localFile = record({ name: string, size: u64 });
T.writersEvidence = record({ listing: string, 'local-files': list(T.localFile), generation: option(string) });
T.writersVerdict = variant({ alone: null, 'another-writer': string, unknown: string });
T.verifyEvidence = record({
  'sentinel-error': option(string),
  restored: bool,
  'restore-error': option(string),
  'integrity-ok': option(bool),
  'sentinel-found': bool,
  'timed-out': bool,
  'waited-seconds': f64,
});
T.verifyVerdict = record({ outcome: enumeration, reason: string });
T.lastVerification = record({ database: string, outcome: option(enumeration), 'age-seconds': option(f64) });
T.syncAnswer = record({ status: f64, body: string });
T.syncOutcome = variant({ durable: u64, 'not-durable': string });
T.target = record({ name: string, exists: bool });
T.decision = record({ database: string, step: variant({ restore: null, skip: string }) });
T.restoreOptions = record({ force: bool, 'only-missing': bool });
T.emptyReplicaVerdict = record({ outcome: enumeration, message: string });
T.followTarget = record({ name: string, path: string, replica: string });
T.followEvent = variant({ following: u64, applied: u64, failed: string, stopped: null, 'empty-replica': null, other: null });
T.followerMemory = record({
  'confirmed-at': option(f64),
  txid: option(u64),
  since: f64,
  listings: list(tuple(f64, u64)),
});
T.followerLook = record({
  name: string,
  now: f64,
  'listed-at': f64,
  replica: result(option(u64), string),
  follower: result(u64, string),
  memory: T.followerMemory,
  'stuck-after-seconds': f64,
});
T.followerReport = record({
  name: string,
  state: enumeration,
  'staleness-seconds': option(f64),
  'follower-txid': option(u64),
  'replica-txid': option(u64),
  'confirmed-at': option(f64),
  reason: string,
  'restore-again': bool,
  memory: T.followerMemory,
});
T.registration = record({ path: string, 'replica-url': string });
T.admission = record({
  databases: list(T.database),
  plan: T.plan,
  refused: list(T.configError),
  rendered: option(T.rendered),
});
T.change = variant({
  unchanged: null,
  start: null,
  stop: null,
  'in-place': record({ unregister: list(string), register: list(T.registration) }),
  restart: string,
});

T.s3Place = record({
  bucket: string,
  key: string,
  endpoint: option(string),
  region: option(string),
  'path-style': bool,
  'skip-verify': bool,
  'access-key-id': option(string),
  'secret-access-key': option(string),
  'session-token': option(string),
});
T.lockPlace = variant({ s3: T.s3Place, file: string });
T.leaseTarget = record({ path: string, place: T.lockPlace });
T.lock = record({ generation: u64, 'expires-at': f64, owner: option(string) });
T.lockSeen = variant({ absent: null, present: tuple(string, string) });
T.take = record({ 'if-match': option(string), body: string, lock: T.lock });
T.sight = variant({ free: T.take, held: T.lock, unreadable: string });
T.renewalVerdict = variant({ renewed: f64, retry: null, lost: string });

// method: [interface, jco function, params, {returns} or {ok, err}]
export const EXPORTS = {
  check: ['configuration', 'check', [T.request], { ok: T.plan, err: list(T.configError) }],
  render: ['configuration', 'render', [T.request, option(T.credentials)], { ok: T.rendered, err: list(T.configError) }],
  configure: [
    'configuration',
    'configure',
    [T.request, option(T.credentials)],
    { ok: T.configured, err: list(T.configError) },
  ],
  redact: ['configuration', 'redact', [string], { ok: string, err: string }],
  parseCredentials: ['configuration', 'parseCredentials', [string], { ok: T.credentials, err: T.credentialsError }],
  compareCredentials: ['configuration', 'compareCredentials', [T.credentials, T.credentials], { returns: T.credentialsChange }],
  digestMetrics: ['metrics', 'digestMetrics', [string, list(T.database)], { ok: T.digest, err: string }],
  assessHealth: ['health', 'assessHealth', [T.healthInput], { returns: T.verdict }],
  hint: ['health', 'hint', [string], { returns: option(string) }],
  judgeStop: ['health', 'judgeStop', [enumeration, T.stopEvidence], { returns: list(T.unconfirmed) }],
  startupProgress: ['health', 'startupProgress', [T.startupProof, list(string)], { returns: T.startup }],
  whereToLook: ['replication', 'whereToLook', [enumeration, string], { returns: T.evidencePaths }],
  track: ['replication', 'track', [enumeration, f64, list(string), list(T.observation)], { returns: list(T.tracked) }],
  parseMaxLag: ['replication', 'parseMaxLag', [string], { ok: f64, err: string }],
  requireCaughtUp: ['replication', 'requireCaughtUp', [list(T.lagReport), f64, f64], { ok: unit, err: string }],
  judgeWriters: ['replication', 'judgeWriters', [enumeration, T.writersEvidence], { returns: T.writersVerdict }],
  judgeVerification: ['restore', 'judgeVerification', [T.verifyEvidence], { returns: T.verifyVerdict }],
  explainRestoreFailure: ['restore', 'explainRestoreFailure', [string, option(string)], { returns: string }],
  requireVerified: ['restore', 'requireVerified', [list(T.lastVerification), f64], { ok: unit, err: string }],
  judgeSync: ['durability', 'judgeSync', [result(T.syncAnswer, string)], { returns: T.syncOutcome }],
  planRestore: ['restore', 'planRestore', [list(T.target), list(string), T.restoreOptions], { ok: list(T.decision), err: string }],
  emptyReplica: ['restore', 'emptyReplica', [string, bool], { returns: T.emptyReplicaVerdict }],
  planFollow: ['follow', 'planFollow', [T.request], { ok: list(T.followTarget), err: list(T.configError) }],
  followProgress: ['follow', 'followProgress', [string], { returns: T.followEvent }],
  replicaNewest: ['follow', 'replicaNewest', [string], { ok: option(u64), err: string }],
  parseSidecar: ['follow', 'parseSidecar', [string], { ok: u64, err: string }],
  judgeFollower: ['follow', 'judgeFollower', [T.followerLook], { returns: T.followerReport }],
  requireFresh: ['follow', 'requireFresh', [list(T.followerReport), f64, f64], { ok: unit, err: string }],
  admit: ['membership', 'admit', [T.request, option(T.credentials)], { ok: T.admission, err: list(T.configError) }],
  planChange: ['membership', 'planChange', [enumeration, option(string), option(string)], { returns: T.change }],
  requireAdmitted: ['membership', 'requireAdmitted', [list(T.configError)], { ok: unit, err: string }],
  targets: ['lease', 'targets', [T.rendered], { ok: list(T.leaseTarget), err: string }],
  route: ['lease', 'route', [string, list(tuple(string, string))], { ok: string, err: string }],
  look: ['lease', 'look', [T.leaseSettings, T.lockSeen, string, f64], { returns: T.sight }],
  renewal: ['lease', 'renewal', [T.leaseSettings, T.lock, f64], { returns: tuple(string, T.lock) }],
  leaseHealth: ['lease', 'leaseHealth', [enumeration, option(string)], { ok: option(string), err: string }],
  judgeRenewal: ['lease', 'judgeRenewal', [T.leaseSettings, enumeration, f64, f64, f64], { returns: T.renewalVerdict }],
};

