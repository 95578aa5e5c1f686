/**
 * Marks a Writable whose `write(chunk, callback)` calls back only once it holds no reference to
 * `chunk` any more (the bytes are in the kernel, or the write failed). A blob stream piped into
 * such a writable may lend it buffers from a pool and reuse each one after its callback, instead
 * of allocating a fresh buffer per chunk. At hundreds of MiB/s, fresh buffers are external
 * memory that V8 answers with back-to-back full collections; reused ones cost nothing.
 *
 * A plain `PassThrough` or `Transform` must not be marked: it calls back while it still queues
 * the chunk for its reader.
 *
 * @since 0.1.0
 */
export const releasesChunksOnCallback: unique symbol = Symbol.for('wharf.releasesChunksOnCallback');

/** True when `stream` is marked with {@link releasesChunksOnCallback}. */
export function releasesChunksOnCallbackOf(stream: object): boolean {
  return (stream as { [releasesChunksOnCallback]?: unknown })[releasesChunksOnCallback] === true;
}
