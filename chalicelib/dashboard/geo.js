// The Earth as Web Mercator's sphere: distances between positions, and the projection.

export const EARTH_RADIUS = 6378137; // metres

export function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS * Math.asin(Math.min(1, Math.sqrt(h)));
}

// Degrees to the unit Mercator plane: x and y in radians, north up.
export function project(lat, lon) {
  const rad = Math.PI / 180;
  return { x: lon * rad, y: Math.log(Math.tan(Math.PI / 4 + (lat * rad) / 2)) };
}

// The latitude, in radians, of a height on that plane.
export function latitudeOf(y) {
  return 2 * Math.atan(Math.exp(y)) - Math.PI / 2;
}
