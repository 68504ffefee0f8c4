import { OrbisError, type ErrorCodeOf } from '@orbis/protocol';

/** Why the root of trust refused (packages/device/src/rot). */
export class RootOfTrustError extends OrbisError<ErrorCodeOf<'ROT'>> {}

/** Why a boot stage or image did not boot (packages/device/src/boot). */
export class BootError extends OrbisError<ErrorCodeOf<'BOOT'>> {}

/** Why the device agent could not attest, renew or open a device directory. */
export class AgentError extends OrbisError<ErrorCodeOf<'AGENT'>> {}

/** The service refused the device: AGENT_ATTESTATION_REFUSED carrying the service's own code. */
export class ServiceRefusalError extends AgentError {
  /** The service's error code (an ERROR_CATALOGUE code), or HTTP_<status> if it sent none. */
  readonly serviceCode: string;

  constructor(serviceCode: string, message: string) {
    super('AGENT_ATTESTATION_REFUSED', `${serviceCode}: ${message}`);
    this.serviceCode = serviceCode;
  }
}
