// The live queue board: GET /v1/queue/stream kept open (reconnecting with backoff), the
// latest board kept in state, stopped while the screen is locked.
import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { reportSessionEnded, needsSignIn, post, newIdempotencyKey } from "./client";
import { openStream, type StreamState } from "./sse";
import type { EncounterTransition, QueueBoard } from "./types";
import { useLocked } from "../auth/session";
import { prefetchPatientSummaries } from "./queries";

/** One open board stream: its latest board and state, and who listens to them. */
interface BoardStream {
  board: QueueBoard | null;
  state: StreamState;
  listener: (() => void) | null;
  close(): void;
}

function startBoardStream(): BoardStream {
  const bs: BoardStream = { board: null, state: { kind: "connecting", attempt: 1 }, listener: null, close: () => {} };
  bs.close = openStream("/v1/queue/stream", {
    onEvent(e) {
      if (e.event !== "board") return;
      try {
        const b = JSON.parse(e.data) as QueueBoard;
        // Keep the newest version: a reconnect may replay an older board.
        const prev = bs.board;
        if (prev && prev.version > b.version && prev.clinicId === b.clinicId) return;
        bs.board = b;
      } catch {
        return; // a malformed frame is skipped; the next one replaces it
      }
      bs.listener?.();
    },
    onState(s) {
      bs.state = s;
      if (bs === early && s.kind === "stopped") discardEarly();
      bs.listener?.();
    },
  });
  return bs;
}

// A stream opened at start-up, alongside the session check, when the app opens on the
// board: the board screen takes it over instead of connecting only once the session is
// known. Refused (signed out), or not taken within a while, it is closed.
let early: BoardStream | null = null;
let earlyTimer: ReturnType<typeof setTimeout> | undefined;

function discardEarly() {
  clearTimeout(earlyTimer);
  early?.close();
  early = null;
}

export function preopenBoardStream(): void {
  if (early) return;
  early = startBoardStream();
  earlyTimer = setTimeout(discardEarly, 30_000);
}

/** Whether a stream opened at start-up waits to be taken over. */
export function earlyBoardStreamWaiting(): boolean {
  return early !== null;
}

/** The early stream, once (the next caller opens its own). */
export function takeEarlyBoardStream(): BoardStream | null {
  const bs = early;
  clearTimeout(earlyTimer);
  early = null;
  return bs;
}

/**
 * The live board. Each board that arrives also starts fetching the names of its patients
 * not named yet, before the board is rendered (the screen's usePatientSummaries of the
 * same patients takes that request).
 */
export function useBoardStream(): { board: QueueBoard | null; stream: StreamState } {
  const locked = useLocked();
  const qc = useQueryClient();
  const [board, setBoard] = useState<QueueBoard | null>(null);
  const [stream, setStream] = useState<StreamState>({ kind: "connecting", attempt: 1 });
  useEffect(() => {
    if (locked) return;
    const bs = takeEarlyBoardStream() ?? startBoardStream();
    const update = () => {
      if (bs.board) prefetchPatientSummaries(qc, bs.board.entries.map((e) => e.patientId));
      setBoard(bs.board);
      setStream(bs.state);
      const s = bs.state;
      if (s.kind === "stopped" && needsSignIn(s.error)) reportSessionEnded(s.error);
    };
    bs.listener = update;
    update();
    return () => {
      bs.listener = null;
      bs.close();
    };
  }, [locked, qc]);
  return { board, stream };
}

export type TransitionTarget = "triaged" | "in_consultation" | "completed" | "cancelled" | "left_without_being_seen";

export function transition(
  encounterId: string,
  to: TransitionTarget,
  opts: { reason?: string; doctorUid?: string; ifMatch?: number } = {},
): Promise<EncounterTransition> {
  const body: Record<string, string> = { to };
  if (opts.reason) body.reason = opts.reason;
  if (opts.doctorUid) body.doctorUid = opts.doctorUid;
  return post<EncounterTransition>(`/v1/encounters/${encodeURIComponent(encounterId)}/transitions`, body, {
    idempotencyKey: newIdempotencyKey(),
    ifMatch: opts.ifMatch,
  });
}
