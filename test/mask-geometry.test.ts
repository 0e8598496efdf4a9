import t from 'tap';
import { largestBlob, mapBoxToFrame, sampleMap, type ProbMap } from '../runtime/overlay/mask-geometry.js';

/** A map from rows of characters: '#' = 1, '+' = 0.5, '.' = 0. */
function map(rows: string[]): ProbMap {
  const height = rows.length;
  const width = rows[0].length;
  const data = new Float32Array(width * height);
  rows.forEach((r, y) => [...r].forEach((c, x) => (data[y * width + x] = c === '#' ? 1 : c === '+' ? 0.5 : 0)));
  return { width, height, data };
}

t.test('largestBlob: the largest 8-connected component at or above the threshold', async (t) => {
  const m = map(['#.......', '.#...##.', '..#..##.', '......#.', '+.......']);
  // The diagonal (3 cells, joined only through corners) loses to the 5-cell block on the right.
  t.same(largestBlob(m, 0.6), { box: { x: 5, y: 1, width: 2, height: 3 }, cells: 5 });
  // At 0.5 the half-probability cell counts (>=), but stays its own component.
  t.same(largestBlob(m, 0.5), { box: { x: 5, y: 1, width: 2, height: 3 }, cells: 5 });
  t.equal(largestBlob(m, 1.01), null, 'nothing at or above the threshold');
  t.equal(largestBlob(map(['....', '....']), 0.5), null, 'an empty map');
});

t.test('largestBlob: corners connect, ties keep the first found, edges are handled', async (t) => {
  const diag = map(['#...', '.#..', '..#.', '...#']);
  t.same(largestBlob(diag, 0.5), { box: { x: 0, y: 0, width: 4, height: 4 }, cells: 4 }, '8-connected through corners');
  const anti = map(['...#', '..#.', '.#..', '#...']);
  t.same(largestBlob(anti, 0.5), { box: { x: 0, y: 0, width: 4, height: 4 }, cells: 4 }, 'and the other diagonal');
  const tie = map(['##..##', '......']);
  t.same(largestBlob(tie, 0.5), { box: { x: 0, y: 0, width: 2, height: 1 }, cells: 2 }, 'of two equal blobs, the first in scan order');
  const later = map(['#...##', '......']);
  t.same(largestBlob(later, 0.5), { box: { x: 4, y: 0, width: 2, height: 1 }, cells: 2 }, 'a larger blob later in the scan wins');
  const full = map(['###', '###']);
  t.same(largestBlob(full, 0.5), { box: { x: 0, y: 0, width: 3, height: 2 }, cells: 6 }, 'a blob touching every edge');
  const wrap = map(['..#', '#..']);
  t.same(largestBlob(wrap, 0.5)?.cells, 1, 'the end of one row does not touch the start of the next');
  const ring = map(['#####', '#...#', '#.#.#', '#...#', '#####']);
  t.same(largestBlob(ring, 0.5), { box: { x: 0, y: 0, width: 5, height: 5 }, cells: 16 }, 'a ring is one blob, the island inside another');
  const vertical = map(['.#.', '.#.', '.#.', '...']);
  t.same(largestBlob(vertical, 0.5), { box: { x: 1, y: 0, width: 1, height: 3 }, cells: 3 });
});

t.test('mapBoxToFrame: map cells to frame pixels through the ROI', async (t) => {
  const roi = { x: 100, y: 50, width: 400, height: 300 };
  // A 4×3 map over a 400×300 ROI: 100 × 100 px per cell.
  t.same(mapBoxToFrame({ x: 1, y: 1, width: 2, height: 1 }, { width: 4, height: 3 }, roi), { x: 200, y: 150, width: 200, height: 100 });
  t.same(mapBoxToFrame({ x: 0, y: 0, width: 4, height: 3 }, { width: 4, height: 3 }, roi), roi, 'the whole map is the whole ROI');
  // Uneven scales round each edge, so neighbouring boxes share edges: 7 cells over 100 px.
  t.same(mapBoxToFrame({ x: 1, y: 2, width: 3, height: 1 }, { width: 7, height: 7 }, { x: 0, y: 0, width: 100, height: 100 }), {
    x: 14,
    y: 29,
    width: 43,
    height: 14,
  });
  t.same(mapBoxToFrame({ x: 0, y: 0, width: 1, height: 1 }, { width: 2, height: 4 }, { x: 10, y: 20, width: 30, height: 10 }), {
    x: 10,
    y: 20,
    width: 15,
    height: 3,
  });
});

t.test('sampleMap: bilinear between cell centres, clamped at the edges', async (t) => {
  const m: ProbMap = { width: 2, height: 2, data: Float32Array.from([0, 1, 0.5, 0.25]) };
  t.equal(sampleMap(m, 0.5, 0.5), 0, 'a cell centre gives the cell');
  t.equal(sampleMap(m, 1.5, 0.5), 1);
  t.equal(sampleMap(m, 0.5, 1.5), 0.5);
  t.equal(sampleMap(m, 1.5, 1.5), 0.25);
  t.equal(sampleMap(m, 1, 0.5), 0.5, 'halfway along the top row');
  t.equal(sampleMap(m, 0.5, 1), 0.25, 'halfway down the left column');
  t.equal(sampleMap(m, 1, 1), 0.4375, 'the middle: the mean of four');
  t.equal(sampleMap(m, 1.25, 0.75), 0.640625, 'three quarters right, one quarter down');
  t.equal(sampleMap(m, -3, -3), 0, 'clamped before the first centre');
  t.equal(sampleMap(m, 9, 9), 0.25, 'clamped past the last centre');
  t.equal(sampleMap(m, 9, 0), 1, 'clamped on one axis only');
  const row: ProbMap = { width: 3, height: 1, data: Float32Array.from([0, 0.5, 1]) };
  t.equal(sampleMap(row, 2, 0.5), 0.75);
  t.equal(sampleMap(row, 2.5, 5), 1);
});

t.test('largestBlob: cells exactly at the threshold seed and join blobs; a one-cell corner blob', async (t) => {
  t.same(largestBlob(map(['++', '..']), 0.5), { box: { x: 0, y: 0, width: 2, height: 1 }, cells: 2 }, 'a blob made only of cells at the threshold');
  t.same(largestBlob(map(['#+.', '...']), 0.5), { box: { x: 0, y: 0, width: 2, height: 1 }, cells: 2 }, 'a neighbour at the threshold joins');
  t.same(largestBlob(map(['#.', '..']), 0.5), { box: { x: 0, y: 0, width: 1, height: 1 }, cells: 1 }, 'a single cell in the corner');
  t.same(largestBlob(map(['...', '..#']), 0.5), { box: { x: 2, y: 1, width: 1, height: 1 }, cells: 1 }, 'and in the far corner');
  const edges = map(['..#', '#..', '..#']);
  t.same(largestBlob(edges, 0.5)?.cells, 1, 'no wrap from a row end to the next row start, either way');
});

t.test('sampleMap: vertical interpolation away from the first row', async (t) => {
  const col: ProbMap = { width: 1, height: 3, data: Float32Array.from([0, 0.5, 1]) };
  t.equal(sampleMap(col, 0.5, 2), 0.75, 'between the second and third centre');
  t.equal(sampleMap(col, 0.5, 1.75), 0.625);
});
