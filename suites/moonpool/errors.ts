/**
 * Moonpool's typed failures (SPEC §9, seed "Error Types to Handle"). One
 * class per kind, each with a stable `kind` (the seed's name) and whether it
 * is recoverable. Local misuse is kept apart: {@link ClientClosedError}
 * (and `RangeError` for bad arguments).
 */
import type { EnvelopeError } from './codec.js';

/** The seed's error kinds (MOONPOOL-9.1). */
export type TransportErrorKind = 'ConnectionLost' | 'ReadError' | 'ParseError' | 'Timeout' | 'BindFailed';

/** A transport failure of one of the seed's kinds. */
export abstract class TransportError extends Error {
  /** The seed's kind name. */
  abstract readonly kind: TransportErrorKind;
  /** Whether the caller can go on (reconnect, retry) after it (MOONPOOL-9.1 table). */
  abstract readonly recoverable: boolean;
}

/** The peer ended the connection, or a connect failed (recoverable: reconnect, MOONPOOL-7.3). */
export class ConnectionLostError extends TransportError {
  readonly kind = 'ConnectionLost' as const;
  readonly recoverable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConnectionLostError';
  }
}

/** An I/O error on the socket: reset, broken pipe (may be recoverable, MOONPOOL-7.3). */
export class ReadError extends TransportError {
  readonly kind = 'ReadError' as const;
  readonly recoverable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReadError';
  }
}

/** The peer sent a malformed envelope (MOONPOOL-5.1, 5.2, 8.7); `cause` is the codec's {@link EnvelopeError}. */
export class ParseError extends TransportError {
  readonly kind = 'ParseError' as const;
  readonly recoverable = true;
  constructor(
    message: string,
    /** The decoding failure. */
    readonly envelopeError: EnvelopeError,
  ) {
    super(message, { cause: envelopeError });
    this.name = 'ParseError';
  }
}

/** A request's timeout (MOONPOOL-8.2) or a connect attempt's passed. */
export class TimeoutError extends TransportError {
  readonly kind = 'Timeout' as const;
  readonly recoverable = true;
  constructor(
    message: string,
    /** The timeout that passed (ms). */
    readonly timeoutMs: number,
  ) {
    super(message);
    this.name = 'TimeoutError';
  }
}

/** A server could not listen on its address (fatal, MOONPOOL-9.3). */
export class BindFailedError extends TransportError {
  readonly kind = 'BindFailed' as const;
  readonly recoverable = false;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BindFailedError';
  }
}

/** Local misuse: the client was closed by its owner (not a transport failure). */
export class ClientClosedError extends Error {
  readonly code = 'ClientClosed' as const;
  constructor(message = 'moonpool client: closed') {
    super(message);
    this.name = 'ClientClosedError';
  }
}

/** What a request can fail with. */
export type RequestError = TransportError | ClientClosedError;
