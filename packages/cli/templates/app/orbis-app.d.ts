/**
 * The Orbis app libraries: what an app's sandbox provides, and nothing else (no Node.js, no DOM,
 * no `console`, no `fetch`, no `setTimeout`). Each family works only if the app's manifest grants
 * its capability (docs/apps.md); anything else is denied and reported as a security event.
 *
 * This file is the canonical description of the API. `orbis app new` copies it into each app.
 */

/** A GPIO level: 0 is low, 1 is high. */
type OrbisLevel = 0 | 1;

interface OrbisGpioPin {
  /** Reads the pin's current level. */
  read(): OrbisLevel;
  /** Drives an output pin to `value`. */
  write(value: OrbisLevel): void;
  /** Calls `callback` with the new level on every matching edge of an input pin. */
  onEdge(edge: 'rising' | 'falling' | 'both', callback: (value: OrbisLevel) => void): void;
  /** Releases the pin; its edge callbacks stop. */
  close(): void;
}

interface OrbisAdc {
  /** Reads one sample of `channel`, as the controller's raw value. */
  read(channel: number): number;
  /** Releases the controller. */
  close(): void;
}

interface OrbisUart {
  /** Sends bytes (a string is sent as UTF-8). */
  write(bytes: Uint8Array | string): void;
  /** Calls `cb` with each chunk of bytes received. */
  onData(cb: (bytes: Uint8Array) => void): void;
  /** Releases the UART; its data callbacks stop. */
  close(): void;
}

interface OrbisFetchInit {
  /** HTTP method; GET by default. */
  method?: string;
  /** Request headers. */
  headers?: Record<string, string>;
  /** Request body, as text. */
  body?: string;
}

interface OrbisFetchResponse {
  /** The HTTP status code. */
  status: number;
  /** The response body, as text. */
  body: string;
}

interface OrbisUpdateRequest {
  /** The component ID of the update waiting to be applied. */
  component: string;
  /** When the update will be applied regardless, in milliseconds since the Unix epoch. */
  deadline: number;
}

interface OrbisApi {
  readonly gpio: {
    /** Opens a GPIO pin listed in the manifest's `Gpio` as an input or an output. */
    open(pin: number, direction: 'in' | 'out'): OrbisGpioPin;
  };
  readonly adc: {
    /** Opens an ADC controller listed in the manifest's `Adc`, such as `ADC-CONTROLLER-0`. */
    open(peripheral: string): OrbisAdc;
  };
  readonly uart: {
    /** Opens a UART listed in the manifest's `Uart`, such as `ISU0`. */
    open(peripheral: string): OrbisUart;
  };
  readonly storage: {
    /** Reads the app's mutable storage (`MutableStorage`); undefined if nothing was written yet. */
    read(): Uint8Array | undefined;
    /** Replaces the app's mutable storage; refused beyond the manifest's `SizeKB`. */
    write(bytes: Uint8Array | string): void;
  };
  readonly log: {
    /** Logs an informational message to the device log. */
    info(...args: unknown[]): void;
    /** Logs a warning to the device log. */
    warn(...args: unknown[]): void;
    /** Logs an error to the device log. */
    error(...args: unknown[]): void;
  };
  readonly timers: {
    /** Calls `cb` once after `ms` milliseconds; returns an ID for `clear`. */
    setTimeout(cb: () => void, ms: number): number;
    /** Calls `cb` every `ms` milliseconds; returns an ID for `clear`. */
    setInterval(cb: () => void, ms: number): number;
    /** Cancels a timeout or an interval. */
    clear(id: number): void;
  };
  readonly net: {
    /** Makes an HTTPS request to a host listed in `AllowedConnections`. */
    fetch(url: string, init?: OrbisFetchInit): Promise<OrbisFetchResponse>;
  };
  readonly updates: {
    /** With `SoftwareUpdateDeferral`: asks the app whether a pending update may be applied now. */
    onDeferralRequest(cb: (update: OrbisUpdateRequest) => 'defer' | 'accept'): void;
  };
  readonly power: {
    /** With `PowerControls: ["ForceReboot"]`: reboots the device. */
    reboot(): void;
  };
  /** Stops the app with an exit code; 0 means it finished normally. */
  exit(code: number): never;
}

/** The Orbis app libraries, the app's only way to reach the device and the network. */
declare const orbis: OrbisApi;
