import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

// A full collection on request: tap starts node without --expose-gc, and a leak test must know
// that what is still held is held, not merely not yet collected.
setFlagsFromString('--expose-gc');
export const gc = runInNewContext('gc') as () => void;
