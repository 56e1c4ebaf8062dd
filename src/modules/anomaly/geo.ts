import { GeoFile } from './geo-file';

/** Great-circle distance in miles between two [lat, lon] points (haversine). */
export function milesBetween(a: [number, number], b: [number, number]): number {
  const toRad = (d: number) => (d * Math.PI) / 180;
  const R = 3958.8;
  const dLat = toRad(b[0] - a[0]);
  const dLon = toRad(b[1] - a[1]);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(toRad(a[0])) * Math.cos(toRad(b[0])) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
}

export interface GeoLocation {
  ll: [number, number];
  country: string;
  city: string;
}

let geo: GeoFile | undefined;

/**
 * Offline GeoIP from geoip-lite's bundled data, read from its files per lookup (see GeoFile): loading the
 * package would hold ~150 MB in memory for a check that runs once per login.
 */
export function locate(ip: string): GeoLocation | null {
  const hit = (geo ??= new GeoFile()).lookup(ip);
  if (!hit || (hit.ll[0] === 0 && hit.ll[1] === 0)) return null;
  return hit;
}
