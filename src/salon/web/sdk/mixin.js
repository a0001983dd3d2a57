// salon browser SDK: `install`, how a class split across files is put back together.
// media.js (MediaSession, parts in media/*.js) and salon.js (SalonClient, parts in
// client/*.js) each define their class in one file and install the methods of its parts
// on it (mixins): `this` stays the one object, so every field is where it was.

/**
 * Install the methods (and static methods) of each part on `target` as if written in its
 * class body: same names, not enumerable. A name defined twice is a mistake, not an override.
 */
export function install(target, ...parts) {
  for (const part of parts) {
    for (const [from, to] of [[part.prototype, target.prototype], [part, target]]) {
      for (const name of Object.getOwnPropertyNames(from)) {
        if (["constructor", "prototype", "length", "name"].includes(name)) continue;
        if (Object.prototype.hasOwnProperty.call(to, name)) throw new Error(`${target.name}.${name} is defined twice`);
        Object.defineProperty(to, name, Object.getOwnPropertyDescriptor(from, name));
      }
    }
  }
}
