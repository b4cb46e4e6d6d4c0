// The live queue board: GET /v1/queue/stream kept open (reconnecting with backoff), the
// latest board kept in state, stopped while the screen is locked.
import { useEffect, useState } from "react";
import { reportSessionEnded, needsSignIn, post, newIdempotencyKey } from "./client";
import { openStream, type StreamState } from "./sse";
import type { EncounterTransition, QueueBoard } from "./types";
import { useLocked } from "../auth/session";

export function useBoardStream(): { board: QueueBoard | null; stream: StreamState } {
  const locked = useLocked();
  const [board, setBoard] = useState<QueueBoard | null>(null);
  const [stream, setStream] = useState<StreamState>({ kind: "connecting", attempt: 1 });
  useEffect(() => {
    if (locked) return;
    return openStream("/v1/queue/stream", {
      onEvent(e) {
        if (e.event !== "board") return;
        try {
          const b = JSON.parse(e.data) as QueueBoard;
          // Keep the newest version: a reconnect may replay an older board.
          setBoard((prev) => (prev && prev.version > b.version && prev.clinicId === b.clinicId ? prev : b));
        } catch {
          // A malformed frame is skipped; the next one replaces it.
        }
      },
      onState(s) {
        setStream(s);
        if (s.kind === "stopped" && needsSignIn(s.error)) reportSessionEnded(s.error);
      },
    });
  }, [locked]);
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
