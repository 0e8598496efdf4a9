// publish/: the PUB socket's send queue: one send at a time, in order; droppable topics bounded.
import type { Logger } from '../log.js';
import { messageOf } from '../errors.js';
import type { SupervisedSocket } from './supervised-socket.js';
import type { Frames, Publisher as ZPub } from './zmq.js';

/** Overlays waiting for the socket beyond this are dropped (newest kept); alerts never are. */
const MAX_PENDING_DROPPABLE = 4;

/**
 * Serialises sends on the supervised PUB socket. A droppable message (overlay, preview) is not
 * queued when MAX_PENDING_DROPPABLE are already waiting; every other message waits its turn.
 */
export class SendQueue {
  private tail: Promise<void> = Promise.resolve();
  private pendingDroppable = 0;
  private closed = false;
  /** Droppable messages not sent because the socket was still busy with earlier ones. */
  dropped = 0;

  constructor(
    private readonly pub: SupervisedSocket<ZPub>,
    private readonly log: Logger,
  ) {}

  /** Queues the frames; resolves once sent (or dropped, or not sent while the socket is renewed). */
  send(frames: Frames, droppable: boolean): Promise<void> {
    if (this.closed) return Promise.resolve();
    if (droppable) {
      if (this.pendingDroppable >= MAX_PENDING_DROPPABLE) {
        this.dropped++;
        return Promise.resolve();
      }
      this.pendingDroppable++;
    }
    const done = this.tail.then(async () => {
      const socket = this.pub.socket;
      try {
        // While the socket is being re-created nothing is sent; alerts stay in the journal.
        if (!this.closed && socket) await socket.send(frames);
      } catch (err) {
        this.log.warn({ err: messageOf(err) }, 'publish failed');
        this.pub.fault(err);
      } finally {
        if (droppable) this.pendingDroppable--;
      }
    });
    this.tail = done;
    return done;
  }

  /** Waits up to `ms` for the queued sends, then sends nothing more. */
  async close(ms: number): Promise<void> {
    await Promise.race([this.tail, new Promise((r) => setTimeout(r, ms))]);
    this.closed = true;
  }
}
