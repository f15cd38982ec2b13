/**
 * Swarm listings: `docker node ls --format json` (`cli/command/node/formatter.go`,
 * `nodeContext`) and `docker service ls --format json` (`cli/command/service/formatter.go`,
 * `serviceContext`), docker CLI 28.
 *
 * Notes for callers:
 * - `Self` is a JSON boolean (the only non-string field); `Status`, `Availability` and
 *   `ManagerStatus` are capitalized (`"Ready"`, `"Active"`, `"Leader"`/`"Reachable"`/`""`).
 * - `TLSStatus` needs the cluster's TLS info from `GET /info` (`Swarm.Cluster.TLSInfo`):
 *   without it the CLI prints `"Unknown"`.
 * - `service ls` asks the Engine for `GET /services?status=true`; Replicas come from
 *   `ServiceStatus` and are `"0/0"` without it. The CLI sorts services by name (natural order):
 *   use {@link compareServiceNames}.
 *
 * @module
 */
import { prettyPrint, truncateID } from './go.ts';
import { familiarString, parseNormalizedNamed } from './reference.ts';

/** Swarm TLS info (`Node.Description.TLSInfo`, `Info.Swarm.Cluster.TLSInfo`). */
export interface EngineTLSInfo {
  TrustRoot?: string;
  CertIssuerSubject?: string | null;
  CertIssuerPublicKey?: string | null;
}

/** An element of the Engine's `GET /nodes` (fields the CLI reads). */
export interface EngineNode {
  ID: string;
  Spec?: { Availability?: string; Role?: string; Name?: string; Labels?: Record<string, string> };
  Description?: {
    Hostname?: string;
    Engine?: { EngineVersion?: string };
    TLSInfo?: EngineTLSInfo;
    [k: string]: unknown;
  };
  Status?: { State?: string; Addr?: string; Message?: string };
  ManagerStatus?: { Leader?: boolean; Reachability?: string; Addr?: string } | null;
  [k: string]: unknown;
}

/** The object `docker node ls --format json` prints for one node (CLI key order). */
export interface NodeJson {
  Availability: string;
  EngineVersion: string;
  Hostname: string;
  ID: string;
  ManagerStatus: string;
  Self: boolean;
  Status: string;
  TLSStatus: string;
}

function tlsEmpty(t: EngineTLSInfo | undefined): boolean {
  return !t || (!t.TrustRoot && !t.CertIssuerSubject && !t.CertIssuerPublicKey);
}

function tlsEqual(a: EngineTLSInfo, b: EngineTLSInfo): boolean {
  return (a.TrustRoot ?? '') === (b.TrustRoot ?? '') && (a.CertIssuerSubject ?? '') === (b.CertIssuerSubject ?? '') && (a.CertIssuerPublicKey ?? '') === (b.CertIssuerPublicKey ?? '');
}

/**
 * One node as `docker node ls --format json` prints it.
 * @param node an element of the Engine's `GET /nodes`
 * @param selfNodeId the local node's ID (`GET /info` → `Swarm.NodeID`); `Self` is `node.ID === selfNodeId`
 * @param clusterTLSInfo `GET /info` → `Swarm.Cluster.TLSInfo`; TLSStatus is `"Ready"` when the node's
 *   TLS info equals it, `"Needs Rotation"` when it differs, `"Unknown"` when either is missing
 */
export function formatNode(node: EngineNode, selfNodeId: string, clusterTLSInfo?: EngineTLSInfo | null): NodeJson {
  let reachability = '';
  if (node.ManagerStatus) {
    reachability = node.ManagerStatus.Leader ? 'Leader' : (node.ManagerStatus.Reachability ?? '');
  }
  const nodeTLS = node.Description?.TLSInfo;
  let tls: string;
  if (!clusterTLSInfo || tlsEmpty(clusterTLSInfo) || tlsEmpty(nodeTLS)) tls = 'Unknown';
  else tls = tlsEqual(nodeTLS!, clusterTLSInfo) ? 'Ready' : 'Needs Rotation';
  return {
    Availability: prettyPrint(node.Spec?.Availability ?? ''),
    EngineVersion: node.Description?.Engine?.EngineVersion ?? '',
    Hostname: node.Description?.Hostname ?? '',
    ID: node.ID,
    ManagerStatus: prettyPrint(reachability),
    Self: node.ID === selfNodeId,
    Status: prettyPrint(node.Status?.State ?? ''),
    TLSStatus: tls,
  };
}

/** A published service port (`Service.Endpoint.Ports`). */
export interface EngineServicePort {
  Name?: string;
  Protocol?: string;
  TargetPort?: number;
  PublishedPort?: number;
  PublishMode?: string;
}

/** An element of the Engine's `GET /services?status=true` (fields the CLI reads). */
export interface EngineService {
  ID: string;
  Spec?: {
    Name?: string;
    Mode?: {
      Replicated?: { Replicas?: number } | null;
      Global?: Record<string, never> | object | null;
      ReplicatedJob?: { MaxConcurrent?: number; TotalCompletions?: number } | null;
      GlobalJob?: Record<string, never> | object | null;
    };
    TaskTemplate?: {
      ContainerSpec?: { Image?: string } | null;
      Placement?: { MaxReplicas?: number; [k: string]: unknown } | null;
      [k: string]: unknown;
    };
    [k: string]: unknown;
  };
  Endpoint?: { Ports?: EngineServicePort[] | null; [k: string]: unknown };
  ServiceStatus?: { RunningTasks?: number; DesiredTasks?: number; CompletedTasks?: number } | null;
  [k: string]: unknown;
}

/** The object `docker service ls --format json` prints for one service (CLI key order). */
export interface ServiceJson {
  ID: string;
  Image: string;
  Mode: string;
  Name: string;
  Ports: string;
  Replicas: string;
}

function serviceMode(s: EngineService): string {
  const m = s.Spec?.Mode ?? {};
  if (m.Global) return 'global';
  if (m.Replicated) return 'replicated';
  if (m.ReplicatedJob) return 'replicated job';
  if (m.GlobalJob) return 'global job';
  return '';
}

function serviceReplicas(s: EngineService, mode: string): string {
  const running = s.ServiceStatus?.RunningTasks ?? 0;
  const desired = s.ServiceStatus?.DesiredTasks ?? 0;
  const completed = s.ServiceStatus?.CompletedTasks ?? 0;
  const m = s.Spec?.Mode ?? {};
  if (m.ReplicatedJob) {
    return `${running}/${desired} (${completed}/${m.ReplicatedJob.TotalCompletions ?? 0} completed)`;
  }
  if (m.GlobalJob) return `${running}/${desired} (${completed}/${desired + completed} completed)`;
  const max = mode === 'replicated' ? (s.Spec?.TaskTemplate?.Placement?.MaxReplicas ?? 0) : 0;
  if (max > 0) return `${running}/${desired} (max ${max} per node)`;
  return `${running}/${desired}`;
}

function serviceImage(s: EngineService): string {
  const image = s.Spec?.TaskTemplate?.ContainerSpec?.Image ?? '';
  const ref = parseNormalizedNamed(image);
  if (ref && ref.tag !== undefined) return familiarString({ domain: ref.domain, path: ref.path, tag: ref.tag });
  return image;
}

/**
 * `serviceContext.Ports()`: ingress-published ports sorted by protocol then published port,
 * consecutive ports grouped (`"*:18080-18081->80-81/tcp, *:18053->53/udp"`); host-mode ports omitted.
 */
export function servicePorts(ports: readonly EngineServicePort[] | null | undefined): string {
  if (ports === null || ports === undefined) return '';
  const sorted = [...ports].sort((a, b) => {
    const pa = a.Protocol ?? '';
    const pb = b.Protocol ?? '';
    if (pa === pb) return (a.PublishedPort ?? 0) - (b.PublishedPort ?? 0);
    return pa < pb ? -1 : 1;
  });
  const u32 = (x: number): number => x >>> 0; // Go uint32 arithmetic
  let pr = { pStart: 0, pEnd: 0, tStart: 0, tEnd: 0, protocol: '' };
  const out: string[] = [];
  const str = (r: typeof pr): string => {
    const pub = r.pEnd > r.pStart ? `${r.pStart}-${r.pEnd}` : String(r.pStart);
    const tgt = r.tEnd > r.tStart ? `${r.tStart}-${r.tEnd}` : String(r.tStart);
    return `*:${pub}->${tgt}/${r.protocol}`;
  };
  for (const p of sorted) {
    if (p.PublishMode !== 'ingress') continue;
    const published = p.PublishedPort ?? 0;
    const target = p.TargetPort ?? 0;
    const protocol = p.Protocol ?? '';
    const prIsRange = pr.tEnd !== pr.tStart;
    const tOverlaps = target <= pr.tEnd;
    if (protocol !== pr.protocol || u32(published - pr.pEnd) > 1 || u32(target - pr.tEnd) > 1 || (prIsRange && tOverlaps)) {
      if (pr.pStart > 0) out.push(str(pr));
      pr = { pStart: published, pEnd: published, tStart: target, tEnd: target, protocol };
      continue;
    }
    pr.pEnd = published;
    pr.tEnd = target;
  }
  if (pr.pStart > 0) out.push(str(pr));
  return out.join(', ');
}

/**
 * One service as `docker service ls --format json` prints it: ID truncated to 12, Mode
 * (`replicated`, `global`, `replicated job`, `global job`), Replicas from `ServiceStatus`
 * (`"1/1"`, `"0/0 (max 2 per node)"`, `"0/1 (0/3 completed)"`), Image as the familiar reference
 * without digest, Ports per {@link servicePorts}.
 * @param service an element of the Engine's `GET /services?status=true`
 */
export function formatService(service: EngineService): ServiceJson {
  const mode = serviceMode(service);
  return {
    ID: truncateID(service.ID),
    Image: serviceImage(service),
    Mode: mode,
    Name: service.Spec?.Name ?? '',
    Ports: servicePorts(service.Endpoint?.Ports),
    Replicas: serviceReplicas(service, mode),
  };
}

/**
 * `sortorder.NaturalLess` as a comparator, the order `docker service ls` lists services in:
 * digit runs compare numerically (`web2` < `web10`) and sort before other characters, the rest
 * bytewise (github.com/fvbommel/sortorder).
 */
export function compareServiceNames(a: string, b: string): number {
  const isDigit = (c: string): boolean => c >= '0' && c <= '9';
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a[i];
    const cb = b[j];
    const da = isDigit(ca);
    const db = isDigit(cb);
    if (da !== db) return da ? -1 : 1; // digits sort before other characters
    if (da && db) {
      let si = i;
      let sj = j;
      while (si < a.length && a[si] === '0') si++;
      while (sj < b.length && b[sj] === '0') sj++;
      let ei = si;
      let ej = sj;
      while (ei < a.length && isDigit(a[ei])) ei++;
      while (ej < b.length && isDigit(b[ej])) ej++;
      const na = a.slice(si, ei);
      const nb = b.slice(sj, ej);
      if (na.length !== nb.length) return na.length < nb.length ? -1 : 1;
      if (na !== nb) return na < nb ? -1 : 1;
      // equal value: fewer leading zeros first
      if (ei - i !== ej - j) return ei - i < ej - j ? -1 : 1;
      i = ei;
      j = ej;
      continue;
    }
    if (ca !== cb) return ca < cb ? -1 : 1;
    i++;
    j++;
  }
  if (a.length - i !== b.length - j) return a.length - i < b.length - j ? -1 : 1;
  return 0;
}
