/**
 * Uploads of one connection (SPEC GAROU-10): UploadStart, UploadChunk,
 * UploadComplete and UploadCancel each get exactly one answer, UploadAck or
 * Error, in the order of the upload stream. Pure: frames in, answers out.
 */
import { ERROR_CODES, type ErrorCodeName, type Frame } from './frames.js';
import type { GarouProfile } from './profile.js';

/** The upload frames a client sends (GAROU-10.1). */
export type UploadFrame = Extract<Frame, { name: 'UploadStart' | 'UploadChunk' | 'UploadComplete' | 'UploadCancel' }>;

/** An upload that completed: what a server stores (and, with profile `uploadAnnounce` `message`, posts). */
export interface FinishedUpload {
  readonly uploadId: string;
  readonly roomId: number;
  readonly name: string;
  /** Bytes. */
  readonly size: number;
}

/** What an upload frame does. */
export interface UploadOutcome {
  /** UploadAck or Error, for the control stream (GAROU-10.1). */
  readonly answer: Extract<Frame, { name: 'UploadAck' | 'Error' }>;
  /** Set by an UploadComplete that succeeded. */
  readonly finished?: FinishedUpload;
}

interface Upload {
  readonly roomId: number;
  readonly name: string;
  readonly size: number;
  received: number;
}

/** Bytes a base64 string (RFC 4648 §4, padded; checked by the schema) decodes to. */
export function base64Length(data: string): number {
  const pad = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - pad;
}

/** The uploads in progress on one connection (GAROU-10). */
export class Uploads {
  private readonly open = new Map<string, Upload>();

  constructor(readonly profile: Pick<GarouProfile, 'maxUploadBytes'>) {}

  /** Upload ids in progress. */
  inProgress(): string[] {
    return [...this.open.keys()].sort();
  }

  /**
   * Answers one upload frame (GAROU-10.2).
   * @param judgeStart the refusal an UploadStart gets from its room, as a post would (e.g. `Rooms.postRefusal`), or undefined.
   */
  frame(f: UploadFrame, judgeStart: (roomId: number) => ErrorCodeName | undefined): UploadOutcome {
    const id = f.payload.upload_id;
    const refuse = (code: ErrorCodeName, message: string): UploadOutcome => ({ answer: { name: 'Error', payload: { upload_id: id, code: ERROR_CODES[code], message } } });
    const ack = (received: number, done: boolean): UploadOutcome['answer'] => ({ name: 'UploadAck', payload: { upload_id: id, received, done } });
    const u = this.open.get(id);
    switch (f.name) {
      case 'UploadStart': {
        const p = f.payload;
        if (u) return refuse('BAD_REQUEST', `upload ${id} is already in progress`);
        if (p.size > this.profile.maxUploadBytes) return refuse('BAD_REQUEST', `size ${p.size} exceeds the maximum of ${this.profile.maxUploadBytes} bytes`);
        const code = judgeStart(p.room_id);
        if (code) return refuse(code, `upload to room ${p.room_id} refused`);
        this.open.set(id, { roomId: p.room_id, name: p.name, size: p.size, received: 0 });
        return { answer: ack(0, false) };
      }
      case 'UploadChunk': {
        if (!u) return refuse('NOT_FOUND', `no upload ${id} in progress`);
        if (f.payload.offset !== u.received) return refuse('BAD_REQUEST', `offset ${f.payload.offset}, expected ${u.received}`);
        const n = base64Length(f.payload.data);
        if (u.received + n > u.size) return refuse('BAD_REQUEST', `${n} bytes at ${u.received} run past the size ${u.size}`);
        u.received += n;
        return { answer: ack(u.received, false) };
      }
      case 'UploadComplete': {
        if (!u) return refuse('NOT_FOUND', `no upload ${id} in progress`);
        if (u.received !== u.size) return refuse('BAD_REQUEST', `${u.received} of ${u.size} bytes received`);
        this.open.delete(id);
        return { answer: ack(u.received, true), finished: { uploadId: id, roomId: u.roomId, name: u.name, size: u.size } };
      }
      case 'UploadCancel': {
        if (!u) return refuse('NOT_FOUND', `no upload ${id} in progress`);
        this.open.delete(id);
        return { answer: ack(u.received, false) };
      }
    }
  }
}
