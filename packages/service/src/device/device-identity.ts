import { TLSSocket, type DetailedPeerCertificate } from 'node:tls';
import { DEVICE_URI_PATTERN, OrbisError, type AttestationResultClass, type ErrorCode } from '@orbis/protocol';
import {
  parseCertificate,
  verifyDeviceCertificateChain,
  type ParsedCertificate,
  type VerifiedDeviceCertificate,
} from '@orbis/verify';
import { ServiceError } from '../errors.ts';

/**
 * Who is on the other end of a device connection. The listener asks TLS for a client
 * certificate but lets TLS decide nothing (no CA list is sent, nothing is rejected there):
 * the presented chain is verified here, in packages/verify, against the anchors of the tenant
 * the certificate names, once per connection, and the result is kept on the socket.
 */
export interface DeviceAnchors {
  /** Parsed anchors of a tenant (current and next); empty for an unknown tenant. */
  tenantAnchors(tenantId: string, now: number): Promise<readonly ParsedCertificate[]>;
  updateAnchors(now: number): Promise<readonly ParsedCertificate[]>;
}

export type ConnectionIdentity =
  | { readonly kind: 'none' }
  | { readonly kind: 'device'; readonly certificate: VerifiedDeviceCertificate }
  | { readonly kind: 'refused'; readonly code: ErrorCode; readonly message: string };

const ALL_CLASSES: readonly AttestationResultClass[] = ['trusted', 'development', 'update-only'];
const identities = new WeakMap<TLSSocket, Promise<ConnectionIdentity>>();

/** The peer's chain as sent, leaf first, each certificate once. */
function presentedChain(socket: TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  const seen = new Set<string>();
  // With no client certificate this is an empty object; Node links the last certificate to
  // itself, so the walk stops at the first certificate seen twice.
  let certificate: Partial<DetailedPeerCertificate> | undefined = socket.getPeerCertificate(true);
  while (certificate?.raw !== undefined) {
    const key = certificate.raw.toString('base64');
    if (seen.has(key)) break;
    seen.add(key);
    chain.push(new Uint8Array(certificate.raw));
    certificate = certificate.issuerCertificate;
  }
  return chain;
}

/** The TLS socket under a request on the device listener. */
export function socketOf(socket: unknown): TLSSocket {
  if (!(socket instanceof TLSSocket))
    throw new ServiceError('CERT_REQUIRED', 'device routes are served over TLS only');
  return socket;
}

async function verifyConnection(
  socket: TLSSocket,
  anchors: DeviceAnchors,
  now: number,
): Promise<ConnectionIdentity> {
  const chain = presentedChain(socket);
  const [leafDer] = chain;
  if (leafDer === undefined) return { kind: 'none' };
  try {
    // The tenant named in the leaf selects the anchors; nothing else the peer sent is trusted.
    const leaf = parseCertificate(leafDer);
    const tenantId = DEVICE_URI_PATTERN.exec(leaf.subjectAltName?.uris[0] ?? '')?.[1] ?? '';
    const [tenantAnchors, updateAnchors] = await Promise.all([
      anchors.tenantAnchors(tenantId, now),
      anchors.updateAnchors(now),
    ]);
    const certificate = verifyDeviceCertificateChain(chain, {
      anchorsForTenant: () => tenantAnchors,
      updateAnchors,
      now,
      allowedClasses: ALL_CLASSES,
    });
    // Long-lived connections end with the certificate that opened them.
    const timer = setTimeout(() => socket.destroy(), Math.max(0, certificate.notAfter - now));
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    return { kind: 'device', certificate };
  } catch (error) {
    if (!(error instanceof OrbisError)) throw error;
    return { kind: 'refused', code: (error as OrbisError).code, message: error.message };
  }
}

/** The connection's identity, verified on first use and then cached on the socket. */
export function identifyConnection(
  socket: TLSSocket,
  anchors: DeviceAnchors,
  now: number,
): Promise<ConnectionIdentity> {
  let identity = identities.get(socket);
  if (identity === undefined) {
    identity = verifyConnection(socket, anchors, now);
    identities.set(socket, identity);
  }
  return identity;
}

/**
 * What a route accepts: a device certificate of one of `classes`, still valid at `now`.
 * Refuses with the chain's own code when the presented certificate did not verify.
 */
export function requireDevice(
  identity: ConnectionIdentity,
  classes: readonly AttestationResultClass[],
  now: number,
): VerifiedDeviceCertificate {
  if (identity.kind === 'none')
    throw new ServiceError('CERT_REQUIRED', 'this route needs a device certificate');
  if (identity.kind === 'refused') throw new ServiceError(identity.code, identity.message);
  const { certificate } = identity;
  if (now >= certificate.notAfter)
    throw new ServiceError('CERT_EXPIRED', 'the device certificate has expired');
  if (!classes.includes(certificate.resultClass)) {
    throw new ServiceError(
      'CERT_CLASS_NOT_ALLOWED',
      `a ${certificate.resultClass} certificate cannot use this route`,
    );
  }
  return certificate;
}
