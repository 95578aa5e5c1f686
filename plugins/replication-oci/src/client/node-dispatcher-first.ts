/**
 * Node's built-in fetch and the undici package share one global dispatcher slot, and whichever
 * loads first claims it. The package (undici 7) is another major version than the undici inside
 * Node 20, whose fetch cannot drive its Agent ("invalid content-length header"). Touching
 * `Headers` loads Node's own undici first, so fetch keeps its own dispatcher; this module must be
 * imported before anything that imports the `undici` package.
 */
void globalThis.Headers;
export {};
