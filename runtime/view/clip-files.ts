// view/: `lumen view`, the bedside monitor: an HTTP and WebSocket server that feeds the page in
// public/ from the daemon's stream, and serves the recorded clips where they are.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { basename } from 'node:path';
import { isLumenError, messageOf, type ErrorCode } from '../errors.js';
import { Catalogue } from '../record/catalogue.js';

/** HTTP status for each reason a clip cannot be had; the body names the reason and the code. */
const STATUS_OF: Partial<Record<ErrorCode, number>> = { CLIP_UNKNOWN: 404, CLIP_DELETED: 410, CLIP_INCOMPLETE: 409 };

/**
 * `GET /clips/<id>`: the video of a complete recording from this appliance's recordings folder,
 * as a download. The id is looked up in the catalogue (never used as a path), so only files the
 * recorder finished are served; the page links here when the viewer runs where the clips are.
 */
export async function serveClip(root: string, id: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const cat = await Catalogue.read(root);
    const r = cat.lookup(id);
    if (r.state !== 'complete') {
      refuse(
        res,
        409,
        `CLIP_INCOMPLETE: recording ${r.id} is ${r.state}, not complete: lumen clips export ${r.id} --incomplete --out FILE writes what there is`,
      );
      return;
    }
    const file = cat.abs(r.path);
    const size = (await stat(file)).size;
    res.writeHead(200, {
      // The recorder writes Matroska (record/writer.ts).
      'content-type': 'video/x-matroska',
      'content-length': size,
      'content-disposition': `attachment; filename="${basename(file)}"`,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    });
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    createReadStream(file)
      .on('error', (err) => res.destroy(err))
      .pipe(res);
  } catch (err) {
    const status = isLumenError(err) ? STATUS_OF[err.code] : undefined;
    if (isLumenError(err) && status) refuse(res, status, `${err.code}: ${err.message}`);
    else refuse(res, 500, `clip ${id.slice(0, 80)} cannot be read on this machine: ${messageOf(err)}`);
  }
}

function refuse(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(`${text}\n`);
}
