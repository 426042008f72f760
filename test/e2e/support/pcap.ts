// Reads a tcpdump capture file (classic pcap) and returns its TCP segments with their payloads, so a
// test can say what crossed the wire between two pods: TLS records or readable HTTP.
import { readFileSync } from "node:fs";

export interface TcpSegment {
  source: string;
  destination: string;
  sourcePort: number;
  destinationPort: number;
  payload: Buffer;
}

const ETHERNET = 1;
const LINUX_SLL = 113;
const LINUX_SLL2 = 276;

export function readTcpSegments(file: string): TcpSegment[] {
  const data = readFileSync(file);
  if (data.length < 24) return [];
  const magic = data.readUInt32LE(0);
  const little = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!little && data.readUInt32BE(0) !== 0xa1b2c3d4 && data.readUInt32BE(0) !== 0xa1b23c4d) throw new Error(`${file}: not a pcap file`);
  const u32 = (offset: number) => (little ? data.readUInt32LE(offset) : data.readUInt32BE(offset));
  const linkType = u32(20) & 0xffff;
  const segments: TcpSegment[] = [];
  let offset = 24;
  while (offset + 16 <= data.length) {
    const captured = u32(offset + 8);
    const frame = data.subarray(offset + 16, offset + 16 + captured);
    offset += 16 + captured;
    let ip: number;
    if (linkType === ETHERNET) {
      let type = frame.readUInt16BE(12);
      ip = 14;
      if (type === 0x8100) {
        type = frame.readUInt16BE(16);
        ip = 18;
      }
      if (type !== 0x0800) continue;
    } else if (linkType === LINUX_SLL) {
      if (frame.readUInt16BE(14) !== 0x0800) continue;
      ip = 16;
    } else if (linkType === LINUX_SLL2) {
      if (frame.readUInt16BE(0) !== 0x0800) continue;
      ip = 20;
    } else throw new Error(`${file}: link type ${linkType} is not read here`);
    if (frame.length < ip + 20 || frame.readUInt8(ip) >> 4 !== 4 || frame.readUInt8(ip + 9) !== 6) continue;
    const ipHeader = (frame.readUInt8(ip) & 0x0f) * 4;
    const total = frame.readUInt16BE(ip + 2);
    const tcp = ip + ipHeader;
    const tcpHeader = (frame.readUInt8(tcp + 12) >> 4) * 4;
    const end = Math.min(frame.length, ip + total);
    segments.push({
      source: [...frame.subarray(ip + 12, ip + 16)].join("."),
      destination: [...frame.subarray(ip + 16, ip + 20)].join("."),
      sourcePort: frame.readUInt16BE(tcp),
      destinationPort: frame.readUInt16BE(tcp + 2),
      payload: Buffer.from(frame.subarray(tcp + tcpHeader, end)),
    });
  }
  return segments;
}
