// onnx-proto types its int64 fields with the global `Long` of @types/long, which the compiler
// options' `types` leave out; without it those fields are an unresolved type.
/// <reference types="long" />
/**
 * Numbers read out of ONNX protobuf messages: int64 fields, node attributes and the values of
 * small constant tensors (what shape inference needs from them).
 */
import type { onnx as OnnxTypes } from 'onnx-proto';

export type NodeProto = OnnxTypes.NodeProto;
export type TensorProto = OnnxTypes.ITensorProto;
type Int = number | { toNumber(): number } | null | undefined;

/** ONNX element types that hold integers. */
const INT_TYPES = new Set([2, 3, 4, 5, 6, 7, 12, 13]);

export function num(v: Int): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

export function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function normAxis(axis: number, rank: number): number {
  return axis < 0 ? axis + rank : axis;
}

export function tensorValues(t: TensorProto, count: number): number[] | undefined {
  const type = t.dataType ?? 0;
  if (count > 4096 || !(INT_TYPES.has(type) || type === 1 || type === 11)) return undefined;
  const raw = t.rawData;
  if (raw && raw.length) {
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const size = raw.length / count;
    return Array.from({ length: count }, (_, i) => {
      if (type === 1) return view.getFloat32(i * 4, true);
      if (type === 11) return view.getFloat64(i * 8, true);
      if (type === 7) return Number(view.getBigInt64(i * 8, true));
      if (type === 13) return Number(view.getBigUint64(i * 8, true));
      if (size === 4) return type === 12 ? view.getUint32(i * 4, true) : view.getInt32(i * 4, true);
      if (size === 2) return type === 4 ? view.getUint16(i * 2, true) : view.getInt16(i * 2, true);
      return type === 3 ? view.getInt8(i) : view.getUint8(i);
    });
  }
  if (t.int64Data?.length) return t.int64Data.map(num);
  if (t.int32Data?.length) return [...t.int32Data];
  if (t.floatData?.length) return [...t.floatData];
  if (t.doubleData?.length) return [...t.doubleData];
  if (t.uint64Data?.length) return t.uint64Data.map(num);
  return count === 0 ? [] : undefined;
}

function attr(n: NodeProto, name: string): OnnxTypes.IAttributeProto | undefined {
  return n.attribute.find((a) => a.name === name);
}

export function ints(n: NodeProto, name: string): number[] | undefined {
  const a = attr(n, name);
  return a ? (a.ints ?? []).map(num) : undefined;
}

export function floats(n: NodeProto, name: string): number[] | undefined {
  const a = attr(n, name);
  return a ? [...(a.floats ?? [])] : undefined;
}

export function intAttr(n: NodeProto, name: string, fallback: number): number {
  const a = attr(n, name);
  return a ? num(a.i) : fallback;
}

export function strAttr(n: NodeProto, name: string, fallback: string): string {
  const a = attr(n, name);
  return a?.s ? new TextDecoder().decode(a.s) : fallback;
}
