/**
 * The answers of the routes as valibot schemas, defined once: the OpenAPI document
 * (core/openapi.ts) is generated from them, and the conformance test validates real answers
 * against that document. Shapes that are ours or the docker CLI's are closed (`strictObject`:
 * JSON Schema `additionalProperties: false`), so an undocumented field is an error; the Engine's
 * own inspect JSON (get-app-info, get-node-info) and problem details (RFC 9457 allows extension
 * members) are open objects with their documented fields.
 *
 * @example
 * v.is(ContainerStatus, (await call('GET', '/demo/get-app-status?name=busybox--alice')).body) // true
 *
 * @module
 */
import * as v from 'valibot';
import { IMAGE_REQUEST_STATES, UPTIME_DURATIONS } from './schemas.ts';
import { STATUS_OF } from './http.ts';
import type { ErrorCode } from './errors.ts';

/** A string field with a description (the docker CLI prints every column as text). */
const s = (doc: string) => v.pipe(v.string(), v.description(doc));
const n = (doc: string) => v.pipe(v.number(), v.description(doc));
const ns = (doc: string) => v.pipe(v.nullable(v.string()), v.description(doc));

/** Every error code (core/errors.ts), in the order of the status table. */
export const ERROR_CODES = Object.keys(STATUS_OF) as ErrorCode[];

/** RFC 9457 problem details, `application/problem+json`; further members depend on the code. */
export const Problem = v.pipe(
  v.looseObject({
    type: s('https://src-container-api.dev/errors/{code}'),
    title: s('the HTTP status text'),
    status: n('the HTTP status'),
    code: v.pipe(v.picklist(ERROR_CODES), v.description('stable machine-readable code (README, "Errors")')),
    detail: s('what went wrong, for humans'),
    parameter: v.optional(s('invalid_parameter: the query parameter')),
    rule: v.optional(s('invalid_parameter: the rule it broke')),
    value: v.optional(v.unknown()),
    name: v.optional(s('the app concerned (app_exists: the app that exists)')),
    requested: v.optional(s('app_exists: the name asked for (differs from `name` in case only, or equals it)')),
    requestId: v.optional(s('internal_error: the request ID to quote')),
    results: v.optional(v.pipe(v.array(v.unknown()), v.description('a batch where every item failed: each item\u2019s entry'))),
  }),
  v.title('Problem'),
  v.description('RFC 9457 problem details. Members beyond these depend on the code (e.g. `image`, `state`, `hostname`, `engineStatus`).'),
);

/** A failed item inside a batch answer: the fields naming it, and its problem. */
export const BatchFailure = v.pipe(
  v.strictObject({
    name: v.optional(s('the app')),
    Service: v.optional(s('swarm stats: the service')),
    Task: v.optional(s('swarm stats: the task ID')),
    Node: v.optional(s('swarm stats: the node hostname')),
    error: Problem,
  }),
  v.title('BatchFailure'),
);

// --- lifecycle ----------------------------------------------------------------------------------

/** `{name, id, state}`: the answer of start, stop, pause, unpause, restart, kill and delete. */
export const AppState = v.pipe(
  v.strictObject({
    name: s('app name IMAGE--USER'),
    id: s('container ID (swarm: service ID)'),
    state: s('state after the action: running, exited, paused, deleted, removed (swarm kill), …'),
  }),
  v.title('AppState'),
);

/** create-app in solo mode. */
export const CreatedContainer = v.pipe(
  v.strictObject({
    name: s('app name IMAGE--USER'),
    id: s('container ID'),
    state: v.pipe(v.literal('created'), v.description('created, not started')),
    image: s('the image reference as given'),
    imageId: s('the image ID (sha256:…)'),
    ports: v.pipe(v.array(v.string()), v.description("the image's exposed ports, e.g. 80/tcp, published on the facility's publish host")),
    url: s("the app's stable URL behind the gateway (get-app-url; open-app signs a browser in)"),
  }),
  v.title('CreatedContainer'),
);

/** create-app in swarm mode. */
export const CreatedService = v.pipe(
  v.strictObject({
    name: s('app name IMAGE--USER'),
    id: s('service ID'),
    state: v.pipe(v.literal('pending'), v.description('the swarm schedules it at once')),
    image: s('the image reference as given'),
    imageId: s('the image ID (sha256:…)'),
    ports: v.pipe(v.array(v.string()), v.description("the image's exposed ports (host mode)")),
    mode: v.pipe(v.picklist(['replicated-job', 'replicated']), v.description('service mode (facility config swarm.serviceMode)')),
    replicas: n('tasks (facility config swarm.replicas)'),
    url: s("the app's stable URL behind the gateway (get-app-url)"),
  }),
  v.title('CreatedService'),
);

/** get-app-url. */
export const AppUrl = v.pipe(
  v.strictObject({
    name: s('app name IMAGE--USER'),
    url: s("the app's stable URL behind the gateway: http(s)://<label>.<apps domain>/, or …/apps/{facility}/{app}/ in path mode"),
  }),
  v.title('AppUrl'),
);

/** open-app. */
export const AppLink = v.pipe(
  v.strictObject({
    name: s('app name IMAGE--USER'),
    url: s("the app's URL with a single-use ticket (…/_src/auth?ticket=…): following it signs the browser in to this app only"),
    appUrl: s("the app's stable URL (get-app-url)"),
    expiresInSeconds: n('how long the ticket is valid (gateway.ticketSeconds)'),
  }),
  v.title('AppLink'),
);

/** hard-reset-app. */
export const HardReset = v.pipe(
  v.strictObject({
    name: s('app name IMAGE--USER'),
    id: s('the new container ID'),
    state: s('state of the new container'),
    previousId: s('the replaced container ID'),
    image: v.strictObject({
      source: v.pipe(v.picklist(['original-image', 'reference']), v.description('original-image: recreated from the original image ID; reference: from the reference (that image was gone)')),
      id: s('the image ID used'),
      reference: s('the original image reference'),
    }),
  }),
  v.title('HardReset'),
);

// --- docker CLI shapes (core/format) -------------------------------------------------------------

const Platform = v.pipe(
  v.strictObject({
    architecture: s('e.g. amd64'),
    os: s('e.g. linux'),
    'os.version': v.optional(v.string()),
    'os.features': v.optional(v.array(v.string())),
    variant: v.optional(v.string()),
  }),
  v.title('OciPlatform'),
);

/** `docker ps -a --format json`, one container (core/format/containers.ts). */
export const ContainerStatus = v.pipe(
  v.strictObject({
    Command: s('quoted command, truncated to 20 characters with …'),
    CreatedAt: s('Go time.String() of the creation time, e.g. 2026-11-29 12:00:00 +0000 UTC'),
    ID: s('container ID, 12 characters'),
    Image: s('image reference as created'),
    Labels: s('k=v pairs, comma-separated'),
    LocalVolumes: s('number of local volumes'),
    Mounts: s('mount names, comma-separated'),
    Names: s('container name (the app name)'),
    Networks: s('network names, comma-separated'),
    Platform: v.pipe(v.nullable(Platform), v.description('OCI platform (Engine API >= 1.48), else null')),
    Ports: s('published ports, e.g. 127.0.0.1:32768->80/tcp'),
    RunningFor: s('e.g. 5 minutes ago'),
    Size: s('e.g. 0B (virtual 4.26MB); N/A without sizes'),
    State: s('created, running, paused, restarting, removing, exited, dead'),
    Status: s('e.g. Up 5 minutes, Exited (0) 2 hours ago'),
  }),
  v.title('ContainerStatus'),
);

/** One current task of a service (swarm get-app-status). */
const TaskStatus = v.pipe(
  v.strictObject({
    ID: s('task ID'),
    Name: s('SERVICE.SLOT'),
    Node: s('hostname of its node'),
    NodeID: s('its node ID'),
    DesiredState: s('running, shutdown, complete, …'),
    State: s('running, complete (a finished job), failed, pending, shutdown, …; unknown while its node is not ready (NodeState)'),
    NodeState: s('state of its node: ready, down, unknown, disconnected; empty before the task has a node'),
    Message: s("the task's status message"),
    Error: s("the task's error, or empty"),
    ContainerID: s('container ID on the node, or empty'),
    ExitCode: v.pipe(v.nullable(v.number()), v.description('exit code once ended, else null')),
    Ports: s('published ports'),
  }),
  v.title('TaskStatus'),
);

/** `docker service ls --format json` plus `Node`, `State`, `Tasks` (swarm get-app-status). */
export const ServiceStatus = v.pipe(
  v.strictObject({
    ID: s('service ID, 12 characters'),
    Image: s('image reference'),
    Mode: s('replicated, global, replicated job, global job'),
    Name: s('service name (the app name)'),
    Ports: s('published ports, e.g. *:30000->80/tcp'),
    Replicas: s('running/desired, e.g. 1/1 or 0/1 (1/1 completed)'),
    Node: s('hostnames of the current tasks, comma-separated'),
    State: s('states of the current tasks, comma-separated'),
    Tasks: v.array(TaskStatus),
  }),
  v.title('ServiceStatus'),
);

const statsFields = {
  BlockIO: s('read / written, e.g. 1.09kB / 0B'),
  CPUPerc: s('e.g. 0.15%'),
  Container: s('the name given, or the ID (12 characters)'),
  ID: s('container ID'),
  MemPerc: s('e.g. 0.01%'),
  MemUsage: s('usage / limit, e.g. 1.859MiB / 23.54GiB'),
  Name: s('container name'),
  NetIO: s('received / sent, e.g. 1.2kB / 0B'),
  PIDs: s('processes, e.g. 1'),
};

/** `docker stats --no-stream --format json`, one container (core/format/stats.ts). */
export const ContainerStats = v.pipe(
  v.strictObject({ ...statsFields, CPUWindowMs: v.optional(n('window CPUPerc was measured over, ms (between two Engine samples; 0 for a stopped app); not a docker CLI field')) }),
  v.title('ContainerStats'),
);

/** Swarm get-app-stats: one running task's container stats, read on its node. */
export const TaskStats = v.pipe(v.strictObject({ ...statsFields, Service: s('service (app) name'), Task: s('task ID'), Node: s('node hostname') }), v.title('TaskStats'));

/** `docker node ls --format json`, one node (core/format/nodes.ts); solo mode: the Engine host. */
export const NodeStatus = v.pipe(
  v.strictObject({
    Availability: s('Active, Pause, Drain'),
    EngineVersion: s('e.g. 28.2.2'),
    Hostname: s('node hostname'),
    ID: s('node ID'),
    ManagerStatus: s('Leader, Reachable, Unreachable, or empty for a worker'),
    Self: v.pipe(v.boolean(), v.description('whether this is the node the API talks to')),
    Status: s('Ready, Down, Unknown, Disconnected'),
    TLSStatus: s('Ready, Needs Rotation, Unknown'),
  }),
  v.title('NodeStatus'),
);

/** `docker images --format json` plus counts and approval (core/image-reads.ts). */
export const ImageRow = v.pipe(
  v.strictObject({
    Containers: s('N/A (the Engine reports -1); see CreatedContainerCount'),
    CreatedAt: s('Go time.String() of the creation time'),
    CreatedSince: s('e.g. 2 weeks ago'),
    Digest: s('<none> unless listed by digest'),
    ID: s('image ID, 12 characters'),
    Repository: s('repository, or <none>'),
    SharedSize: s('N/A or a size'),
    Size: s('e.g. 4.26MB'),
    Tag: s('tag, or <none>'),
    UniqueSize: s('N/A or a size'),
    VirtualSize: s('e.g. 4.26MB'),
    CreatedContainerCount: n("the facility's apps created from this image"),
    ApprovalState: v.pipe(v.picklist(['approved', 'pending', 'denied', 'none']), v.description('whether create-app may use this reference')),
    RequestState: v.pipe(v.nullable(v.picklist(IMAGE_REQUEST_STATES)), v.description('its request state, or null when never requested')),
  }),
  v.title('ImageRow'),
);

// --- Engine inspect JSON (open) -----------------------------------------------------------------

/** get-app-info: the Engine's container inspect JSON (solo) or service inspect JSON (swarm), unchanged. */
export const AppInfo = v.pipe(
  v.union([
    v.pipe(
      v.looseObject({ Id: v.string(), Name: v.string(), Created: v.string(), State: v.looseObject({ Status: v.string() }), Config: v.looseObject({}), HostConfig: v.looseObject({}) }),
      v.title('ContainerInspect'),
      v.description('Engine GET /containers/{id}/json (docker inspect)'),
    ),
    v.pipe(
      v.looseObject({ ID: v.string(), Version: v.looseObject({}), CreatedAt: v.string(), Spec: v.looseObject({ Name: v.string() }) }),
      v.title('ServiceInspect'),
      v.description('Engine GET /services/{id} (docker service inspect)'),
    ),
  ]),
  v.title('AppInfo'),
);

/** get-node-info: the node's inspect JSON (swarm) or the Engine's `GET /info` (solo). */
export const NodeInfo = v.pipe(
  v.union([
    v.pipe(
      v.looseObject({ ID: v.string(), Version: v.looseObject({}), Spec: v.looseObject({}), Description: v.looseObject({ Hostname: v.string() }), Status: v.looseObject({}) }),
      v.title('NodeInspect'),
      v.description('Engine GET /nodes/{id} (docker node inspect)'),
    ),
    v.pipe(v.looseObject({ ID: v.string(), Name: v.string(), ServerVersion: v.string(), Swarm: v.looseObject({}) }), v.title('EngineInfo'), v.description('Engine GET /info (docker info), solo mode')),
  ]),
  v.title('NodeInfo'),
);

// --- images -----------------------------------------------------------------------------------

const imageRequestFields = {
  facility: s('facility ID'),
  image: s('the normalised reference'),
  familiar: s('its short form, e.g. busybox:latest'),
  state: v.pipe(v.picklist(IMAGE_REQUEST_STATES), v.description('pending, approved, pulling, pulled, failed, denied')),
  requestedBy: ns('who asked first; null unless it is the viewer (for user tokens)'),
  requestedAt: ns('when first asked (ISO-8601)'),
  requests: n('how many request-image calls'),
  approvedBy: ns('config, auto, or the admin'),
  decidedBy: ns('the admin who approved or denied'),
  decidedAt: ns('when (ISO-8601)'),
  reason: ns('why denied'),
  imageId: ns("the Engine's image ID once pulled"),
  error: ns('why the last pull failed'),
  pull: v.pipe(
    v.nullable(
      v.strictObject({
        attempts: n('pulls tried'),
        startedAt: ns('ISO-8601'),
        finishedAt: ns('ISO-8601'),
        alreadyPresent: v.pipe(v.boolean(), v.description('the Engine already had it')),
        progress: v.nullable(
          v.strictObject({
            status: s("the Engine's latest status line; `Failed` once the pull failed (the reason is in `error`)"),
            layers: v.strictObject({ done: v.number(), total: v.number() }),
            bytes: v.strictObject({ done: v.number(), total: v.number() }),
          }),
        ),
      }),
    ),
    v.description('the last pull; null until one was tried'),
  ),
  updatedAt: s('ISO-8601'),
};

/** An image request record (core/images/store.ts). */
export const ImageRequest = v.pipe(v.strictObject(imageRequestFields), v.title('ImageRequest'));

/** A record with its requesters (get-image-requests with `image`). */
export const ImageRequestDetail = v.pipe(
  v.strictObject({
    ...imageRequestFields,
    history: v.array(
      v.strictObject({
        by: s("the user's or token's name; anonymous without a token"),
        anonymous: v.boolean(),
        firstAt: s('ISO-8601'),
        lastAt: s('ISO-8601'),
        count: v.number(),
        given: s('the reference as last written'),
      }),
    ),
  }),
  v.title('ImageRequestDetail'),
);

// --- audit, uptime ------------------------------------------------------------------------------

/** One audit log entry (core/audit.ts). */
export const AuditEntry = v.pipe(
  v.strictObject({
    at: s('ISO-8601'),
    requestId: s('the request ID (x-request-id)'),
    facility: s('facility ID'),
    route: s('e.g. stop-app'),
    subject: s('token ID'),
    subjectName: s("token's name"),
    role: s('admin, user, or unidentified'),
    onBehalfOf: v.optional(s('the user an admin acted for')),
    target: v.optional(s('the name or image parameter')),
    targetUser: v.optional(s('users touched, comma-separated')),
    status: n('HTTP status answered (0: pending, the outcome never recorded)'),
    result: s('ok, partial, the error code, or pending (recorded before the action; a crash left it so)'),
    durationMs: n('milliseconds'),
  }),
  v.title('AuditEntry'),
);

/** get-app-logs: the app's lines (core/logs.ts). */
export const AppLogs = v.pipe(
  v.strictObject({
    name: s('the app'),
    lines: v.array(
      v.strictObject({
        stream: v.pipe(v.picklist(['stdout', 'stderr']), v.description('the stream it was written to (an app with a TTY: stdout)')),
        line: s('the text, without its newline'),
        time: v.optional(s("with timestamps=true: the Engine's RFC 3339 time, in nanoseconds")),
        task: v.optional(s('swarm mode: the task the line came from')),
      }),
    ),
    truncated: ns('null, or why lines are missing (the 10 MiB cap was hit)'),
  }),
  v.title('AppLogs'),
);

const uptimeState = v.picklist(['running', 'not-running', 'unknown']);

/** get-uptime-summary default: UTC second -> running. */
export const UptimeMap = v.pipe(v.record(v.string(), v.boolean()), v.title('UptimeMap'), v.description('{"2023-06-20T13:50:45Z": true, …}: UTC second -> running (paused = false)'));

/** get-uptime-summary with `detail=true` (core/uptime-summary.ts). */
export const UptimeDetail = v.pipe(
  v.strictObject({
    facility: s('facility ID'),
    name: s('app name'),
    duration: v.picklist(UPTIME_DURATIONS),
    from: s('window start (UTC, nanoseconds)'),
    to: s('window end (UTC, nanoseconds)'),
    recordedUntil: ns("the job's last checkpoint"),
    engineUnreachableSince: ns('since when the job cannot reach the Engine'),
    uptimeRatio: v.pipe(v.nullable(v.number()), v.description('running / (running + not running); null if none known')),
    seconds: v.strictObject({ running: v.number(), notRunning: v.number(), unknown: v.number(), unrecorded: v.number() }),
    intervals: v.array(v.strictObject({ from: v.string(), to: v.string(), state: uptimeState })),
    transitions: v.array(v.strictObject({ at: v.string(), state: uptimeState, source: v.picklist(['event', 'reconcile', 'first-run', 'unreachable', 'retention']), action: v.nullable(v.string()) })),
    samples: v.array(v.strictObject({ at: v.string(), state: uptimeState })),
  }),
  v.title('UptimeDetail'),
);

/** Every named schema, as components of the document. */
export const COMPONENTS = {
  Problem,
  BatchFailure,
  AppState,
  CreatedContainer,
  CreatedService,
  AppUrl,
  AppLink,
  HardReset,
  ContainerStatus,
  ServiceStatus,
  ContainerStats,
  TaskStats,
  NodeStatus,
  ImageRow,
  AppInfo,
  NodeInfo,
  ImageRequest,
  ImageRequestDetail,
  AuditEntry,
  AppLogs,
  UptimeMap,
  UptimeDetail,
} as const;
