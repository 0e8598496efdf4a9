/** How one of the daemon's sockets is doing (lumen.status `publisher`). */
export interface SocketHealth {
  /** ok: serving; restarting: failed and being re-created; closed: the daemon is stopping. */
  state: 'ok' | 'restarting' | 'closed';
  /** Times the socket was re-created after a failure. */
  restarts: number;
  /** Failures seen (a failed loop, send or re-bind). */
  failures: number;
  lastError: string | null;
  /** When lastError happened, ms since the epoch. */
  lastErrorAt: number | null;
}

/** The publish stage's sockets, in lumen.status as `publisher`. */
export interface PublisherHealth {
  /** The PUB socket; `droppedOverlays`: overlays and previews not sent because it was busy. */
  pub: SocketHealth & { droppedOverlays: number };
  /**
   * The history endpoint: `served` requests answered, `refused` of them with an error reply,
   * `ignored` messages without a request envelope (bytes from something that is not a client).
   */
  history: SocketHealth & { served: number; refused: number; ignored: number };
  /** The CURVE authentication handler, when CURVE is on. */
  zap?: SocketHealth;
}
