import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import ipaddr from 'ipaddr.js';

/**
 * geoip-lite's bundled data (MaxMind GeoLite, city level) read from its files on demand instead of loaded into
 * memory: `require('geoip-lite')` reads ~146 MB into Buffers at load, a large share of the process's resident
 * memory for a lookup that runs once per successful login. The files are sorted range tables, so a lookup is a
 * binary search of ~23 small positional reads (the kernel's page cache keeps the hot pages, outside our RSS).
 * Same files, same records, same answers as `geoip-lite`'s `lookup` (geo-file.spec.ts compares them).
 *
 * Layout (geoip-lite 1.4): geoip-city.dat, 24-byte records `start u32, end u32, locId u32, lat i32, lon i32,
 * area u32` (lat/lon × 10000); geoip-city6.dat, 48-byte records `start 16 bytes, end 16 bytes, locId, lat,
 * lon, area` (compared on the first 64 bits, as geoip-lite does); geoip-city-names.dat, 88-byte records with
 * the country at 0..2 and the city at 42..88, NUL-padded.
 */
export interface GeoRecord {
  ll: [number, number];
  country: string;
  city: string;
}

const V4_RECORD = 24;
const V6_RECORD = 48;
const NAME_RECORD = 88;
const NO_LOCATION = 0xffffffff;

interface Table {
  fd: number;
  records: number;
}

/** 10/8, 172.16/12, 192.168/16: geoip-lite answers null for them. */
const PRIVATE_V4: [number, number][] = [
  [0x0a000000, 0x0affffff],
  [0xac100000, 0xac1fffff],
  [0xc0a80000, 0xc0a8ffff],
];

export class GeoFile {
  private v4?: Table;
  private v6?: Table;
  private names?: number;
  private readonly scratch = Buffer.alloc(NAME_RECORD);

  constructor(private readonly dir = GeoFile.defaultDir()) {}

  /** geoip-lite's data folder (GEODATADIR as geoip-lite reads it, else the package's own). */
  static defaultDir(): string {
    const pkg = dirname(require.resolve('geoip-lite/package.json'));
    return process.env.GEODATADIR ? join(pkg, 'lib', process.env.GEODATADIR) : join(pkg, 'data');
  }

  lookup(ip: string): GeoRecord | null {
    // Dotted quads and IPv6 only (ipaddr.js would also take forms like "1.2.3" or hex octets).
    if (!isIP(ip)) return null;
    let addr: ipaddr.IPv4 | ipaddr.IPv6 = ipaddr.parse(ip);
    if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress())
      addr = (addr as ipaddr.IPv6).toIPv4Address();
    return addr.kind() === 'ipv4' ? this.lookup4(addr.toByteArray()) : this.lookup6(addr.toByteArray());
  }

  close(): void {
    for (const fd of [this.v4?.fd, this.v6?.fd, this.names]) if (fd !== undefined) closeSync(fd);
    this.v4 = this.v6 = this.names = undefined;
  }

  private lookup4(bytes: number[]): GeoRecord | null {
    const ip = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
    if (PRIVATE_V4.some(([lo, hi]) => ip >= lo && ip <= hi)) return null;
    const table = (this.v4 ??= this.open('geoip-city.dat', V4_RECORD));
    const record = this.search(table, V4_RECORD, (buf) => {
      const start = buf.readUInt32BE(0);
      return ip < start ? -1 : ip > buf.readUInt32BE(4) ? 1 : 0;
    });
    return record && this.decode(record, 8);
  }

  private lookup6(bytes: number[]): GeoRecord | null {
    const key = Buffer.from(bytes.slice(0, 8)).readBigUInt64BE(0);
    const table = (this.v6 ??= this.open('geoip-city6.dat', V6_RECORD));
    const record = this.search(table, V6_RECORD, (buf) => {
      if (key < buf.readBigUInt64BE(0)) return -1;
      return key > buf.readBigUInt64BE(16) ? 1 : 0;
    });
    return record && this.decode(record, 32);
  }

  /** Binary search over the sorted, disjoint ranges; `cmp` < 0: the ip is before the record, > 0: after. */
  private search(table: Table, size: number, cmp: (record: Buffer) => number): Buffer | null {
    const buf = Buffer.alloc(size);
    let lo = 0;
    let hi = table.records - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      readSync(table.fd, buf, 0, size, mid * size);
      const c = cmp(buf);
      if (c === 0) return buf;
      if (c < 0) hi = mid - 1;
      else lo = mid + 1;
    }
    return null;
  }

  private decode(record: Buffer, at: number): GeoRecord | null {
    const locId = record.readUInt32BE(at);
    if (locId === NO_LOCATION) return null;
    const lat = record.readInt32BE(at + 4) / 10000;
    const lon = record.readInt32BE(at + 8) / 10000;
    const names = (this.names ??= openSync(join(this.dir, 'geoip-city-names.dat'), 'r'));
    readSync(names, this.scratch, 0, NAME_RECORD, locId * NAME_RECORD);
    // NUL-padded fields: the text ends at the first NUL.
    const text = (from: number, to: number) => {
      const end = this.scratch.indexOf(0, from);
      return this.scratch.toString('utf8', from, end >= 0 && end < to ? end : to);
    };
    return { ll: [lat, lon], country: text(0, 2), city: text(42, NAME_RECORD) };
  }

  private open(file: string, size: number): Table {
    const fd = openSync(join(this.dir, file), 'r');
    return { fd, records: Math.floor(fstatSync(fd).size / size) };
  }
}
